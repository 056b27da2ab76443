"""Ten lines instead of an abandoned extension: branch on HX-Request, never on the trigger."""
from __future__ import annotations

from flask import render_template, request


def is_htmx() -> bool:
    """True for an HTMX request (history restores want the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render(template: str, partial: str | None = None, /, **context) -> str:
    """Render the partial for HTMX requests, the full page otherwise (same context)."""
    return render_template(partial if partial and is_htmx() else template, **context)


def add_vary_header(response):
    response.vary.add("HX-Request")
    return response
