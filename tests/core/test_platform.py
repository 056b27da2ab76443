"""Queue, worker, live events, health, error pages and upload limits."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from app.core import events
from app.core.models import WorkerPing
from app.core.queue import enqueue, get_queue
from app.extensions import db


def test_ping_goes_through_a_real_worker_and_updates_the_card(admin_client, run_jobs, org):
    response = admin_client.post("/dashboard/ping", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"waiting for a worker" in response.data
    assert get_queue("high").count == 1
    assert run_jobs() == 1
    ping = db.session.scalar(select(WorkerPing))
    assert ping.answered_at is not None and ping.worker_name and ping.organisation_id == org.id
    card = admin_client.get("/dashboard/cards/workers")
    assert b"answered by" in card.data and ping.worker_name.encode() in card.data


def test_answering_a_ping_twice_changes_nothing(app, admin, run_jobs):
    from app.core import pings

    ping = pings.ping_request(org_id=admin.organisation_id, by=admin)
    run_jobs()
    first = db.session.get(WorkerPing, ping.id).answered_at
    pings.ping_answer(ping_id=ping.id, worker_name="another")
    again = db.session.get(WorkerPing, ping.id)
    assert again.answered_at == first and again.worker_name != "another"


def test_nothing_is_enqueued_or_published_for_a_rolled_back_transaction(app, admin):
    from app.core.queue import enqueue_after_commit
    from app.core.tasks import answer_ping

    enqueue_after_commit(answer_ping, 1, queue="high")
    db.session.rollback()
    db.session.commit()
    assert get_queue("high").count == 0


def _next_chunk(iterator, deadline: float = 5.0) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        chunk = next(iterator)
        if chunk:
            return chunk.decode() if isinstance(chunk, bytes) else chunk
    raise AssertionError("no data")


def test_event_stream_carries_only_own_organisation_and_heartbeats(app, admin_client, admin, other_org):
    app.config["SSE_HEARTBEAT_SECONDS"] = 1
    response = admin_client.get("/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert _next_chunk(chunks).startswith(": connected")
    broker = events.get_broker()
    assert broker.ready.wait(5)
    events.publish(other_org.id, "secret", {"x": 1})
    events.publish(admin.organisation_id, "product-changed", {"id": 7})
    chunk = _next_chunk(chunks)
    assert chunk.startswith("event: product-changed") and json.loads(chunk.split("data: ")[1]) == {"id": 7}
    assert _next_chunk(chunks) == ": ping\n\n"  # the other organisation's event never arrives
    assert broker.subscriber_count() == 1
    response.close()  # the browser went away: the subscription is freed
    assert broker.subscriber_count() == 0


def test_event_stream_needs_login(client):
    assert client.get("/events").status_code == 401


def test_healthz_reports_each_component_to_an_admin(admin_client):
    response = admin_client.get("/healthz")
    assert response.status_code == 200
    report = response.get_json()
    assert report["components"]["database"]["status"] == "ok"
    assert report["components"]["redis"]["status"] == "ok"
    assert report["components"]["workers"]["status"] == "down"  # no worker runs in this test
    assert report["components"]["ocr"]["status"] == "ok" and "models shipped" in report["components"]["ocr"]["detail"]
    assert report["components"]["barcodes"]["status"] == "ok"
    assert report["status"] == "degraded"
    assert all("latency_ms" in c for c in report["components"].values())


def test_failed_job_shows_traceback_and_can_be_retried(admin_client, run_jobs, org, other_org):
    enqueue("tests.core.jobs_for_tests.explode", "boom for acme", org_id=org.id)
    enqueue("tests.core.jobs_for_tests.explode", "boom for rival", org_id=other_org.id)
    run_jobs()
    page = admin_client.get("/admin/jobs")
    assert b"boom for acme" in page.data and b"RuntimeError" in page.data
    assert b"boom for rival" not in page.data
    from rq.registry import FailedJobRegistry
    job_id = next(j for j in FailedJobRegistry(queue=get_queue()).get_job_ids()
                  if "acme" in str(get_queue().fetch_job(j).args))
    assert admin_client.post(f"/admin/jobs/{job_id}/retry").status_code == 302
    assert get_queue().count == 1


def test_error_pages_are_inside_the_layout(admin_client):
    response = admin_client.get("/no/such/page")
    assert response.status_code == 404 and b"Not found" in response.data and b"Logout" in response.data
    partial = admin_client.get("/no/such/page", headers={"HX-Request": "true"})
    assert partial.status_code == 404 and b"<html" not in partial.data and b"toast" in partial.data


def test_oversized_request_is_413_with_a_clear_page(app, admin_client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = admin_client.post("/admin/users", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert b"larger than the server accepts" in response.data


def test_the_health_check_of_ocr_does_not_load_the_models_into_the_web_process():
    import subprocess
    import sys

    from tests.conftest import ROOT

    # A fresh interpreter: this test process may have loaded the models for other tests already.
    probe = ("import sys; from app.core import health; print(health._ocr()[0], "
             "sorted(m for m in ('onnxruntime', 'rapidocr_onnxruntime', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "ok []", out.stderr[-2000:]


def test_the_web_process_does_not_load_numpy_for_its_pages():
    import subprocess
    import sys

    from tests.conftest import ROOT

    # numpy is for the analysers and generators, which run in workers: about 14 MB of every web
    # process otherwise. A fresh interpreter, as gunicorn's would be.
    probe = ("import sys; from app import create_app; create_app(); "
             "import app.techfiles.views, app.pipeline.views, app.analysis.ocr; print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_a_deferred_module_is_the_module_once_used():
    from app.core.deferred import DeferredModule

    deferred = DeferredModule("json")
    assert deferred.dumps([1]) == "[1]" and "json" in repr(deferred)


def test_a_transactions_events_leave_together_after_its_commit(app, admin, monkeypatch):
    round_trips = []
    monkeypatch.setattr(events, "publish_all", lambda batch: round_trips.append(list(batch)))
    events.publish_after_commit(admin.organisation_id, "product-changed", {"product_id": 1})
    events.publish_after_commit(admin.organisation_id, "pipeline-log", {"product_id": 1})
    assert round_trips == []
    db.session.commit()
    assert round_trips == [[(admin.organisation_id, "product-changed", {"product_id": 1}),
                            (admin.organisation_id, "pipeline-log", {"product_id": 1})]]
    events.publish_after_commit(admin.organisation_id, "product-changed", {"product_id": 2})
    db.session.rollback()
    events.publish_after_commit(admin.organisation_id, "product-changed", {"product_id": 3})
    db.session.commit()
    assert round_trips[1:] == [[(admin.organisation_id, "product-changed", {"product_id": 3})]]
