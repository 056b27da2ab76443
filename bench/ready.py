"""A benchmark's worker processes: wait until they are ready (warmed up and registered with RQ),
and stop them with their work horses.

A worker registers only after its warm-up (app.warmup), so a clock started after this measures
jobs, not worker start-up."""
from __future__ import annotations

import os
import signal
import subprocess
import time


def wait_for_workers(n: int, timeout: float = 120) -> None:
    from rq import Worker

    from app.core.queue import get_queue

    deadline = time.monotonic() + timeout
    while len(Worker.all(queue=get_queue("default"))) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"{n} workers were not ready within {timeout:.0f} s")
        time.sleep(0.2)


def stop_workers(workers: list[subprocess.Popen], patience: float = 30) -> None:
    """Stop workers started with `start_new_session=True`: a warm shutdown first (the job in hand
    ends), then RQ's cold shutdown (a second signal: the work horse is killed), then the whole
    process group. A worker whose horse waits for a database that is gone (the scratch database is
    dropped when the benchmark ends) never ends warmly: it must not be left running."""
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(patience)
            continue
        except subprocess.TimeoutExpired:
            w.terminate()
        try:
            w.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(w.pid, signal.SIGKILL)  # the worker and any horse still in its group
        except ProcessLookupError:
            pass
        w.wait()
