"""The phase runner's SQL, compiled once in the worker parent before it forks.

SQLAlchemy keeps compiled SELECTs in a per-engine cache and the ORM's INSERTs and UPDATEs in a
per-mapper one; forked work horses inherit both, so a phase job compiles none of the runner's own
statements (tests/pipeline/test_warm_statements.py). Called by app.warmup.
"""
from __future__ import annotations

from collections.abc import Callable

from app.core.models import Organisation, utcnow
from app.extensions import db
from app.pipeline import phase_rows, run_log, runner
from app.pipeline.models import PhaseStatus, Product, ProductPhase, ProductStatus


def warm_statements() -> None:
    """Compile, once in the worker parent, the statements every phase job runs: the runner's, then
    each phase module's own (its `warm()`).

    SQLAlchemy keeps compiled SQL in a per-engine cache that forked work horses inherit; compiled
    here (against rows that do not exist, in a transaction rolled back) each horse skips it."""
    from sqlalchemy.orm import make_transient_to_detached

    try:
        runner._claim(-1, "warm-up", commit=False)
        runner._claim(-1, "warm-up", commit=False, holder="warm-up")
        runner._still_ours(-1, "warm-up")
        phase_rows.load_phase(-1)
        db.session.get(ProductPhase, -1)
        db.session.get(Organisation, -1)
        db.session.get(Product, -1)
        product = Product(id=-1)
        make_transient_to_detached(product)
        db.session.add(product)
        _ = product.phases, product.images
    finally:
        db.session.rollback()
        db.session.remove()
    _warm_writes()
    _warm_phase_modules()


def existing(row):
    """`row` (built with an id) taken as a loaded row of the session: changing it compiles an UPDATE."""
    from sqlalchemy.orm import make_transient_to_detached

    make_transient_to_detached(row)
    db.session.add(row)
    return row


def compile_writes(*writes: Callable[[], None]) -> None:
    """Run each write (changes to rows that do not exist), flush, roll back: its SQL is compiled.

    Each fails as it should (no row to update or reload, no organisation -1) after its SQL was
    compiled; nothing is kept."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

    for write in writes:
        try:
            write()
            db.session.flush()
        except (StaleDataError, IntegrityError, ObjectDeletedError):
            pass
        finally:
            db.session.rollback()
            db.session.expunge_all()
    db.session.remove()


def _warm_phase_modules() -> None:
    """Each built-in phase module's own SQL (its optional `warm()`): reads for an organisation that
    does not exist, writes against rows that do not."""
    from app.pipeline.phases import built_in_phases

    for module in built_in_phases().values():
        warm = getattr(module, "warm", None)
        if warm is None:
            continue
        try:
            warm()
        finally:
            db.session.rollback()
            db.session.remove()


def _warm_writes() -> None:
    """The runner's own writes, flushed against rows that do not exist and rolled back.

    The ORM keeps its compiled INSERTs and UPDATEs per mapper and per set of changed columns, so
    these are the runner's exact changes: a phase finished and the next one queued (and, when it is
    quick, finished in the same transaction), the product's status, log lines, and the reloads of
    rows a commit expired."""
    from sqlalchemy.orm.exc import ObjectDeletedError

    now = utcnow()

    def running_phase() -> ProductPhase:
        return existing(ProductPhase(id=-1, status=PhaseStatus.RUNNING, rq_job_id="warm-up", queued_at=None,
                                     finished_at=None, lease_until=now, result=None, error=None))

    def finished() -> None:
        phase = running_phase()
        phase.status, phase.finished_at, phase.lease_until, phase.result = PhaseStatus.COMPLETED, now, None, {}

    def queued() -> None:
        phase = existing(ProductPhase(id=-1, status=PhaseStatus.PENDING, rq_job_id=None, queued_at=None,
                                      lease_until=None))
        phase.status, phase.rq_job_id, phase.queued_at = PhaseStatus.QUEUED, "warm-up", now

    def handed_on() -> None:  # the next phase queued and claimed for the same horse (runner._take_over)
        phase = existing(ProductPhase(id=-1, status=PhaseStatus.PENDING, rq_job_id=None, queued_at=None,
                                      lease_until=None, attempts=0, attempts_total=0, started_at=None,
                                      finished_at=None, error=None, heartbeat_at=None, updated_at=None))
        phase.status, phase.rq_job_id, phase.queued_at = PhaseStatus.QUEUED, "warm-up", now
        runner._take_over(phase, existing(Product(id=-1, organisation_id=-1)), "warm-up")

    def handed_on_and_finished(phase_ids: tuple[int, ...]):
        # Quick phases claimed and finished in one open transaction: for each, both changes in one
        # UPDATE, and the UPDATEs of several in one executemany (compiled apart from a single one).
        return lambda: _claimed_and_finished(phase_ids)

    def _claimed_and_finished(phase_ids: tuple[int, ...]) -> None:
        product = existing(Product(id=-1, organisation_id=-1))
        token = run_log.log_batch.set([])  # their log lines wait for the commit, as in the runner's finishes
        try:
            with db.session.no_autoflush:
                for phase_id in phase_ids:
                    phase = existing(ProductPhase(id=phase_id, status=PhaseStatus.PENDING, rq_job_id=None,
                                                  queued_at=None, lease_until=None, attempts=0, attempts_total=0,
                                                  started_at=None, finished_at=None, error=None, heartbeat_at=None,
                                                  updated_at=None, result=None, name="warm-up"))
                    phase.status, phase.rq_job_id, phase.queued_at = PhaseStatus.QUEUED, "warm-up", now
                    runner._take_over(phase, product, "warm-up")
                    phase.status, phase.finished_at, phase.lease_until, phase.result = (PhaseStatus.COMPLETED,
                                                                                        now, None, {})
        finally:
            run_log.log_batch.reset(token)

    def product_status() -> None:
        existing(Product(id=-1, status=ProductStatus.PROCESSING)).status = ProductStatus.COMPLETED

    def log_lines(lines: int):
        # As the runner writes them: one INSERT of all a finish's lines (one line: the start's).
        def write() -> None:
            run_log.write_log_rows([run_log.log_row(-1, -1, "warm-up", "info", "", None) for _ in range(lines)])
        return write

    def reloads() -> None:
        phase = existing(ProductPhase(id=-1, product_id=-1))
        _ = phase.product  # the many-to-one lazy load (`_context`)
        for row in (existing(Product(id=-1)), phase):
            db.session.expire(row)
            try:
                _ = row.organisation_id
            except ObjectDeletedError:
                pass

    compile_writes(finished, queued, handed_on, handed_on_and_finished((-1,)), handed_on_and_finished((-1, -2)),
                   product_status, log_lines(1), log_lines(2), reloads)
