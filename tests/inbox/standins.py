"""Local stand-ins for the outside world: an HTTP server that records requests and a tiny SMTP server."""
from __future__ import annotations

import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def closed_port_url() -> str:
    """The address of a local port nobody listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class HTTPStandIn:
    """Records every request; answers POSTs from `responses` in turn (status, JSON body), the last one repeating,
    and GETs from `files`."""

    def __init__(self, responses: list[tuple[int, dict]] | None = None, files: dict | None = None):
        self.requests: list[dict] = []
        self.responses = responses or [(200, {})]
        # GET path -> (content type, bytes), or an HTTP status to answer with; anything else is a 404.
        self.files = files if files is not None else {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": b""})
                entry = outer.files.get(self.path, ("text/plain", None))
                status = entry if isinstance(entry, int) else 200 if entry[1] is not None else 404
                content_type, data = ("text/plain", None) if isinstance(entry, int) else entry
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                index = min(len(outer.requests) - 1, len(outer.responses) - 1)
                status, payload = outer.responses[index]
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class SMTPStandIn:
    """Enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT. Keeps each message's envelope and text."""

    def __init__(self):
        self.messages: list[dict] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                envelope = {"from": "", "to": [], "data": ""}
                self.reply("220 standin ESMTP")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode().strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 standin")
                    elif verb == "MAIL":
                        envelope["from"] = command.split(":", 1)[1].strip()
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        envelope["to"].append(command.split(":", 1)[1].strip())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while (line := self.rfile.readline().decode()) not in (".\r\n", ""):
                            lines.append(line)
                        envelope["data"] = "".join(lines)
                        outer.messages.append(dict(envelope))
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
