"""The one outbound HTTP client against a local stand-in: retries only where safe, size limits, bodies, auth."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core import http


class StandIn:
    """Answers each request with the next (status, body, headers, delay) in turn; the last one repeats."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, data, headers, delay = outer.answers[min(len(outer.requests), len(outer.answers)) - 1]
                time.sleep(delay)
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815 (http.server's naming)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    made = []

    def make(*answers):
        defaults = (200, b"", {}, 0)  # status, body, headers, seconds to wait before answering
        server = StandIn([tuple(a) + defaults[len(a):] for a in answers])
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_get_json_keeps_its_api(stand_in):
    server = stand_in((200, b'{"ok": true}'))
    assert http.get_json(server.url + "/x") == (200, {"ok": True})
    assert server.requests[0]["headers"]["User-Agent"].startswith("Stockroom/")


def test_transient_statuses_are_retried_only_when_the_caller_allows(stand_in):
    server = stand_in((503, b"busy", {"Retry-After": "0"}), (200, b"{}"))
    first = http.request("GET", server.url, retries=0)
    assert (first.status, first.attempts, first.retried) == (503, 1, False)
    server.requests.clear()
    answer = http.request("POST", server.url, json={"a": 1}, retries=2, backoff=0.01)
    assert (answer.status, answer.attempts, answer.retried) == (200, 2, True)
    assert [r["body"] for r in server.requests] == [b'{"a": 1}'] * 2


def test_client_errors_and_exhausted_retries_are_answers_not_failures(stand_in):
    assert http.request("GET", stand_in((404, b"no")).url, retries=3).attempts == 1
    server = stand_in((500, b"boom"))
    answer = http.request("GET", server.url, retries=2, backoff=0.01)
    assert (answer.status, answer.attempts, answer.text()) == (500, 3, "boom") and len(server.requests) == 3


def test_a_refused_connection_is_retried_and_reported(stand_in):
    with pytest.raises(http.HttpFailure) as failure:
        http.request("POST", f"http://127.0.0.1:{_closed_port()}/", body=b"x", retries=1, backoff=0.01)
    assert failure.value.reason == "could not connect" and failure.value.attempts == 2


def test_a_timeout_is_retried_for_a_get_but_never_for_a_post(stand_in):
    server = stand_in((200, b"{}", {}, 0.6))
    with pytest.raises(http.HttpFailure) as failure:
        http.request("POST", server.url, json={}, timeout=0.2, retries=2, backoff=0.01)
    assert failure.value.reason == "no answer within 0.2 s" and failure.value.attempts == 1
    with pytest.raises(http.HttpFailure) as failure:
        http.request("GET", server.url, timeout=0.2, retries=1, backoff=0.01)
    assert failure.value.attempts == 2


def test_answers_over_the_size_limit_fail_or_are_cut_short(stand_in):
    server = stand_in((200, b"x" * 5000))
    with pytest.raises(http.HttpFailure, match="larger than"):
        http.request("GET", server.url, max_bytes=2048)
    assert http.request("GET", server.url, max_bytes=2048, truncate=True).body == b"x" * 2048


def test_forms_multipart_and_auth(stand_in):
    server = stand_in((201, b'{"sid": "S1"}'))
    http.request("POST", server.url, form={"To": "+1 555", "Body": "hi & bye"}, auth=("AC1", "tok"))
    sent = server.requests[-1]
    assert sent["body"] == b"To=%2B1+555&Body=hi+%26+bye"
    assert sent["headers"]["Authorization"] == "Basic QUMxOnRvaw=="
    http.request("POST", server.url + "/images/edits", fields={"model": "m-1"}, bearer="k",
                 files=[http.File("image", "a.png", "image/png", b"\x89PNGdata")])
    sent = server.requests[-1]
    boundary = sent["headers"]["Content-Type"].split("boundary=")[1]
    assert sent["headers"]["Authorization"] == "Bearer k"
    assert f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm-1\r\n'.encode() in sent["body"]
    assert b'name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNGdata\r\n' in sent["body"]
    assert sent["body"].endswith(f"--{boundary}--\r\n".encode())


def test_query_parameters_and_json_errors(stand_in):
    server = stand_in((200, b"<html>"))
    answer = http.request("GET", server.url + "/p?a=1", params={"gtin": "123", "name": "mug & cup"})
    assert server.requests[-1]["path"] == "/p?a=1&gtin=123&name=mug+%26+cup"
    with pytest.raises(http.HttpFailure, match="not JSON"):
        answer.json()


def test_only_http_addresses(stand_in):
    with pytest.raises(http.HttpFailure, match="only http"):
        http.request("GET", "file:///etc/passwd")
