"""Runs one phase of one product on a worker: claim, run, record, hand on to the next phase.

Exactly-once where it matters: a phase row is claimed by one conditional UPDATE
(queued → running, for this RQ job id only), and its result and side effects are written in the
transaction whose conditional UPDATE (running → done, same job id) succeeds. A duplicate
delivery, a stale job after a requeue, or a phase stopped meanwhile changes nothing.

Liveness (the lease engine, app.core.leases): while a job runs, a heartbeat thread extends the
leases of the phases it holds every LEASE/3 seconds. A phase whose lease ran out (its worker was
killed) is put back on the queue by `recovery.reap_stale`, which runs from the periodic sweep (the pipeline's sweeper), from
every heartbeat, from RQ's abandoned-job callback and from `flask pipeline reap-stale`.
"""
from __future__ import annotations

import logging
import time
import traceback
import uuid
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from rq import Callback
from sqlalchemy import inspect, update

from app.core import database, leases
from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.core.queue import get_queue
from app.core.transactions import after_commit
from app.extensions import db
from app.pipeline.models import PHASE_DONE, PhaseStatus, Product, ProductPhase, ProductStatus
from app.pipeline.next_job import phase_job_id, take_next_phase_job
from app.pipeline.phase_rows import load_phase, phase_context
from app.pipeline.phases import MAX_ATTEMPTS, PhaseContext, PhaseOutcome, PhaseUnavailable, phase_module
from app.pipeline.run_log import LOG_EVENT, log_batch, log_in_session, write_log_rows
from app.pipeline.settings import setting

log = logging.getLogger(__name__)

PRODUCT_EVENT = "product-changed"
BACKOFF_SECONDS = (5, 30, 120)


def lease_seconds() -> int:
    return setting("PIPELINE_LEASE_SECONDS")


# A phase row's lease: held by the RQ job id it was queued under.
PHASE_LEASE = leases.Leased(ProductPhase, lease_seconds, holder="rq_job_id", lease_until="lease_until",
                            heartbeat="heartbeat_at")



@dataclass
class _OpenFinish:
    """A phase's finish written into a transaction left open for the next phase (`_commit_keeping_the_next`),
    with what it needs to be written again on its own should that transaction fail (`_write_again`)."""
    phase_id: int
    ctx: PhaseContext
    outcome: PhaseOutcome
    logs: list[dict]  # the phase's own lines: the outcome's are added again
    run_ms: float


@dataclass
class _HandedOn:
    """Inside `run_phases`: the product's next phases, claimed for this work horse instead of going
    onto the queue (it runs them next, without another job, fork, connection or claim transaction)."""
    holder: str | None  # the running job's id: what Stop kills and RQ's callback requeues
    claimed: list[int] = field(default_factory=list)
    # The next phase's row as its claim wrote it, with its product and the review threshold:
    # its run starts from them instead of reading them again (`run_phase`).
    kept: dict[int, tuple[ProductPhase, int]] = field(default_factory=dict)
    # Finishes whose next phase is quick are left open (not committed): that phase runs in their
    # transaction, and the first finish that is not left open commits them all (`_commit_keeping_the_next`).
    may_leave_open: bool = True
    open_finishes: list[_OpenFinish] = field(default_factory=list)
    unwritten_logs: list[dict] = field(default_factory=list)  # their log lines: one INSERT at the commit


_handed_on: ContextVar[_HandedOn | None] = ContextVar("pipeline_handed_on", default=None)


# --- enqueueing ------------------------------------------------------------------------------

def queue_phase(phase: ProductPhase, product: Product, *, delay: int = 0) -> None:
    """Mark a phase queued under a fresh job id, and enqueue that job once the transaction commits."""
    PhaseStatus.check(phase.status, PhaseStatus.QUEUED)
    phase.status = PhaseStatus.QUEUED
    if phase.id is None:  # a product being created: its job id names the phase
        db.session.flush()
    phase.rq_job_id = phase_job_id(phase.id, uuid.uuid4().hex)
    phase.queued_at = utcnow()
    phase.lease_until = None
    phase_id, job_id, queue, org_id = phase.id, phase.rq_job_id, product.queue, product.organisation_id
    handed_on = _handed_on.get()
    if handed_on is not None and not delay and _take_over(phase, product, handed_on.holder):
        return  # run next by this horse once the finish that claimed it is written (`_commit_keeping_the_next`)
    app = current_app._get_current_object()

    def _go() -> None:
        with app.app_context():
            enqueue_phase_job(phase_id, job_id, queue=queue, org_id=org_id, delay=delay)
            leases.ensure_sweeping()

    after_commit(_go)


def _take_over(phase: ProductPhase, product: Product, holder: str | None) -> bool:
    """Claim the phase just queued for the running horse, in the transaction that queued it (the
    previous phase's finish), held under `holder`. Its job never reaches Redis and the row is this
    transaction's to write, so the claim is made on the row itself: one UPDATE with the queueing."""
    now = utcnow()
    PhaseStatus.check(phase.status, PhaseStatus.RUNNING)
    phase.status, phase.rq_job_id = PhaseStatus.RUNNING, holder or phase.rq_job_id
    phase.attempts, phase.attempts_total = (phase.attempts or 0) + 1, (phase.attempts_total or 0) + 1
    phase.started_at, phase.finished_at, phase.error, phase.updated_at = now, None, None, now
    phase.lease_until, phase.heartbeat_at = now + timedelta(seconds=lease_seconds()), now
    log_in_session(product, phase.name, "info", f"{phase.name} started (attempt {phase.attempts_total})", None)
    return True


def enqueue_phase_job(phase_id: int, job_id: str, *, queue: str, org_id: int, delay: int = 0) -> None:
    from app.pipeline import tasks

    q = get_queue(queue)
    options = dict(job_id=job_id, job_timeout=setting("PIPELINE_JOB_TIMEOUT"),
                   meta={"organisation_id": org_id}, result_ttl=600, failure_ttl=7 * 24 * 3600,
                   on_failure=Callback(tasks.on_phase_job_failure))
    if delay:
        q.enqueue_in(timedelta(seconds=delay), tasks.run_phase, phase_id, **options)
    else:
        q.enqueue(tasks.run_phase, phase_id, **options)


class Unavailable(PhaseOutcome):
    """The phase's module is not installed: the phase is skipped, never faked."""


# --- running ---------------------------------------------------------------------------------

def run_phases(phase_id: int, job_id: str | None, *, rerun: bool = False, worker: str | None = None) -> str:
    """Run a phase, then the product's next phases in this same work horse; returns what the last did.

    A phase that completes queues the next one as always (a fresh job id on its row) and, in the
    same transaction, claims it for this process instead of putting it on Redis: it is held under
    this job's id, so a product's market, SEO and listing phases cost no job, fork, connection or
    claim transaction of their own, and Stop, RQ's abandoned-job callback and the exactly-once
    guards treat them as this job. A phase claimed so but not run when this job fails goes back
    onto the queue; if this process dies, RQ's callback (or the lease sweep) requeues it.
    Then, while the job is younger than PIPELINE_JOB_SECONDS, the next products' phase jobs waiting
    at the head of the queues are taken off them and run here the same way (app.pipeline.next_job),
    unless the `worker` running this job was asked to stop meanwhile."""
    from app.pipeline import recovery  # the leases' upkeep, built on this module
    # After the database went away, phases this job held are looked up first: no finish is left open before.
    handed_on = _HandedOn(holder=job_id, may_leave_open=not rerun)
    token = _handed_on.set(handed_on)
    started = time.monotonic()
    try:
        # One heartbeat for the whole job (every phase it holds): a thread per phase cost more than a light phase.
        with recovery.heartbeat(None, job_id):
            outcome = run_phase(phase_id, job_id, rerun=rerun)
            if rerun and job_id is not None:  # run again after the database went away: a phase this job took over
                for held_id in recovery.held_by(job_id, besides=phase_id):  # and was running then is still ours too
                    outcome = run_phase(held_id, job_id, rerun=True)
            outcome = _run_handed_on(handed_on, job_id, outcome)
            # Then the next products' phase jobs, taken off the queue, while this job is young (next_job)
            while job_id is not None and time.monotonic() - started < setting("PIPELINE_JOB_SECONDS"):
                taken = take_next_phase_job(besides=job_id, worker=worker)
                if taken is None:
                    break
                taken_outcome = _run_handed_on(handed_on, job_id, run_phase(*taken, taken_over_by=job_id))
                outcome = outcome if taken_outcome == "not claimed" else taken_outcome
    except BaseException:
        # Whatever the failed step left half-written goes (and with finishes left open, the claims they
        # made): the phases given back are those the database shows still held by this job.
        _roll_back_quietly()
        _give_back(handed_on.claimed, job_id)
        raise
    finally:
        _handed_on.reset(token)
    return outcome


def _run_handed_on(handed_on: _HandedOn, job_id: str | None, outcome: str) -> str:
    while handed_on.claimed:
        try:
            outcome = run_phase(handed_on.claimed[0], job_id, claimed=True)
        except Exception as exc:
            if not handed_on.open_finishes or database.database_lost(exc):
                raise
            log.warning("the finishes of phases %s failed together; written again one by one",
                        [f.phase_id for f in handed_on.open_finishes], exc_info=True)
            _write_again(handed_on, job_id)
            continue
        handed_on.claimed.pop(0)  # only now: a phase whose run raised is still in the list (given back)
    return outcome


def _write_again(handed_on: _HandedOn, job_id: str | None) -> None:
    """The transaction of finishes left open failed (a constraint, or a statement of a phase that
    spoilt it): roll it back, and write each of those finishes again in a transaction of its own,
    each claiming the next phase as before. The phase that was running when it failed is run
    again after them on its own, where its error is its own; nothing is lost or done twice."""
    finishes, handed_on.open_finishes, handed_on.unwritten_logs = handed_on.open_finishes, [], []
    _roll_back_quietly()
    handed_on.kept.clear()
    handed_on.claimed = []
    handed_on.may_leave_open = False
    written: set[int] = set()
    try:
        for done in finishes:
            written.add(done.phase_id)
            if _finish(done.phase_id, job_id, done.ctx, done.outcome, list(done.logs), done.run_ms) == "discarded":
                break  # stopped meanwhile: what came after it was never claimed
    finally:
        handed_on.may_leave_open = True
    handed_on.claimed = [phase_id for phase_id in handed_on.claimed if phase_id not in written]


def _roll_back_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: so is the transaction
        log.debug("rollback after a failed job raised", exc_info=True)


def _give_back(phase_ids: list[int], job_id: str | None) -> None:
    """Phases claimed for this job that it did not run: back onto the queue, their attempt not charged."""
    token = _handed_on.set(None)  # onto the queue, not to this horse
    try:
        for phase_id in phase_ids:
            try:
                with database.write_intent():
                    phase = db.session.get(ProductPhase, phase_id)
                    if phase is None or phase.status != PhaseStatus.RUNNING or (job_id and phase.rq_job_id != job_id):
                        db.session.rollback()
                        continue
                    phase.attempts, phase.attempts_total = phase.attempts - 1, phase.attempts_total - 1
                    queue_phase(phase, phase.product)
                    log_in_session(phase.product, phase.name, "warning",
                                    f"{phase.name} back on the queue: the job that was to run it failed first", None)
                    db.session.commit()
            except Exception:  # the database or Redis gone too: RQ's callback or the sweep requeues it later
                db.session.rollback()
                log.warning("phase %s could not be given back to the queue", phase_id, exc_info=True)
    finally:
        _handed_on.reset(token)


def run_phase(phase_id: int, job_id: str | None, *, rerun: bool = False, taken_over_by: str | None = None,
              claimed: bool = False) -> str:
    """Claim the phase for this job, run it and record the outcome; returns what happened.

    `taken_over_by`: the job whose horse runs this phase in its place: the phase is claimed under
    its own job id and then held under that one. `claimed`: the previous phase's finish claimed it
    for `job_id` already (`run_phases`).

    Two write transactions per phase: the claim (with the "started" log line; for a phase handed
    on, part of the previous phase's finish) and the finish (with the outcome and every log line
    the phase wrote while it ran, kept in memory until then: a line per transaction cost more than
    many phases' own work, and held SQLite's write lock)."""
    pending_logs: list[dict] = []
    handed_on = _handed_on.get()
    kept = handed_on.kept.pop(phase_id, None) if handed_on is not None else None
    # Run inside the previous phase's finish, still open: its rows are this transaction's own
    inside_open_finish = claimed and kept is not None and bool(handed_on.open_finishes)
    if claimed and kept is not None:  # as the previous phase's finish wrote it, a moment ago
        phase, threshold = kept
        ctx = phase_context(phase, threshold, pending_logs)
    elif claimed:
        token = database._immediate.set(False)  # a read, continued by the phase's own (`_run_module`)
        try:
            phase, threshold = load_phase(phase_id)
            if phase is None or phase.status != PhaseStatus.RUNNING or (job_id and phase.rq_job_id != job_id):
                db.session.rollback()
                return "not claimed"  # stopped between the finish that claimed it and now
            ctx = phase_context(phase, threshold, pending_logs)
        finally:
            database._immediate.reset(token)
    else:
        if not _claim(phase_id, job_id, commit=False, holder=taken_over_by) and not (
                rerun and _still_ours(phase_id, job_id)):
            db.session.rollback()
            return "not claimed"
        job_id = taken_over_by or job_id
        phase, threshold = load_phase(phase_id)
        ctx = phase_context(phase, threshold, pending_logs)
        log_in_session(phase.product, ctx.phase, "info", f"{ctx.phase} started (attempt {ctx.attempt})", None)
        publish_after_commit(ctx.org_id, PRODUCT_EVENT, {"product_id": ctx.product_id, "status": "processing"})
        database.commit_keeping_loaded(db.session())  # the phase's run starts from the rows just read and claimed
    from app.pipeline import recovery  # the leases' upkeep, built on this module
    started = time.perf_counter()
    with recovery.heartbeat(phase_id, job_id):
        outcome = _run_inside_open_finish(ctx) if inside_open_finish else _run_module(ctx)
    return _finish(phase_id, job_id, ctx, outcome, pending_logs,
                   run_ms=round((time.perf_counter() - started) * 1000, 1), held=kept if inside_open_finish else None)


def _still_ours(phase_id: int, job_id: str | None) -> bool:
    """The same job, run again after the database went away, finds its phase running under its own id
    (it had claimed it; the attempt is not charged twice). Its lease is renewed for the new run."""
    if job_id is None:
        return False
    renewed = db.session.execute(update(ProductPhase).where(
        ProductPhase.id == phase_id, ProductPhase.status == PhaseStatus.RUNNING, ProductPhase.rq_job_id == job_id)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds()), heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    return renewed == 1


def _claim(phase_id: int, job_id: str | None, *, commit: bool = True, holder: str | None = None) -> bool:
    """Claim the phase queued under `job_id`; held under `holder` when another job's horse takes it."""
    now = utcnow()
    where = [ProductPhase.id == phase_id] + ([ProductPhase.rq_job_id == job_id] if job_id is not None else [])
    claimed = leases.claim(PHASE_LEASE, holder=holder, ready=PhaseStatus.QUEUED, claimed=PhaseStatus.RUNNING,
                           where=where, now=now, values={
                               "attempts": ProductPhase.attempts + 1, "attempts_total": ProductPhase.attempts_total + 1,
                               "started_at": now, "finished_at": None, "error": None, "updated_at": now})
    if claimed and commit:
        db.session.commit()
    return bool(claimed)


def _run_module(ctx: PhaseContext) -> PhaseOutcome:
    # Phases only read while they compute: without the write intent their reads take no
    # SQLite write lock, so a minute of OCR never blocks the web or the other workers.
    token = database._immediate.set(False)
    try:
        database.begin_reads_only(db.session())  # after _immediate: on SQLite a deferred BEGIN
        try:
            module = phase_module(ctx.phase)
        except PhaseUnavailable as exc:
            return Unavailable(status="completed", result={"skipped": str(exc)})
        return module.run(ctx)
    except Exception as exc:
        return _raised(ctx, exc)
    finally:
        db.session.rollback()  # ends the read transaction, and drops anything a phase wrote by mistake
        database._immediate.reset(token)


def _run_inside_open_finish(ctx: PhaseContext) -> PhaseOutcome:
    """A quick phase run in the transaction of the previous phase's finish, left open for it
    (`_commit_keeping_the_next`): its rows are this transaction's own, so nothing is read again
    and no commit comes between. Nothing is flushed while it reads (the finishes' changes are
    written together at the commit), and whatever it changed by mistake in the session is dropped
    when it ends. A statement of its own that failed spoils the transaction on PostgreSQL: the
    commit then fails, and the finishes are written again one by one (`_write_again`)."""
    session = db.session()
    new_before, dirty_before = set(session.new), set(session.dirty)
    try:
        with session.no_autoflush:
            return phase_module(ctx.phase).run(ctx)
    except Exception as exc:
        return _raised(ctx, exc)
    finally:
        for added in set(session.new) - new_before:
            session.expunge(added)
        for changed in set(session.dirty) - dirty_before:  # the attributes it changed only: a whole
            session.expire(changed, list(inspect(changed).committed_state))  # object's expiry cascades to its phases


def _raised(ctx: PhaseContext, exc: Exception) -> PhaseOutcome:
    """A phase bug or a dependency hiccup: retried, then shown as the reason."""
    if database.database_lost(exc):
        raise exc  # not the phase's fault: the job waits for the database and runs again (app.core.worker)
    log.exception("phase %s of product %s raised", ctx.phase, ctx.product_id)
    ctx.log("error", f"{ctx.phase} raised {type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=8))
    return PhaseOutcome(status="failed", error=f"{type(exc).__name__}: {exc}", transient=True)


def _finish(phase_id: int, job_id: str | None, ctx: PhaseContext, outcome: PhaseOutcome,
            pending_logs: list[dict], run_ms: float = 0, held: tuple[ProductPhase, int] | None = None) -> str:
    """Record the outcome, unless the phase was stopped or handed to another job meanwhile. `held`:
    the phase ran inside the previous finish's transaction, which holds its rows still (nothing
    can have changed them), so they are not read again."""
    phase, threshold = held if held is not None else load_phase(phase_id)
    if phase is None or phase.status != PhaseStatus.RUNNING or (job_id and phase.rq_job_id != job_id):
        db.session.rollback()
        ctx.log("warning", f"{ctx.phase} result discarded: the phase was stopped or handed to another worker")
        write_log_rows(pending_logs)
        publish_after_commit(ctx.org_id, LOG_EVENT, {"product_id": ctx.product_id})
        db.session.commit()
        return "discarded"
    opened = _OpenFinish(phase_id, ctx, outcome, list(pending_logs), run_ms)
    token = log_batch.set(pending_logs)  # the phase's own lines come before the outcome's
    try:
        with db.session.no_autoflush if held is not None else nullcontext():  # written at the commit
            new = _record(phase, outcome, run_ms)
    finally:
        log_batch.reset(token)
    _commit_keeping_the_next(phase.product, threshold, pending_logs, opened)
    return new.value


def _commit_keeping_the_next(product: Product, threshold: int, logs: list[dict], finish: _OpenFinish) -> None:
    """Commit a finish. When it claimed the product's next phase for this horse, the rows it wrote
    are kept loaded as committed (a commit expires them all, and the next phase read them again
    first thing): that phase's run starts from them and its finish reads them afresh.

    When that next phase is quick (its module's `quick()` says it reads a few rows and calls
    nothing outside the database), the finish is left open instead: the phase runs in its
    transaction, and the first finish after it that is not left open commits them all, with one
    INSERT for their log lines and one round of live events. For market, SEO and listing this
    saves per product three commits, three reads of the rows, a dozen statements and two rounds
    of events. The rows stay locked meanwhile (a Stop waits those milliseconds, then sees the
    outcome: `services.product_stop`); on SQLite the write lock is held as long."""
    handed_on = _handed_on.get()
    holder = handed_on.holder if handed_on is not None else None
    taken = [p for p in product.phases if holder is not None and p.status == PhaseStatus.RUNNING
             and p.rq_job_id == holder]
    if taken and handed_on.may_leave_open and len(taken) == 1 and _quick(taken[0].name):
        handed_on.unwritten_logs += logs
        handed_on.open_finishes.append(finish)
    else:
        write_log_rows((handed_on.unwritten_logs if handed_on is not None else []) + logs)
        database.commit_keeping_loaded(db.session()) if taken else db.session.commit()
        if handed_on is not None:
            handed_on.open_finishes, handed_on.unwritten_logs = [], []
    for phase in taken:
        handed_on.kept[phase.id] = (phase, threshold)
        handed_on.claimed.append(phase.id)


def _quick(phase_name: str) -> bool:
    try:
        module = phase_module(phase_name)
    except PhaseUnavailable:
        return False
    quick = getattr(module, "quick", None)
    return bool(quick()) if callable(quick) else False


def _record(phase: ProductPhase, outcome: PhaseOutcome, run_ms: float) -> PhaseStatus:
    """The phase's outcome on its row and its product's, and what comes next; the caller commits."""
    product = phase.product
    skipped = isinstance(outcome, Unavailable)
    new = _phase_status(outcome, phase, skipped)
    PhaseStatus.check(phase.status, new)
    phase.status, phase.finished_at, phase.lease_until = new, utcnow(), None
    phase.result = outcome.result
    phase.error = outcome.error
    if outcome.product and new in (PhaseStatus.COMPLETED, PhaseStatus.NEEDS_REVIEW):
        for field, value in outcome.product.items():
            setattr(product, field, value)
    if outcome.write is not None and new in (PhaseStatus.COMPLETED, PhaseStatus.NEEDS_REVIEW):
        outcome.write()
    message, level = _advance(product, phase, outcome, new)
    log_in_session(product, phase.name, level, message,
                    {"status": new.value, "attempt": phase.attempts_total, "error": outcome.error, "run_ms": run_ms})
    if new in (PhaseStatus.COMPLETED, PhaseStatus.SKIPPED):
        continue_after(product, phase)  # after this phase's line: the next may start in this transaction
    publish_after_commit(product.organisation_id, PRODUCT_EVENT,
                         {"product_id": product.id, "status": product.status.value})
    return new


def _phase_status(outcome: PhaseOutcome, phase: ProductPhase, skipped: bool) -> PhaseStatus:
    if skipped:
        return PhaseStatus.SKIPPED
    if outcome.status == "failed":
        if outcome.transient and phase.attempts < MAX_ATTEMPTS:
            return PhaseStatus.QUEUED
        return PhaseStatus.FAILED
    return PhaseStatus(outcome.status)


def _advance(product: Product, phase: ProductPhase, outcome: PhaseOutcome, new: PhaseStatus) -> tuple[str, str]:
    if new == PhaseStatus.QUEUED:  # transient failure: same phase again after a backoff
        delay = BACKOFF_SECONDS[min(phase.attempts, len(BACKOFF_SECONDS)) - 1]
        phase.status = PhaseStatus.RUNNING  # let queue_phase apply the checked transition
        queue_phase(phase, product, delay=delay)
        return (f"{phase.name} failed ({outcome.error}); retrying in {delay} s "
                f"(attempt {phase.attempts + 1} of {MAX_ATTEMPTS} of this run, {phase.attempts_total + 1} in all)",
                "warning")
    if new == PhaseStatus.FAILED:
        product.set_status(ProductStatus.ERROR)
        return f"{phase.name} failed: {outcome.error}", "error"
    if new == PhaseStatus.NEEDS_REVIEW:
        product.set_status(ProductStatus.NEEDS_REVIEW)
        return f"{phase.name} needs a person to review it", "warning"
    if new == PhaseStatus.SKIPPED:
        return f"{phase.name} skipped: {outcome.result['skipped']}", "info"
    return f"{phase.name} completed", "info"


def continue_after(product: Product, phase: ProductPhase) -> None:
    """Queue the phase after `phase`, or complete the product when none is left."""
    later = [p for p in product.phases if p.position > phase.position and p.status not in PHASE_DONE]
    if later:
        if product.status != ProductStatus.PROCESSING:
            product.set_status(ProductStatus.PROCESSING)
        queue_phase(later[0], product)
    else:
        product.set_status(ProductStatus.COMPLETED)
