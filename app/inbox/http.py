"""The inbox's POST (replies, outgoing webhooks) on the one outbound client, app.core.http."""
from __future__ import annotations

from app.core import http

MAX_ANSWER_BYTES = 65536


class HTTPFailure(Exception):
    """Could not connect, or the connection broke."""


def post(url: str, *, body: bytes | None = None, form: dict | None = None, json_body=None,
         headers: dict | None = None, auth: tuple[str, str] | None = None, timeout: float = 10) -> tuple[int, str]:
    """POST and return (status code, response text); non-2xx answers are returned, not raised."""
    # Never retried here: a reply or a webhook sent twice is worse than one reported as failed
    # (webhooks have their own retry schedule).
    try:
        answer = http.request("POST", url, body=b"" if body is None and form is None and json_body is None else body,
                              form=form, json=json_body, headers=headers, auth=auth, timeout=timeout,
                              max_bytes=MAX_ANSWER_BYTES, truncate=True)
    except http.HttpFailure as exc:
        raise HTTPFailure(exc.reason) from None
    return answer.status, answer.body.decode("utf-8", "replace")
