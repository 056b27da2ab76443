"""The outbound HTTP client: one place for timeouts, response size limits and error wording.

Every failure to get an answer (no connection, timeout, a body too big, TLS) raises
`HttpFailure` with a short reason that is safe to show and log; an HTTP error status is an
answer, returned like any other. Response bodies are read up to `max_bytes` and no further.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

USER_AGENT = "Stockroom/1.0 (warehouse operations dashboard)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class HttpFailure(Exception):
    """No usable answer came back; `reason` says why in a few words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    duration_ms: int

    def json(self):
        """The body as JSON; HttpFailure when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise HttpFailure("the answer is not JSON") from None


def request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_BYTES) -> Answer:
    """Send one request and return the answer (any status); HttpFailure when none came."""
    if not url.startswith(("http://", "https://")):
        raise HttpFailure("only http and https addresses can be called")
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"} | dict(headers or {})
    prepared = urllib.request.Request(url, data=body, headers=all_headers, method=method.upper())
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            status, data = response.status, _read_limited(response, max_bytes)
    except urllib.error.HTTPError as exc:
        status, data = exc.code, _read_limited(exc, max_bytes) if exc.fp else b""
    except TimeoutError:
        raise HttpFailure(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise HttpFailure(f"no answer within {timeout:g} s") from None
        raise HttpFailure("could not connect") from None
    except (OSError, ValueError):
        raise HttpFailure("could not connect") from None
    return Answer(status=status, body=data, duration_ms=round((time.perf_counter() - started) * 1000))


def get_json(url: str, *, timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_BYTES, headers: dict | None = None):
    """GET a JSON document: (status, parsed body); HttpFailure when no JSON answer came."""
    answer = request("GET", url, timeout=timeout, max_bytes=max_bytes, headers=headers)
    return answer.status, answer.json()


def _read_limited(response, max_bytes: int) -> bytes:
    data = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HttpFailure(f"the answer is larger than {max_bytes // 1024} KiB")
    return data
