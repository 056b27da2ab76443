"""Start, stop, retry, restart; exactly-once claims; transient retries; dead-worker recovery."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import Job
from sqlalchemy import update

from app.core.queue import get_redis
from app.extensions import db
from app.pipeline import recovery, runner, services, tasks
from app.pipeline.models import PhaseStatus, Product, ProductPhase, ProductStatus
from app.pipeline.phases import PhaseOutcome, register_phase
from tests.pipeline.helpers import BLANK_PHOTO, Placeholder, create_product


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def _approve_free(org):
    org.review_threshold = 0  # every analysis passes: these tests are about control, not identification
    db.session.commit()


def test_a_second_delivery_or_a_stale_job_does_nothing(org, manager, later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    phase = product.phase("analysis")
    job_id = phase.rq_job_id
    assert runner.run_phase(phase.id, "some-old-job-id") == "not claimed"
    assert runner.run_phase(phase.id, job_id) == "completed"
    assert runner.run_phase(phase.id, job_id) == "not claimed"
    product = _fresh(product.id)
    assert product.phase("analysis").attempts == 1
    assert product.phase("market").status == PhaseStatus.QUEUED


def test_transient_failures_retry_with_backoff_then_fail_with_a_retry_button(org, manager, manager_client,
                                                                             run_jobs, later_phases):
    _approve_free(org)
    flaky = Placeholder("failed", error="price service timed out", transient=True)
    register_phase("market", flaky)
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    market = _fresh(product.id).phase("market")
    assert market.status == PhaseStatus.QUEUED and market.attempts == 1
    job = Job.fetch(market.rq_job_id, connection=get_redis())
    assert job.get_status().value == "scheduled"  # backoff: enqueued for later, not now
    for _ in range(2):
        market = _fresh(product.id).phase("market")
        runner.run_phase(market.id, market.rq_job_id)
    product = _fresh(product.id)
    assert product.phase("market").status == PhaseStatus.FAILED and product.phase("market").attempts == 3
    assert product.status == ProductStatus.ERROR
    page = manager_client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "price service timed out" in page and ">Retry<" in page and ">Stop<" not in page

    flaky.status = "completed"
    assert manager_client.post(f"/products/{product.id}/retry").status_code == 302
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED and flaky.runs == 4


def test_a_permanent_failure_fails_at_once(org, manager, run_jobs, later_phases):
    _approve_free(org)
    register_phase("seo", Placeholder("failed", error="title missing", transient=False))
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.phase("seo").status == PhaseStatus.FAILED and product.phase("seo").attempts == 1
    assert product.phase("listing").status == PhaseStatus.PENDING
    assert product.status == ProductStatus.ERROR and services.allowed_actions(product) >= {"retry", "restart"}


def test_an_exception_in_a_phase_is_a_transient_failure(org, manager, run_jobs, later_phases):
    _approve_free(org)
    register_phase("listing", Placeholder(raises=RuntimeError("disk full")))
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    listing = _fresh(product.id).phase("listing")
    assert listing.status == PhaseStatus.QUEUED and "RuntimeError: disk full" in listing.error


def test_stop_cancels_queued_work_and_start_resumes(org, manager, manager_client, run_jobs, later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    job_id = product.phase("analysis").rq_job_id
    assert manager_client.post(f"/products/{product.id}/stop").status_code == 302
    product = _fresh(product.id)
    assert product.status == ProductStatus.STOPPED
    assert product.phase("analysis").status == PhaseStatus.STOPPED
    assert Job.fetch(job_id, connection=get_redis()).get_status().value == "canceled"
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.STOPPED
    assert manager_client.post(f"/products/{product.id}/stop").status_code == 409  # not allowed twice
    assert manager_client.post(f"/products/{product.id}/start").status_code == 302
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED


def test_a_phase_stopped_while_running_discards_its_result_and_side_effects(org, manager, later_phases):
    _approve_free(org)
    writes = []

    class StoppedMeanwhile:
        def run(self, ctx):
            with db.engine.begin() as conn:  # the web process stops it while it computes
                conn.execute(update(ProductPhase).where(ProductPhase.id == phase_id)
                             .values(status=PhaseStatus.STOPPED))
            return PhaseOutcome(status="completed", result={"x": 1}, write=lambda: writes.append(1))

    register_phase("market", StoppedMeanwhile())
    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    runner.run_phase(analysis.id, analysis.rq_job_id)
    market = _fresh(product.id).phase("market")
    phase_id = market.id
    assert runner.run_phase(market.id, market.rq_job_id) == "discarded"
    market = _fresh(product.id).phase("market")
    assert writes == [] and market.result is None and market.status == PhaseStatus.STOPPED


def test_restart_from_a_phase_reruns_it_and_the_later_ones_only(org, manager, manager_client, run_jobs,
                                                                later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED
    response = manager_client.post(f"/products/{product.id}/restart", data={"phase": "seo"})
    assert response.status_code == 302
    product = _fresh(product.id)
    assert product.status == ProductStatus.PROCESSING
    assert [p.status for p in product.phases] == [PhaseStatus.COMPLETED, PhaseStatus.COMPLETED,
                                                  PhaseStatus.QUEUED, PhaseStatus.PENDING]
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED
    assert (later_phases["market"].runs, later_phases["seo"].runs, later_phases["listing"].runs) == (1, 2, 2)


def test_a_phase_whose_worker_died_is_requeued_and_finishes(org, manager, run_jobs, later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    phase = product.phase("analysis")
    assert runner._claim(phase.id, phase.rq_job_id)  # a worker took it ... and was killed
    old_job = phase.rq_job_id
    assert recovery.reap_stale() == 0  # its lease is still running
    later = datetime.now(UTC) + timedelta(seconds=runner.lease_seconds() + 1)
    assert recovery.reap_stale(now=later) == 1
    phase = _fresh(product.id).phase("analysis")
    assert phase.status == PhaseStatus.QUEUED and phase.rq_job_id != old_job
    assert runner.run_phase(phase.id, old_job) == "not claimed"  # the dead job, delivered late
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED and product.phase("analysis").attempts == 2


def test_rq_abandoned_job_callback_requeues_at_once(org, manager, later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    product_id, phase = product.id, product.phase("analysis")
    runner._claim(phase.id, phase.rq_job_id)
    job = Job.fetch(phase.rq_job_id, connection=get_redis())
    tasks.on_phase_job_failure(job, get_redis(), RuntimeError, RuntimeError("abandoned"), None)
    assert _fresh(product_id).phase("analysis").status == PhaseStatus.QUEUED


def test_three_deaths_fail_the_phase(org, manager, later_phases):
    product = create_product(org, manager, BLANK_PHOTO)
    for _ in range(3):
        phase = _fresh(product.id).phase("analysis")
        runner._claim(phase.id, phase.rq_job_id)
        recovery.requeue_lost(phase.id, phase.rq_job_id, reason="test")
    product = _fresh(product.id)
    assert product.phase("analysis").status == PhaseStatus.FAILED and product.status == ProductStatus.ERROR
    assert "stopped 3 times" in product.phase("analysis").error


def test_a_lost_enqueue_is_sent_again_by_the_sweeper(org, manager, run_jobs, later_phases):
    _approve_free(org)
    product = create_product(org, manager, BLANK_PHOTO)
    phase = product.phase("analysis")
    Job.fetch(phase.rq_job_id, connection=get_redis()).delete()
    assert recovery.requeue_unscheduled() == 0  # within the grace period
    assert recovery.requeue_unscheduled(now=datetime.now(UTC) + timedelta(minutes=5)) == 1
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED


def test_sweep_job_reschedules_itself_only_while_work_is_in_flight(org, manager, later_phases):
    from app.core import leases
    from app.core.queue import key

    product = create_product(org, manager, BLANK_PHOTO)
    assert leases.sweep()["pipeline"] is True
    assert get_redis().exists(key("leases", "sweep-scheduled"))
    services.product_stop(org_id=org.id, product_id=product.id, by=manager)
    assert leases.sweep()["pipeline"] is False
    assert not get_redis().exists(key("leases", "sweep-scheduled"))


def test_staff_cannot_control(staff_client, org, manager, later_phases):
    product = create_product(org, manager, BLANK_PHOTO)
    assert staff_client.post(f"/products/{product.id}/stop").status_code == 403
    page = staff_client.get(f"/products/{product.id}").get_data(as_text=True)
    assert ">Stop<" not in page
