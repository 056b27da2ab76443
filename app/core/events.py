"""Live events: publish (org, event, data) after commit; stream them to that org's browsers.

One Redis pattern subscription per process fans out to a bounded queue per open tab, so a
process serves hundreds of tabs with two Redis connections. The stream sends a comment at once
(proxies flush headers), then a heartbeat at least every SSE_HEARTBEAT_SECONDS, and frees its
queue when the client goes away. Payloads are small "this changed" signals; pages re-fetch
their cards through the normal authorised routes.
"""
from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time

from flask import Blueprint, Response, current_app, request
from flask_login import current_user, login_required
from redis import Redis

from app.core.queue import REDIS_DOWN, get_redis, key
from app.core.transactions import after_commit_collect
from app.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("events", __name__)


def channel(org_id: int) -> str:
    return key("events", org_id)


def last_event_key(org_id: int) -> str:
    return key("events-last", org_id)


# A page says when it was rendered; a stream opened later starts with "resync" when the
# organisation had an event in between (allowing for clocks of other machines this far apart).
CLOCK_SLACK_MS = 2000
LAST_EVENT_TTL = 3600
RESYNC = json.dumps({"event": "resync", "data": {}})  # "re-fetch every live card on this page"
BROKER_RECONNECT_MAX_SECONDS = 4


def publish(org_id: int, event: str, data: dict | None = None) -> None:
    """Publish now (use publish_after_commit inside a transaction); a Redis outage loses only the signal."""
    publish_all([(org_id, event, data)])


def publish_all(events: list[tuple[int, str, dict | None]]) -> None:
    """Publish several events in one round trip to Redis, in order."""
    if not events:
        return
    pipe = get_redis().pipeline(transaction=False)
    for org_id, event, data in events:
        pipe.publish(channel(org_id), json.dumps({"event": event, "data": data or {}}))
    for org_id in {org_id for org_id, _, _ in events}:
        pipe.set(last_event_key(org_id), int(time.time() * 1000), ex=LAST_EVENT_TTL)
    try:
        pipe.execute()
    except REDIS_DOWN as exc:
        # The write this announces is committed and stands. Open pages are told to re-fetch
        # everything when the broker gets Redis back (see Broker._listen), so none stays stale.
        log.warning("%d event(s) (%s) not published: Redis is not reachable (%s)", len(events),
                    ", ".join(sorted({event for _, event, _ in events})), exc)


def now_ms() -> int:
    """The time a page is rendered, for its event stream's `since` (see stream_for)."""
    return int(time.time() * 1000)


def publish_after_commit(org_id: int, event: str, data: dict | None = None) -> None:
    """Publish once the current transaction commits (all of a transaction's events in one round trip)."""
    app = current_app._get_current_object()

    def _send(events: list) -> None:
        with app.app_context():
            publish_all(events)

    after_commit_collect("live events", _send).append((org_id, event, data))


class Broker:
    """One pattern subscription, fanned out to per-connection queues."""

    QUEUE_SIZE = 256
    IDLE_SECONDS = 30  # with no open stream for this long, the subscription and its thread end

    def __init__(self, redis_url: str, pattern: str):
        self.redis_url, self.pattern = redis_url, pattern
        self.prefix = pattern[:-1]
        self._subscribers: dict[int, set[queue.Queue]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once the pattern subscription is in place
        self._stopping = threading.Event()

    def subscribe(self, org_id: int) -> queue.Queue:
        q: queue.Queue = queue.Queue(self.QUEUE_SIZE)
        with self._lock:
            self._subscribers.setdefault(org_id, set()).add(q)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="sse-broker", daemon=True)
                self._thread.start()
        return q

    def unsubscribe(self, org_id: int, q: queue.Queue) -> None:
        with self._lock:
            subs = self._subscribers.get(org_id)
            if subs is not None:
                subs.discard(q)
                if not subs:
                    del self._subscribers[org_id]

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    def _deliver(self, org_id: int, message: str) -> None:
        with self._lock:
            targets = list(self._subscribers.get(org_id, ()))
        for q in targets:
            try:
                q.put_nowait(message)
            except queue.Full:  # a stalled tab: drop its backlog and tell it to re-fetch everything
                with contextlib.suppress(queue.Empty):
                    while True:
                        q.get_nowait()
                q.put_nowait(RESYNC)

    def stop(self) -> None:
        """End the listener thread (it exits within a second)."""
        self._stopping.set()

    def _idle_exit(self, idle_since: float) -> bool:
        if self._stopping.is_set():
            return True
        if time.monotonic() - idle_since < self.IDLE_SECONDS:
            return False
        with self._lock:
            if self._subscribers:
                return False
            self._thread = None
            return True

    def resync_all(self) -> None:
        """Tell every open stream to re-fetch its cards (events published meanwhile were lost)."""
        with self._lock:
            org_ids = list(self._subscribers)
        for org_id in org_ids:
            self._deliver(org_id, RESYNC)

    def _listen(self) -> None:
        backoff = 0.5
        idle_since = time.monotonic()
        lost_redis = False
        while not self._stopping.is_set():
            pubsub = None
            try:
                # Timeouts: a Redis that accepts the connection but never answers (a restart under
                # load) must fail this attempt, not leave every open page without events for good.
                pubsub = Redis.from_url(self.redis_url, socket_connect_timeout=5, socket_timeout=10,
                                        health_check_interval=30).pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.pattern)
                self.ready.set()
                backoff = 0.5
                if lost_redis:
                    lost_redis = False
                    log.info("event broker has Redis back; open pages re-fetch their cards")
                    self.resync_all()
                while True:
                    if self.subscriber_count():
                        idle_since = time.monotonic()
                    elif self._idle_exit(idle_since):
                        self.ready.clear()
                        pubsub.close()
                        return
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is None:
                        continue
                    chan = msg["channel"].decode()
                    try:
                        org_id = int(chan[len(self.prefix):])
                    except ValueError:
                        continue
                    self._deliver(org_id, msg["data"].decode())
            except Exception as exc:  # noqa: BLE001 - whatever broke the subscription, start it again
                self.ready.clear()
                lost_redis = True
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()
                if self._stopping.is_set():
                    return
                log.warning("event broker lost Redis (%s: %s); reconnecting in %.1f s", type(exc).__name__, exc, backoff)
                time.sleep(backoff)
                # Capped low: open pages hear nothing until the broker is back (then they re-fetch), and
                # one connection attempt per process every few seconds costs Redis nothing.
                backoff = min(backoff * 2, BROKER_RECONNECT_MAX_SECONDS)


_brokers: dict[tuple[str, str], Broker] = {}
_brokers_lock = threading.Lock()


def get_broker() -> Broker:
    """This process's broker for the app's Redis and namespace."""
    ident = (current_app.config["REDIS_URL"], current_app.config["REDIS_NAMESPACE"])
    with _brokers_lock:
        broker = _brokers.get(ident)
        if broker is None:
            broker = _brokers[ident] = Broker(ident[0], channel("*"))
        return broker


def stop_brokers(namespace: str | None = None) -> None:
    """Stop this process's brokers (all, or those of one namespace)."""
    with _brokers_lock:
        for ident in [k for k in _brokers if namespace is None or k[1] == namespace]:
            _brokers.pop(ident).stop()


def _format(raw: str) -> str:
    message = json.loads(raw)
    return f"event: {message['event']}\ndata: {json.dumps(message.get('data') or {})}\n\n"


def stream_for(org_id: int, broker: Broker, heartbeat: float, max_seconds: float = 1800,
               missed: callable = None, signed_in: callable = None):
    """Yield SSE text for one organisation until the client leaves (or max_seconds pass).

    `missed()` is asked once the subscription is in place: True when the page that opened the
    stream may have missed events (published after it was rendered), so it re-fetches at once.
    `signed_in()` is asked at every heartbeat and before an event when a heartbeat's time has passed
    since the last answer: once it says False (signed out, deactivated, session ended) the stream
    ends, so no event reaches a browser whose session ended more than one heartbeat ago."""
    q = broker.subscribe(org_id)
    try:
        yield ": connected\n\nretry: 3000\n\n"
        if missed is not None and missed():
            yield _format(RESYNC)
        ends = time.monotonic() + max_seconds
        checked = time.monotonic()
        while time.monotonic() < ends:
            try:
                message = q.get(timeout=heartbeat)
            except queue.Empty:
                message = None
            if signed_in is not None and (message is None or time.monotonic() - checked >= heartbeat):
                if not signed_in():
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                checked = time.monotonic()
            yield ": ping\n\n" if message is None else _format(message)
    finally:
        broker.unsubscribe(org_id, q)


def session_checker():
    """A callable that says whether this request's sign-in still stands (see app.accounts.sessions)."""
    from app.accounts.sessions import session_checker as accounts_checker

    return accounts_checker()


@bp.get("/events")
@login_required
def stream():
    """Server-sent events for the logged-in user's organisation only (no channel parameter)."""
    org_id = current_user.organisation_id
    broker = get_broker()
    heartbeat = current_app.config["SSE_HEARTBEAT_SECONDS"]
    since = request.args.get("since", "")
    redis, last_key = get_redis(), last_event_key(org_id)  # the stream runs outside the app context

    def missed() -> bool:
        try:
            last = redis.get(last_key)
        except REDIS_DOWN:
            return True  # nothing can be known about what happened meanwhile: re-fetch to be sure
        return since.isdigit() and last is not None and int(last) > int(since) - CLOCK_SLACK_MS

    signed_in = session_checker()  # asked on its own short connection at every heartbeat
    db.session.remove()  # a stream must not hold a database connection for its whole life
    return Response(stream_for(org_id, broker, heartbeat, missed=missed, signed_in=signed_in),
                    mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
