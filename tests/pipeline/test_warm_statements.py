"""The worker parent compiles the runner's and the phases' SQL once; a phase job's horse compiles none."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine.default import CACHE_MISS

from app.extensions import db
from app.pipeline import runner
from app.pipeline.phases import register_phase, unregister_phase
from app.pipeline.warm_sql import warm_statements
from tests.pipeline.helpers import BLANK_PHOTO, Placeholder, create_product


def _compiled_after_the_warm_up(org, manager, run: Callable[[int, str], str]) -> list[str]:
    """Statements compiled (not found in the cache) while `run` runs a product's analysis job, the
    caches having been emptied and then filled by the warm-up only."""
    org.review_threshold = 0
    db.session.commit()
    product = create_product(org, manager, BLANK_PHOTO)
    phase_id, job_id = product.phase("analysis").id, product.phase("analysis").rq_job_id
    db.session.remove()
    db.engine._compiled_cache.clear()
    for mapper in db.Model.registry.mappers:
        mapper._compiled_cache.clear()
    warm_statements()
    compiled: list[str] = []

    def note_misses(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit is CACHE_MISS:
            compiled.append(statement)

    event.listen(db.engine, "after_cursor_execute", note_misses)
    try:
        assert run(phase_id, job_id) == "completed"
    finally:
        event.remove(db.engine, "after_cursor_execute", note_misses)
    return compiled


def test_after_the_warm_up_a_phase_job_compiles_none_of_the_runners_statements(org, manager, later_phases):
    register_phase("analysis", Placeholder())  # a phase that runs no SQL: every statement left is the runner's
    try:
        assert _compiled_after_the_warm_up(org, manager, runner.run_phase) == []
    finally:
        unregister_phase("analysis")


def test_after_the_warm_up_a_product_through_the_built_in_phases_compiles_no_sql(org, manager):
    """Each phase module's `warm()` compiles its own reads and writes: the whole pipeline runs on
    statements the worker parent compiled, in any database."""
    assert _compiled_after_the_warm_up(org, manager, runner.run_phases) == []
