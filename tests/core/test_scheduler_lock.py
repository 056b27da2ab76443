"""RQ's scheduler (delayed jobs: a batch's backed-off chunk, a webhook's next try) runs in one worker
at a time, under a lock that lives 61 s. A worker killed with its scheduler must not leave delayed
jobs waiting for that lock to run out when the survivor is on the same machine."""
from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from rq import Worker
from rq.job import JobStatus
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from app.core.queue import get_queue
from tests.core.test_redis_outage import _poll, private_redis, start_workers  # noqa: F401
from tests.workers import descendants

pytestmark = pytest.mark.slow


def test_a_delayed_job_runs_on_time_after_the_worker_holding_the_scheduler_lock_is_killed(
        app, private_redis, start_workers):  # noqa: F811
    workers = start_workers(2)
    client = redis.Redis.from_url(private_redis.url)
    lock = RQScheduler.get_locking_key(get_queue("low").name)
    _poll(lambda: len(Worker.all(connection=client)) == 2, 60)

    def holder_pid():
        owner = client.get(lock)
        pid = owner and client.hget(SCHEDULER_KEY_TEMPLATE % owner.decode(), "pid")
        return pid and int(pid)

    pid = _poll(holder_pid, 60)
    holder = next(w for w in workers if pid in descendants(w.proc.pid))
    survivor = next(w for w in workers if w is not holder)
    holder.kill()

    job = get_queue("low").enqueue_in(timedelta(seconds=1), "os.getpid")
    _poll(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 30)
    assert survivor.proc.poll() is None
    assert "gave back the scheduler lock" in survivor.log_path.read_text()
