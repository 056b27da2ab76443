"""The outbound HTTP client: one place for timeouts, retries, response size limits and error wording.

Every failure to get an answer raises `HttpFailure`; an HTTP error status is an answer, returned
like any other. Response bodies are read up to `max_bytes` and no further (a longer one is a
failure, or cut short with `truncate=True` when only its start matters).

The guard (server-side request forgery): only http and https; the host name is resolved once
and every address is checked — loopback, private, link-local (with the cloud metadata address
169.254.169.254), shared, multicast, reserved and IPv6 unique-local (fd00:ec2::254) addresses
are refused unless the operator's allow-list (OUTBOUND_ALLOW_HOSTS / OUTBOUND_ALLOW_CIDRS, and
the hosts of URLs the operator configured, see app.config.OPERATOR_URL_SETTINGS) names them;
the connection goes to the address that was checked, so a second DNS answer cannot swap it
(DNS rebinding). Redirects are followed only for GET and HEAD, at most MAX_REDIRECTS, each new
address checked again (and credentials dropped when the host changes); a POST gets the 3xx back.
Every way of not getting an answer — refused, unreachable, unknown host, refused by the guard,
timed out, TLS or a reply that is not HTTP — has the same reason, "could not connect", so the
error cannot be used to scan ports or map the network.

Retries are off unless the caller asks (`retries=n`), and then only for failures where trying
again cannot do a thing twice: a connection that never opened, HTTP 429 and 5xx (the server
says it did not do the work), and a timeout only for idempotent methods. The pause doubles
from `backoff` seconds, or follows the server's Retry-After, never longer than MAX_PAUSE.
"""
from __future__ import annotations

import base64
import http.client
import ipaddress
import json as jsonlib
import socket
import ssl
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

from flask import current_app, has_app_context

USER_AGENT = "Stockroom/1.0 (warehouse operations dashboard)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_PAUSE = 10.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
NO_CONNECTION = "could not connect"
# Named although the ranges below already hold them: the addresses an attacker aims at first.
METADATA = (ipaddress.ip_network("169.254.169.254/32"), ipaddress.ip_network("fd00:ec2::254/128"))


class HttpFailure(Exception):
    """No usable answer came back; `reason` says why in a few words.

    `retryable`: nothing reached the server, so trying again is safe. `sent`: the request may
    have reached it (an answer never came), so only an idempotent request may be tried again.
    `waited`: the seconds waited for an answer that never came, for callers that talk to a service
    the operator configured and may say so (the reason itself stays "could not connect")."""

    def __init__(self, reason: str, *, attempts: int = 1, retryable: bool = False, sent: bool = False,
                 waited: float | None = None):
        super().__init__(reason)
        self.reason, self.attempts, self.retryable, self.sent = reason, attempts, retryable, sent
        self.waited = waited


@dataclass(frozen=True)
class Policy:
    """Which addresses inside the network may be called anyway (the operator's allow-list)."""

    hosts: frozenset = frozenset()
    networks: tuple = ()

    @classmethod
    def parse(cls, hosts: str = "", cidrs: str = "", extra_urls: tuple = ()) -> Policy:
        names = {h.strip().lower().rstrip(".") for h in (hosts or "").split(",") if h.strip()}
        names |= {(urllib.parse.urlsplit(u).hostname or "").lower() for u in extra_urls if u}
        networks = []
        for raw in (cidrs or "").split(","):
            if raw.strip():
                networks.append(ipaddress.ip_network(raw.strip(), strict=False))
        return cls(frozenset(n for n in names if n), tuple(networks))

    def permits(self, host: str, address) -> bool:
        """True when this resolved address of `host` may be called."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        if any(address in network for network in self.networks if network.version == address.version):
            return True
        return not is_internal(address)


def is_internal(address) -> bool:
    """Loopback, private, link-local, shared, multicast, reserved, unspecified or metadata addresses."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return (any(address in n for n in METADATA if n.version == address.version) or address.is_multicast
            or address.is_loopback or address.is_private or address.is_link_local or address.is_reserved
            or address.is_unspecified or not address.is_global)


def current_policy() -> Policy:
    """The allow-list from the app's settings (outside an app: nothing internal is allowed)."""
    if not has_app_context():
        return Policy()
    config = current_app.config
    cached = config.get("_OUTBOUND_POLICY")
    key = (config.get("OUTBOUND_ALLOW_HOSTS", ""), config.get("OUTBOUND_ALLOW_CIDRS", ""),
           tuple(config.get(name) or "" for name in _operator_urls()))
    if cached is None or cached[0] != key:
        cached = (key, Policy.parse(key[0], key[1], key[2]))
        config["_OUTBOUND_POLICY"] = cached
    return cached[1]


def _operator_urls() -> tuple:
    from app.config import OPERATOR_URL_SETTINGS

    return OPERATOR_URL_SETTINGS


def resolve_checked(host: str, port: int, policy: Policy | None = None) -> list[str]:
    """The addresses of `host` that may be called, resolved once; HttpFailure when there are none."""
    policy = policy or current_policy()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise HttpFailure(NO_CONNECTION, retryable=True) from None
    allowed = []
    for info in infos:
        try:
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        except ValueError:
            continue
        if policy.permits(host, address) and str(address) not in allowed:
            allowed.append(str(address))
    if not allowed:
        raise HttpFailure(NO_CONNECTION)
    return allowed


def refusal(url: str, policy: Policy | None = None) -> str | None:
    """Why an address given by a person cannot be used (for a form), or None when it can."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http:// or https:// address."
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The port in this address is not a number."
    try:
        resolve_checked(parts.hostname, port, policy)
    except HttpFailure:
        return ("Stockroom does not call this address: it does not resolve, or it points inside the network "
                "(loopback, private, link-local or cloud metadata addresses). Use a public address, or ask "
                "the operator to allow this host.")
    return None


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
            backoff: float = 0.5, truncate: bool = False, policy: Policy | None = None) -> Answer:
    """Send one request (retrying transient failures when `retries` > 0) and return the answer, any status."""
    method = method.upper()
    url, body, all_headers = _prepare(url, body, headers, json=json, form=form, files=files, fields=fields,
                                      bearer=bearer, auth=auth, params=params)
    policy = policy or current_policy()
    started, attempt = time.perf_counter(), 0
    while True:
        attempt += 1
        try:
            status, data, answer_headers = _follow(method, url, body, all_headers, timeout, max_bytes, truncate,
                                                   policy)
        except HttpFailure as exc:
            retry = attempt <= retries and (exc.retryable or (exc.sent and method in IDEMPOTENT))
            if not retry:
                # What the last try knew (nothing sent; sent but unanswered) stays for the caller's own retries.
                raise HttpFailure(exc.reason, attempts=attempt, retryable=exc.retryable, sent=exc.sent,
                                  waited=exc.waited) from None
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


def _follow(method: str, url: str, body: bytes | None, headers: dict, timeout: float, max_bytes: int,
            truncate: bool, policy: Policy) -> tuple[int, bytes, dict]:
    for _ in range(MAX_REDIRECTS + 1):
        status, data, answer_headers = _send_once(method, url, body, headers, timeout, max_bytes, truncate, policy)
        location = next((v for k, v in answer_headers.items() if k.lower() == "location"), None)
        if status not in REDIRECTS or method not in ("GET", "HEAD") or not location:
            return status, data, answer_headers
        target = urllib.parse.urljoin(url, location)
        if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
            raise HttpFailure(NO_CONNECTION)
        if urllib.parse.urlsplit(target).hostname != urllib.parse.urlsplit(url).hostname:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
        url = target
    raise HttpFailure(NO_CONNECTION)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says now; Host stays the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # certificate checked for the name


def _send_once(method: str, url: str, body: bytes | None, headers: dict, timeout: float,
               max_bytes: int, truncate: bool, policy: Policy) -> tuple[int, bytes, dict]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpFailure("only http and https addresses can be called")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise HttpFailure(NO_CONNECTION) from None
    addresses = resolve_checked(parts.hostname, port, policy)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    for index, address in enumerate(addresses):
        connection = kind(parts.hostname, port, address, timeout)
        try:
            try:
                connection.connect()
            except (OSError, ssl.SSLError):
                if index + 1 < len(addresses):
                    continue
                raise HttpFailure(NO_CONNECTION, retryable=True) from None
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = _read_limited(response, max_bytes, truncate)
            except HttpFailure:
                raise
            except TimeoutError:
                raise HttpFailure(NO_CONNECTION, sent=True, waited=timeout) from None
            except (OSError, http.client.HTTPException, ValueError):
                # Sent, or half-sent: the server may have acted on it.
                raise HttpFailure(NO_CONNECTION, sent=True) from None
            return response.status, data, dict(response.getheaders())
        finally:
            connection.close()
    raise HttpFailure(NO_CONNECTION, retryable=True)


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
