"""`Server-Timing: app;dur=…` on every response: the milliseconds the app spent on the request, from
the start of its first before-request handler to its after-request handlers, so a browser's network
panel and the page benchmark see server time apart from the network and the client."""
from __future__ import annotations

import time

from flask import Flask, g


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_stamp)


def _start() -> None:
    g.request_started = time.perf_counter()


def _stamp(response):
    started = g.get("request_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response
