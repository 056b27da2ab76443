"""A worker asked to stop while it was starting stops, instead of waiting for a second signal."""
from __future__ import annotations

import signal

from app.core.queue import get_queue
from app.core.worker import _Stop, build_worker


def test_a_stop_asked_for_while_the_worker_started_is_honoured_before_any_job(app):
    with app.app_context():
        job = get_queue("default").enqueue("builtins.len", "abc")
    worker = build_worker(app, name="starting-worker")
    stop = _Stop()
    stop.requested = True  # SIGTERM landed on run()'s handler before RQ installed its own
    worker.stop_before_start = stop
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with app.app_context():
            worker.work(burst=True)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert worker._stop_requested
    job.refresh()
    assert job.get_status().value == "queued"  # it stopped before taking a job
