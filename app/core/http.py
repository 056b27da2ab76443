"""The outbound HTTP client: one place for timeouts, retries, response size limits and error wording.

Every failure to get an answer (no connection, timeout, a body too big, TLS) raises
`HttpFailure` with a short reason that is safe to show and log; an HTTP error status is an
answer, returned like any other. Response bodies are read up to `max_bytes` and no further
(a longer one is a failure, or cut short with `truncate=True` when only its start matters).

Retries are off unless the caller asks (`retries=n`), and then only for failures where trying
again cannot do a thing twice: a connection that never opened, HTTP 429 and 5xx (the server
says it did not do the work), and a timeout only for idempotent methods. The pause doubles
from `backoff` seconds, or follows the server's Retry-After, never longer than MAX_PAUSE.
"""
from __future__ import annotations

import base64
import json as jsonlib
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

USER_AGENT = "Stockroom/1.0 (warehouse operations dashboard)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_PAUSE = 10.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpFailure(Exception):
    """No usable answer came back; `reason` says why in a few words."""

    def __init__(self, reason: str, *, attempts: int = 1, retryable: bool = False):
        super().__init__(reason)
        self.reason, self.attempts, self.retryable = reason, attempts, retryable


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    duration_ms: int
    attempts: int = 1
    headers: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retried(self) -> bool:
        return self.attempts > 1

    def json(self):
        """The body as JSON; HttpFailure when it is not JSON."""
        try:
            return jsonlib.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, jsonlib.JSONDecodeError, RecursionError):
            raise HttpFailure("the answer is not JSON", attempts=self.attempts) from None

    def text(self, limit: int = 200) -> str:
        """The start of the body as text, for error messages."""
        return self.body[:limit * 4].decode("utf-8", "replace")[:limit]


@dataclass(frozen=True)
class File:
    """One file part of a multipart upload."""

    field: str
    filename: str
    mime: str
    data: bytes


def multipart(fields: dict[str, str], files: list[File]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type header."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for f in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{f.field}"; filename="{f.filename}"\r\n'
                     f"Content-Type: {f.mime}\r\n\r\n".encode() + f.data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def basic_auth(user: str, password: str) -> str:
    """The Authorization header value for HTTP basic authentication."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_BYTES, json=None, form: dict | None = None,
            files: list[File] | None = None, fields: dict | None = None, bearer: str | None = None,
            auth: tuple[str, str] | None = None, params: dict | None = None, retries: int = 0,
            backoff: float = 0.5, truncate: bool = False) -> Answer:
    """Send one request (retrying transient failures when `retries` > 0) and return the answer, any status."""
    method = method.upper()
    url, body, all_headers = _prepare(url, body, headers, json=json, form=form, files=files, fields=fields,
                                      bearer=bearer, auth=auth, params=params)
    started, attempt = time.perf_counter(), 0
    while True:
        attempt += 1
        try:
            status, data, answer_headers = _send_once(method, url, body, all_headers, timeout, max_bytes, truncate)
        except HttpFailure as exc:
            retry = attempt <= retries and (exc.retryable or (exc.reason.startswith("no answer") and method in IDEMPOTENT))
            if not retry:
                raise HttpFailure(exc.reason, attempts=attempt) from None
            time.sleep(min(backoff * 2 ** (attempt - 1), MAX_PAUSE))
            continue
        if status in RETRY_STATUSES and attempt <= retries:
            time.sleep(_pause(answer_headers, backoff * 2 ** (attempt - 1)))
            continue
        return Answer(status=status, body=data, duration_ms=round((time.perf_counter() - started) * 1000),
                      attempts=attempt, headers=answer_headers)


def get_json(url: str, *, timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_BYTES, headers: dict | None = None,
             retries: int = 0):
    """GET a JSON document: (status, parsed body); HttpFailure when no JSON answer came."""
    answer = request("GET", url, timeout=timeout, max_bytes=max_bytes, headers=headers, retries=retries)
    return answer.status, answer.json()


def post_json(url: str, payload, **kwargs) -> Answer:
    """POST a JSON body; the answer whatever its status."""
    return request("POST", url, json=payload, **kwargs)


def _prepare(url, body, headers, *, json, form, files, fields, bearer, auth, params) -> tuple[str, bytes | None, dict]:
    if not url.startswith(("http://", "https://")):
        raise HttpFailure("only http and https addresses can be called")
    out = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    if json is not None:
        body, out["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
    elif form is not None:
        body, out["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    elif files is not None:
        body, out["Content-Type"] = multipart(fields or {}, files)
    if bearer:
        out["Authorization"] = f"Bearer {bearer}"
    elif auth is not None:
        out["Authorization"] = basic_auth(*auth)
    return url, body, out | dict(headers or {})


def _send_once(method: str, url: str, body: bytes | None, headers: dict, timeout: float,
               max_bytes: int, truncate: bool) -> tuple[int, bytes, dict]:
    prepared = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310 (scheme checked in _prepare)
            return response.status, _read_limited(response, max_bytes, truncate), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        data = _read_limited(exc, max_bytes, truncate) if exc.fp else b""
        return exc.code, data, dict(exc.headers.items()) if exc.headers else {}
    except TimeoutError:
        raise HttpFailure(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise HttpFailure(f"no answer within {timeout:g} s") from None
        # Refused, unknown host, unreachable: nothing was sent, so trying again is safe.
        raise HttpFailure("could not connect", retryable=isinstance(exc.reason, OSError)) from None
    except (ConnectionError, OSError, ValueError):
        raise HttpFailure("could not connect") from None


def _pause(headers: dict, fallback: float) -> float:
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        wait = float(raw) if raw is not None else fallback
    except ValueError:
        wait = fallback  # an HTTP date: not worth parsing for a pause this short
    return max(0.0, min(wait, MAX_PAUSE))


def _read_limited(response, max_bytes: int, truncate: bool = False) -> bytes:
    data = response.read(max_bytes + 1)
    if truncate:
        return data[:max_bytes]
    if len(data) > max_bytes:
        raise HttpFailure(f"the answer is larger than {max_bytes // 1024} KiB")
    return data
