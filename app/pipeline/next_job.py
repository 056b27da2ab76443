"""The next product for a work horse that has finished one: its phase job, taken off the queue.

RQ's forking worker forks a work horse for every job. For a product that is 70–80 ms of CPU
outside its phases (the fork, RQ's bookkeeping in both processes, a fresh database connection,
the horse's first touch of every page of memory it writes), about a fifth of what two workers
can do. A horse that has finished a product's phases therefore takes the job waiting at the head
of the worker's queues itself, if it is a phase job, and runs it in place, until it has worked
for PIPELINE_JOB_SECONDS. The queues are looked at in the worker's own order (high, default,
low), and a job of another kind at the head ends the run: the worker takes that one next, as it
would have.

The job is recognised by its id alone and removed from Redis in one step that also tells whether
this horse got it first (a worker's dequeue and this removal cannot both win). If the horse dies after removing it and
before claiming its phase, the phase is still queued with no job: the pipeline's sweep
(`recovery.requeue_unscheduled`) queues it again.
"""
from __future__ import annotations

import re

from flask import current_app

from app.core.queue import QUEUE_NAMES, get_queue, get_redis

# A phase job's id names its phase: the horse that takes it off the queue needs no read of the
# job itself (its hash and pickled arguments), only the id at the head of the list.
_PHASE_JOB_ID = re.compile(r"-phase-(\d+)-[0-9a-f]{32}$")

# KEYS: the queues' lists, in the worker's order. ARGV: the running job's id, the prefix of phase
# job ids, the prefix of job hashes, the worker's hash (or ""). The head of the first queue that has
# one, if it is a phase job and not the running one: removed from its queue with its hash, in one
# step (so no worker that finds the id later runs it, the sweep sees it gone, and a worker's dequeue
# and this cannot both win). Nothing once the worker was asked to stop (RQ notes it in its hash).
_TAKE = """
if ARGV[4] ~= '' and redis.call('HEXISTS', ARGV[4], 'shutdown_requested_date') == 1 then
    return false
end
for _, queue in ipairs(KEYS) do
    local head = redis.call('LINDEX', queue, 0)
    if head then
        if head == ARGV[1] or string.sub(head, 1, #ARGV[2]) ~= ARGV[2] then
            return false
        end
        redis.call('LREM', queue, 1, head)
        redis.call('DEL', ARGV[3] .. head)
        return head
    end
end
return false
"""


def phase_job_id(phase_id: int, unique: str) -> str:
    """The RQ job id a phase is queued under (`unique`: a fresh hex uuid per queueing)."""
    return f"{_prefix()}{phase_id}-{unique}"


def _prefix() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}-phase-"


def take_next_phase_job(*, besides: str | None = None, worker: str | None = None) -> tuple[int, str] | None:
    """(phase id, job id) of the phase job now at the head of the queues, taken off them; None
    when the queues are empty, their next job is of another kind or is `besides` (the running one),
    or the worker named `worker` was asked to stop (a warm shutdown waits for this job alone)."""
    from rq import Worker

    queues = [get_queue(name) for name in QUEUE_NAMES]
    worker_key = Worker.redis_worker_namespace_prefix + worker if worker else ""
    taken = get_redis().eval(_TAKE, len(queues), *(q.key for q in queues), besides or "", _prefix(),
                             queues[0].job_class.redis_job_namespace_prefix, worker_key)
    if not taken:
        return None
    job_id = taken.decode()
    match = _PHASE_JOB_ID.search(job_id)
    if match is None:  # a phase job queued before ids named their phase: its phase is found by its id
        from sqlalchemy import select

        from app.extensions import db
        from app.pipeline.models import ProductPhase

        phase_id = db.session.scalar(select(ProductPhase.id).where(ProductPhase.rq_job_id == job_id))
        db.session.rollback()
        if phase_id is None:
            return None
        return phase_id, job_id
    return int(match.group(1)), job_id
