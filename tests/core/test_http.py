"""The one outbound HTTP client against a local stand-in: retries only where safe, size limits, bodies, auth,
and the guard against calls into the network (the stand-ins on 127.0.0.1 are allowed by the test config)."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core import http

pytestmark = pytest.mark.usefixtures("app")  # the allow-list of the test config (OUTBOUND_ALLOW_CIDRS)


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
    assert failure.value.reason == "could not connect" and failure.value.attempts == 1
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


# --- the guard (issue 19: outgoing requests reached internal addresses) ---------------------------

@pytest.fixture
def no_allow_list(app):
    app.config.update(OUTBOUND_ALLOW_CIDRS="", OUTBOUND_ALLOW_HOSTS="")
    yield
    app.config.update(OUTBOUND_ALLOW_CIDRS="127.0.0.1/32")


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/", "http://localhost:{port}/", "http://[::1]:{port}/",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/", "http://0.0.0.0:{port}/",
                                 "http://[::ffff:127.0.0.1]:{port}/", "http://[fd00:ec2::254]/", "http://100.64.0.1/"])
def test_internal_addresses_are_refused_without_an_allow_list(stand_in, no_allow_list, url):
    server = stand_in((200, b"secret"))
    with pytest.raises(http.HttpFailure) as failure:
        http.request("GET", url.format(port=server.server.server_address[1]), timeout=1)
    assert failure.value.reason == "could not connect"
    assert server.requests == []


def test_the_allow_list_is_what_lets_a_local_address_through(stand_in, app, no_allow_list):
    server = stand_in((200, b"{}"))
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    assert http.request("GET", server.url).status == 200
    app.config.update(OUTBOUND_ALLOW_HOSTS="", OUTBOUND_ALLOW_CIDRS="127.0.0.0/8")
    assert http.request("GET", server.url).status == 200


def test_every_connection_failure_reads_the_same(stand_in, no_allow_list, app):
    """Closed port, port that does not speak HTTP, blocked address, unknown host, timeout: one reason."""
    app.config["OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(1)

    def speak_garbage():
        conn, _ = garbage.accept()
        conn.recv(1024)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        conn.close()

    threading.Thread(target=speak_garbage, daemon=True).start()
    reasons = []
    for url in (f"http://127.0.0.1:{_closed_port()}/", f"http://127.0.0.1:{garbage.getsockname()[1]}/",
                f"http://127.0.0.1:{silent.getsockname()[1]}/", "http://10.1.2.3/", "http://no-such-host.invalid/"):
        with pytest.raises(http.HttpFailure) as failure:
            http.request("GET", url, timeout=0.3)
        reasons.append(failure.value.reason)
    silent.close()
    garbage.close()
    assert set(reasons) == {"could not connect"}


def test_redirects_are_checked_again_and_never_followed_for_a_post(stand_in, no_allow_list, app):
    inside = stand_in((200, b"metadata"))
    app.config["OUTBOUND_ALLOW_HOSTS"] = "localhost"  # the first hop is allowed by name; the target is not
    port = inside.server.server_address[1]
    hop = stand_in((302, b"", {"Location": f"http://127.0.0.1:{port}/secret"}))
    hop_url = f"http://localhost:{hop.server.server_address[1]}/"
    with pytest.raises(http.HttpFailure, match="could not connect"):
        http.request("GET", hop_url)
    assert inside.requests == []
    answer = http.request("POST", hop_url, json={"a": 1})
    assert answer.status == 302 and inside.requests == []


def test_allowed_redirects_are_followed_without_credentials_to_another_host(stand_in):
    target = stand_in((200, b"image"))
    hop = stand_in((302, b"", {"Location": target.url.replace("127.0.0.1", "localhost") + "/file"}))
    hop.answers[0] = (302, b"", {"Location": f"http://127.0.0.1:{target.server.server_address[1]}/file"}, 0)
    answer = http.request("GET", hop.url, auth=("AC1", "token"))
    assert answer.body == b"image" and target.requests[0]["path"] == "/file"
    assert "Authorization" in target.requests[0]["headers"]  # same host name: credentials kept
    hop2 = stand_in((302, b"", {"Location": f"http://localhost:{target.server.server_address[1]}/other"}))
    http.request("GET", hop2.url, auth=("AC1", "token"))
    assert "Authorization" not in target.requests[-1]["headers"]  # another host name: dropped


def test_dns_is_resolved_once_and_the_checked_address_is_the_one_called(stand_in, app, monkeypatch, no_allow_list):
    """DNS rebinding: the first answer is public, a second would be internal; only one look-up happens."""
    import socket as socket_module

    server = stand_in((200, b"{}"))
    answers = [("93.184.215.14",), ("127.0.0.1",)]
    calls = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        address = answers[min(len(calls) - 1, 1)][0]
        return [(socket_module.AF_INET, socket_module.SOCK_STREAM, 6, "", (address, port))]

    connected = []
    real_create = socket_module.create_connection

    def fake_create(address, *args, **kwargs):
        connected.append(address[0])
        raise OSError("unreachable in the test")

    monkeypatch.setattr(socket_module, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket_module, "create_connection", fake_create)
    with pytest.raises(http.HttpFailure):
        http.request("GET", "http://rebind.example/")
    assert calls == ["rebind.example"] and connected == ["93.184.215.14"]
    monkeypatch.setattr(socket_module, "create_connection", real_create)
    assert server.requests == []


def test_a_person_gets_a_reason_for_an_internal_address(no_allow_list):
    assert "inside the network" in http.refusal("http://169.254.169.254/latest")
    assert "http://" in http.refusal("ftp://example.com/")
    assert http.refusal("http://93.184.215.14/hook") is None
