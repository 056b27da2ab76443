"""The next product for a work horse that has finished one: its phase job, taken off the queue.

RQ's forking worker forks a work horse for every job. For a product that is 70–80 ms of CPU
outside its phases (the fork, RQ's bookkeeping in both processes, a fresh database connection,
the horse's first touch of every page of memory it writes), about a fifth of what two workers
can do. A horse that has finished a product's phases therefore takes the job waiting at the head
of the worker's queues itself, if it is a phase job, and runs it in place, until it has worked
for PIPELINE_JOB_SECONDS. The queues are looked at in the worker's own order (high, default,
low), and a job of another kind at the head ends the run: the worker takes that one next, as it
would have.

The job is removed from Redis in one step that also tells whether this horse got it first (a
worker's dequeue and this removal cannot both win). If the horse dies after removing it and
before claiming its phase, the phase is still queued with no job: the pipeline's sweep
(`runner.requeue_unscheduled`) queues it again.
"""
from __future__ import annotations

from app.core.queue import QUEUE_NAMES, get_queue, get_redis

PHASE_JOB = "app.pipeline.tasks.run_phase"

# KEYS: the queue's list, the job's hash. Remove the job from the queue and, only if this call
# removed it, its hash too (so no worker that finds the id later runs it, and the sweep sees it gone).
_TAKE = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
    redis.call('DEL', KEYS[2])
    return 1
end
return 0
"""


def take_next_phase_job(*, besides: str | None = None) -> tuple[int, str] | None:
    """(phase id, job id) of the phase job now at the head of the queues, taken off them; None
    when the queues are empty, their next job is of another kind or is `besides` (the running one)."""
    redis = get_redis()
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        head = redis.lindex(queue.key, 0)
        if head is None:
            continue
        if head.decode() == besides:
            return None
        job = queue.fetch_job(head.decode())
        if job is None or job.func_name != PHASE_JOB or not job.args:
            return None  # the worker's to take, in its order
        if not redis.eval(_TAKE, 2, queue.key, job.key, job.id):
            return None  # a worker dequeued it meanwhile
        return int(job.args[0]), job.id
    return None
