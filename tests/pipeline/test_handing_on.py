"""A phase job's horse runs the product's next phases itself, with the same guards as queued jobs."""
from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import select, update

from app.core.queue import all_queues, get_redis
from app.extensions import db
from app.pipeline import recovery, runner, selectors
from app.pipeline.models import PHASE_IN_FLIGHT, PhaseStatus, Product, ProductPhase, ProductStatus
from app.pipeline.phases import PhaseOutcome, register_phase
from tests.pipeline.helpers import BLANK_PHOTO, Placeholder, create_product


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


@pytest.fixture
def approve_all(org):
    org.review_threshold = 0  # every analysis passes: these tests are about the runner
    db.session.commit()


def test_one_job_runs_all_four_phases_of_a_product(org, manager, run_jobs, later_phases, approve_all):
    product = create_product(org, manager, BLANK_PHOTO)
    assert run_jobs() == 1
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert [p.status for p in product.phases] == [PhaseStatus.COMPLETED] * 4
    assert [m.runs for m in later_phases.values()] == [1, 1, 1]
    analysis_job = product.phases[0].rq_job_id
    # Each was queued under its own id as always, never put on Redis, and run by the analysis job.
    assert [(p.rq_job_id, p.attempts) for p in product.phases[1:]] == [(analysis_job, 1)] * 3
    assert all(queue.count == 0 for queue in all_queues())
    messages = [line.message for line in selectors.log_lines(product.id)]
    assert sum("started" in m for m in messages) == 4 and sum("completed" in m for m in messages) == 4
    # A phase's start is committed with the previous phase's finish, and logged after it.
    starts_and_ends = [m.message.split(" (")[0] for m in selectors.log_lines(product.id)
                       if "started" in m.message or "completed" in m.message]
    assert starts_and_ends == [f"{name} {what}" for name in ("analysis", "market", "seo", "listing")
                               for what in ("started", "completed")]


def test_a_stop_while_a_handed_on_phase_runs_discards_it_and_runs_nothing_after(org, manager, run_jobs,
                                                                                later_phases, approve_all):
    class StoppedMeanwhile:
        def run(self, ctx):
            with db.engine.begin() as conn:  # the web process stops the product while this phase computes
                conn.execute(update(ProductPhase).where(ProductPhase.product_id == ctx.product_id,
                                                        ProductPhase.status.in_(PHASE_IN_FLIGHT))
                             .values(status=PhaseStatus.STOPPED))
                conn.execute(update(Product).where(Product.id == ctx.product_id).values(status=ProductStatus.STOPPED))
            return PhaseOutcome(status="completed", result={"x": 1})

    register_phase("market", StoppedMeanwhile())
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.STOPPED
    assert product.phase("market").status == PhaseStatus.STOPPED and product.phase("market").result is None
    assert product.phase("seo").status == PhaseStatus.PENDING and later_phases["seo"].runs == 0


def test_phases_handed_on_but_not_run_go_onto_the_queue_when_the_horse_fails(org, manager, later_phases,
                                                                              approve_all, monkeypatch):
    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    real_run_phase = runner.run_phase
    calls = []

    def database_lost_before_the_second(phase_id, job_id, **kwargs):
        calls.append(phase_id)
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return real_run_phase(phase_id, job_id, **kwargs)

    monkeypatch.setattr(runner, "run_phase", database_lost_before_the_second)
    with pytest.raises(ConnectionError):
        runner.run_phases(analysis.id, analysis.rq_job_id)
    market = _fresh(product.id).phase("market")
    assert market.status == PhaseStatus.QUEUED and market.attempts == 0  # claimed, never run: not charged
    assert selectors.log_lines(product.id)[-1].message.endswith("the job that was to run it failed first")
    assert Job.fetch(market.rq_job_id, connection=get_redis()).get_status().value == "queued"


def test_a_retry_after_a_transient_failure_waits_on_the_queue_not_in_the_horse(org, manager, run_jobs,
                                                                               later_phases, approve_all):
    register_phase("market", Placeholder("failed", error="price service timed out", transient=True))
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    market = _fresh(product.id).phase("market")
    assert market.status == PhaseStatus.QUEUED and market.attempts == 1
    assert Job.fetch(market.rq_job_id, connection=get_redis()).get_status().value == "scheduled"


def test_a_handed_on_phase_is_held_under_the_running_job_which_stop_and_recovery_address(org, manager, later_phases,
                                                                                         approve_all):
    holders = []

    class NotesItsHolder:
        def run(self, ctx):
            with db.engine.connect() as conn:
                holders.append(conn.execute(select(ProductPhase.rq_job_id, ProductPhase.status)
                                            .where(ProductPhase.product_id == ctx.product_id,
                                                   ProductPhase.name == "market")).one())
            return PhaseOutcome(status="completed", result={})

    register_phase("market", NotesItsHolder())
    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    assert runner.run_phases(analysis.id, analysis.rq_job_id) == "completed"
    # While it ran, the market phase was held under the analysis job: Stop sends that job the kill.
    assert holders == [(analysis.rq_job_id, PhaseStatus.RUNNING)]

    # A horse that dies holding a taken-over phase: RQ's callback for its job requeues that phase too.
    seo = _fresh(product.id).phase("seo")
    db.session.execute(update(ProductPhase).where(ProductPhase.id == seo.id)
                       .values(status=PhaseStatus.RUNNING, rq_job_id=analysis.rq_job_id))
    db.session.commit()
    assert recovery.requeue_lost_job(analysis.rq_job_id, reason="job lost") == 1
    seo = _fresh(product.id).phase("seo")
    assert seo.status == PhaseStatus.QUEUED and seo.rq_job_id != analysis.rq_job_id
    assert Job.fetch(seo.rq_job_id, connection=get_redis()).get_status().value == "queued"


def test_the_job_run_again_after_a_database_outage_resumes_the_phase_it_had_taken_over(org, manager, later_phases,
                                                                                       approve_all):
    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    job_id = analysis.rq_job_id
    assert runner.run_phase(analysis.id, job_id) == "completed"
    market = _fresh(product.id).phase("market")
    # The horse had taken the market phase over when the database went away mid-phase.
    assert runner.run_phase(market.id, market.rq_job_id, taken_over_by="other") == "completed"
    db.session.execute(update(ProductPhase).where(ProductPhase.id == market.id)
                       .values(status=PhaseStatus.RUNNING, rq_job_id=job_id, attempts=1))
    db.session.execute(update(ProductPhase).where(ProductPhase.product_id == product.id, ProductPhase.name != "analysis",
                                                  ProductPhase.name != "market").values(status=PhaseStatus.PENDING))
    db.session.commit()
    later_phases["market"].runs = 0

    assert runner.run_phases(analysis.id, job_id, rerun=True) == "completed"
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert product.phase("market").attempts == 1 and later_phases["market"].runs == 1  # not charged twice
