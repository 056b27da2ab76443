"""Wait until a benchmark's worker processes are ready: warmed up and registered with RQ.

A worker registers only after its warm-up (app.warmup), so a clock started after this measures
jobs, not worker start-up."""
from __future__ import annotations

import time


def wait_for_workers(n: int, timeout: float = 120) -> None:
    from rq import Worker

    from app.core.queue import get_queue

    deadline = time.monotonic() + timeout
    while len(Worker.all(queue=get_queue("default"))) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"{n} workers were not ready within {timeout:.0f} s")
        time.sleep(0.2)
