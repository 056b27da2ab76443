"""The optional online GTIN look-up, against a local stand-in for the Open Food Facts API v2."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from app.pipeline.models import PipelineLog, Product, ProductStatus
from app.refdata import lookup
from app.refdata.models import ReferenceProduct
from tests.pipeline.helpers import EAN, EAN_PHOTO, create_product

KNOWN = {EAN: {"product_name": "Nineteen Eighty-Four", "brands": "Penguin Books", "quantity": "1 book",
               "categories_tags": ["en:books", "en:novels"], "image_url": "https://img/1984.jpg"},
         "3017620422003": {"product_name": "Nutella", "brands": "Ferrero"}}


class _OpenFoodFacts(BaseHTTPRequestHandler):
    mode = "normal"  # normal | slow | garbage | error
    calls: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).calls.append(self.path)
        code = self.path.split("/api/v2/product/")[-1].split(".json")[0]
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "garbage":
            return self._send(200, b"<html>maintenance</html>", "text/html")
        if self.mode == "error":
            return self._send(503, b'{"error": "busy"}')
        if code in KNOWN:
            body = {"code": code, "status": 1, "status_verbose": "product found", "product": KNOWN[code]}
            return self._send(200, json.dumps(body).encode())
        body = {"code": code, "status": 0, "status_verbose": "product not found"}
        return self._send(404, json.dumps(body).encode())

    def _send(self, status, data, kind="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client gave up on a slow answer: expected here


@pytest.fixture
def provider(app):
    _OpenFoodFacts.mode, _OpenFoodFacts.calls = "normal", []
    server = _Server(("127.0.0.1", 0), _OpenFoodFacts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["GTIN_LOOKUP_URL"] = f"http://127.0.0.1:{server.server_port}"
    app.config["GTIN_LOOKUP_TIMEOUT"] = 0.5
    yield _OpenFoodFacts
    server.shutdown()


def test_off_by_default(app):
    assert not lookup.lookup_enabled()


def test_found_answers_are_kept_with_their_source(app, provider):
    entry, note = lookup.lookup_online("3017620422003")
    assert entry.name == "Nutella" and entry.brand == "Ferrero" and entry.source.startswith("127.0.0.1:")
    assert "knows it as “Nutella”" in note.message
    assert "fields=code" in provider.calls[0]
    db.session.commit()
    assert db.session.get(ReferenceProduct, "3017620422003").source == entry.source
    assert lookup.find(["3017620422003"])["3017620422003"].name == "Nutella"


def test_unknown_is_remembered_for_a_day(app, provider):
    entry, note = lookup.lookup_online("4006381333931")
    assert entry is None and "does not know" in note.message
    entry, note = lookup.lookup_online("4006381333931")
    assert entry is None and "in the last day" in note.message and len(provider.calls) == 1


@pytest.mark.parametrize("mode, words", [("slow", "no answer within 0.5 s"), ("garbage", "not JSON"),
                                         ("error", "not an Open Food Facts product answer")])
def test_provider_trouble_never_raises(app, provider, mode, words):
    provider.mode = mode
    entry, note = lookup.lookup_online("3017620422003")
    assert entry is None and note.level == "warning" and words in note.message


def test_pipeline_uses_the_look_up_and_logs_it(org, manager, run_jobs, later_phases, provider):
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.status == ProductStatus.COMPLETED and product.name == "Nineteen Eighty-Four"
    assert product.evidence["reference"]["source"].startswith("127.0.0.1:")
    messages = db.session.scalars(select(PipelineLog.message).where(PipelineLog.product_id == product.id)).all()
    assert any("knows it as “Nineteen Eighty-Four”" in m for m in messages)


def test_a_provider_that_times_out_never_fails_the_phase(org, manager, run_jobs, later_phases, provider):
    provider.mode = "slow"
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.status == ProductStatus.NEEDS_REVIEW and product.phase("analysis").error is None
    messages = db.session.scalars(select(PipelineLog.message).where(PipelineLog.product_id == product.id)).all()
    assert any("look-up at 127.0.0.1" in m and "no answer within" in m for m in messages)
