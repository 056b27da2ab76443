"""Generated bodies, headers and files posted to every upload, import and hook endpoint: the answer
is never a 5xx, and a refused request leaves no row behind."""
from __future__ import annotations

import io
import json
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.inbox.channels import email_in, twilio
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256

EXAMPLES = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Rows each endpoint may write: a refused request must leave every count as it was.
WATCHED_TABLES = ("supplier_imports", "inventory_items", "batches", "batch_rows", "price_lists", "price_list_entries",
                  "products", "product_images", "tech_files", "messages", "conversations", "customers")


@pytest.fixture
def app_config(app_config):
    # Hooks are rate-limited per address; the examples would otherwise mostly test the limiter. (Not
    # RATELIMIT_ENABLED: the limiter is one object, and switching it off would outlast this test.)
    return dict(app_config, INBOX_HOOK_LIMIT="100000 per minute")


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 200).save(out, "PNG")
    return out.getvalue()


cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
csv_text = st.lists(st.lists(cells, min_size=1, max_size=6), min_size=1, max_size=8).flatmap(
    lambda rows: st.sampled_from([",", ";", "\t", "|"]).map(
        lambda sep: "\n".join(sep.join(row) for row in rows).encode()))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cells,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(cells, inner, max_size=4),
                           max_leaves=20)
nested = st.integers(1, 50_000).map(lambda n: b"[" * n + b"]" * n) | \
    st.integers(1, 50_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
huge_field = st.integers(131_000, 300_000).map(lambda n: b"name,sku\n" + b"x" * n) | \
    st.integers(131_000, 300_000).map(lambda n: b"x" * n)  # one line, no newline at all
images = st.tuples(st.integers(1, 40), st.sampled_from([1, 2, 20_000, 100_000])).map(lambda wh: _png(*wh))
file_bodies = st.one_of(st.binary(max_size=3000), csv_text, json_values.map(lambda v: json.dumps(v).encode()),
                        nested, huge_field, images, st.just(b""))
file_names = st.sampled_from(["export.csv", "export.json", "export.json.gz", "photo.png", "photo.jpg", "notes.txt", "",
                              "ü" * 300 + ".csv", "../../etc/passwd", "a\x00b.csv"])
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "application/json; charset=utf-8; charset=utf-8", "multipart/form-data",
                                 "application/octet-stream"])


def _counts() -> dict[str, int]:
    db.session.rollback()
    tables = db.metadata.tables
    return {name: db.session.scalar(select(func.count()).select_from(tables[name]))
            for name in WATCHED_TABLES if name in tables}


def _post(client, url: str, **kwargs):
    before = _counts()
    try:
        response = client.post(url, **kwargs)
    except Exception as exc:  # the test app lets errors through: that is the 500 a user would get
        pytest.fail(f"POST {url} raised {type(exc).__name__}: {exc}")
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert _counts() == before, f"POST {url} answered {response.status_code} and left rows behind"
    return response


@EXAMPLES
@given(body=file_bodies, name=file_names)
def test_supplier_import_upload(manager_client, body, name):
    _post(manager_client, "/inventory/imports", data={"file": (io.BytesIO(body), name), "default_currency": "EUR"},
          content_type="multipart/form-data")


@EXAMPLES
@given(body=file_bodies, name=file_names)
def test_batch_upload(manager_client, body, name):
    _post(manager_client, "/batches/upload", data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


@EXAMPLES
@given(body=file_bodies, name=file_names, currency=header_text)
def test_price_list_upload(manager_client, body, name, currency):
    _post(manager_client, "/price-lists", data={"file": (io.BytesIO(body), name), "currency": currency, "name": ""},
          content_type="multipart/form-data")


@EXAMPLES
@given(bodies=st.lists(file_bodies, min_size=1, max_size=3), name=file_names, hint=header_text)
def test_photo_upload(manager_client, bodies, name, hint):
    files = [(io.BytesIO(body), name) for body in bodies]
    _post(manager_client, "/products/new", data={"images": files, "hint_name": hint}, content_type="multipart/form-data")


@pytest.fixture
def tech_file(org, manager):
    from app.techfiles import services
    from app.techfiles.models import FileType
    from tests.techfiles.helpers import make_product

    product = make_product(org, manager, photos=("label.webp",))
    new = services.NewFile(sha256=None, mime=None, width=None, height=None, generator="test")
    made = services.add_version(org_id=org.id, product_id=product.id, revision="1", file_type=FileType.SKETCH,
                                view="front", category="", new=new, by_id=manager.id, action="created")
    db.session.commit()
    return made.id


@EXAMPLES
@given(body=file_bodies, name=file_names)
def test_tech_file_replacement(manager_client, tech_file, body, name):
    _post(manager_client, f"/techfiles/files/{tech_file}/replace", data={"file": (io.BytesIO(body), name)},
          content_type="multipart/form-data")


@pytest.fixture
def hook(app, org):
    from tests.inbox.helpers import channel

    return channel(org.id)


hook_bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                        st.fixed_dictionaries({}, optional={
                            "from": json_values, "text": json_values, "id": json_values, "channel": json_values,
                            "subject": json_values, "name": json_values, "attachments": json_values,
                        }).map(lambda v: json.dumps(v).encode()),
                        nested, st.binary(max_size=2000))
signatures = st.sampled_from(["valid", "wrong", "non-ascii", "missing"])


def _signature(kind: str, secret: str, body: bytes, junk: str) -> dict:
    if kind == "valid":
        return {SIGNATURE_HEADER: hmac_sha256(secret, body)}
    if kind == "non-ascii":
        return {SIGNATURE_HEADER: "sha256=" + junk + "é"}
    return {SIGNATURE_HEADER: junk} if kind == "wrong" else {}


HOOK_EXAMPLES = settings(EXAMPLES, phases=[Phase.explicit, Phase.reuse, Phase.generate])
MAILGUN_KEY = "key-mailgun-signing-0123456789"


@pytest.fixture
def channels(app, org):
    from app.inbox.channels import services as channel_services
    from tests.inbox.helpers import twilio_channel

    mailgun = channel_services.channel_create(
        org_id=org.id, kind="email", provider="mailgun", name="Orders", address="orders@acme.test", settings={},
        secrets={"signing_key": MAILGUN_KEY}, hook_url_for=lambda token, p: f"http://localhost/hooks/ch/{token}/{p}",
        by=None)
    return {"twilio": twilio_channel(org.id), "mailgun": mailgun}


@HOOK_EXAMPLES
@given(body=hook_bodies, kind=signatures, junk=header_text, content_type=content_types)
def test_json_hook(client, hook, body, kind, junk, content_type):
    headers = {**_signature(kind, hook.json_secret, body, junk), "Content-Type": content_type}
    _post(client, f"/hooks/{hook.hook_token}/json", data=body, headers=headers, csrf=False)


@HOOK_EXAMPLES
@given(fields=st.dictionaries(st.sampled_from(["from", "sender", "subject", "body-plain", "Message-Id", "x"]),
                              header_text, max_size=5), signed=st.booleans(), junk=header_text)
def test_mailgun_hook(client, channels, fields, signed, junk):
    timestamp, token = str(int(time.time())), "tok-" + "a" * 46
    signature = email_in.mailgun_signature(MAILGUN_KEY, timestamp, token) if signed else junk + "é"
    form = {**fields, "timestamp": timestamp, "token": token, "signature": signature}
    _post(client, channels["mailgun"].hook_url, data=form, csrf=False)


@HOOK_EXAMPLES
@given(fields=st.dictionaries(st.sampled_from(["From", "Body", "MessageSid", "NumMedia", "MediaUrl0", "ProfileName"]),
                              header_text, max_size=6), signed=st.booleans(), junk=header_text)
def test_twilio_hook(client, channels, fields, signed, junk):
    row = channels["twilio"]
    signature = twilio.signature(row.secrets["auth_token"], row.hook_url, fields.items()) if signed else junk + "é"
    _post(client, row.hook_url, data=fields, headers={"X-Twilio-Signature": signature}, csrf=False)
