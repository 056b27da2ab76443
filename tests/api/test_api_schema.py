"""schemathesis against the app with a valid token: generated requests for every operation of the
OpenAPI document, no 5xx, and every answer matching the document.

The operations are driven from a plain test (schemathesis' own pytest plugin does not load on this
pytest), each with a bounded number of generated examples."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from app.accounts.tokens import ALL_SCOPES, token_create
from app.inventory.services import item_create
from tests.attention.helpers import batch_with_failed_rows, product_in_review
from tests.pipeline.helpers import create_product

EXAMPLES_PER_OPERATION = 15


def test_every_operation_keeps_to_the_document(app, admin, org):
    item_create(org_id=org.id, by=None, initial_stock=3, sku="RING-1", title="Silver ring", price="20.00",
                currency="EUR")
    # A row of every resource, so generated ids sometimes name one (most name nothing: a 404).
    create_product(org, admin, start=False)
    product_in_review(org)
    batch_with_failed_rows(org, admin)
    _, secret = token_create(user=admin, name="schemathesis", scopes=list(ALL_SCOPES), expires_days=1)
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # A request of the right shape can still break a warehouse rule (an item of another organisation,
    # a change of zero): 422 with the reason is the documented answer, not a rejected schema.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx", "3xx", "401", "403", "404", "409", "422", "429"]
    headers = {"Authorization": f"Bearer {secret}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    assert {("POST", "/api/v1/products"), ("POST", "/api/v1/batches"), ("POST", "/api/v1/batches/{batch_id}/start"),
            ("GET", "/api/v1/batches/{batch_id}/rows"), ("GET", "/api/v1/attention"),
            ("POST", "/api/v1/attention/{item_key}/snooze")} <= {(o.method.upper(), o.path) for o in operations}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case):
            case.call_and_validate(headers=headers)

        check()
