"""A small HTTP POST on the standard library (no extra dependency for three callers)."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request


class HTTPFailure(Exception):
    """Could not connect, or the connection broke."""


def post(url: str, *, body: bytes | None = None, form: dict | None = None, json_body=None,
         headers: dict | None = None, auth: tuple[str, str] | None = None, timeout: float = 10) -> tuple[int, str]:
    """POST and return (status code, response text); non-2xx answers are returned, not raised."""
    headers = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(url, data=body or b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URLs are admin-set)
            return response.status, response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536).decode("utf-8", "replace") if exc.fp else ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HTTPFailure(str(getattr(exc, "reason", exc))) from None
