"""The pipeline bench's worker: the production worker class, timing each job from fork to reap.

RQ's forking worker forks a work horse per job, waits for it and reaps it (`execute_job`). That
span is what a job costs a worker, and what the phase-overhead goal compares: a phase job's span
minus its own `run()`, against a no-op job's span, both on this class and the same queue. The spans
go to one Redis hash the bench reads; nothing else differs from app.core.worker.AppWorker.
"""
from __future__ import annotations

import os
import time

from app.core.worker import AppWorker


def spans_key(namespace: str | None = None) -> str:
    return f"{namespace or os.environ.get('REDIS_NAMESPACE', 'stockroom')}:bench:fork-to-reap-ms"


class TimedWorker(AppWorker):
    def execute_job(self, job, queue):
        started = time.perf_counter()
        try:
            return super().execute_job(job, queue)
        finally:
            self.connection.hset(spans_key(), job.id, round((time.perf_counter() - started) * 1000, 2))
