"""Background jobs of the core: thin, idempotent, given ids."""
from rq import get_current_job

from app.core import pings


def answer_ping(ping_id: int) -> None:
    job = get_current_job()
    pings.ping_answer(ping_id=ping_id, worker_name=job.worker_name if job else None)
