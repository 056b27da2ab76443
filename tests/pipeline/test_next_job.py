"""A phase job's horse, done with its product, takes the next products' phase jobs off the queue."""
from __future__ import annotations

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.core.queue import all_queues, get_queue, get_redis
from app.extensions import db
from app.pipeline import recovery, runner
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from app.pipeline.next_job import take_next_phase_job
from tests.pipeline.helpers import BLANK_PHOTO, create_product


@pytest.fixture
def approve_all(org):
    org.review_threshold = 0  # every analysis passes: these tests are about the runner
    db.session.commit()


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def _gone(job_id: str) -> bool:
    try:
        Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return True
    return False


def test_one_job_runs_the_products_queued_behind_it(org, manager, run_jobs, later_phases, approve_all):
    products = [create_product(org, manager, BLANK_PHOTO) for _ in range(3)]
    first_job = products[0].phase("analysis").rq_job_id
    later_jobs = [p.phase("analysis").rq_job_id for p in products[1:]]
    assert run_jobs(max_jobs=1) == 1
    for product in products:
        product = _fresh(product.id)
        assert product.status == ProductStatus.COMPLETED
        # every phase ran under the first job: Stop and RQ's abandoned-job callback address it
        assert {p.rq_job_id for p in product.phases} == {first_job}
        assert [p.attempts for p in product.phases] == [1, 1, 1, 1]
    assert all(queue.count == 0 for queue in all_queues())
    assert all(_gone(job_id) for job_id in later_jobs)  # taken off Redis, not run a second time
    assert [m.runs for m in later_phases.values()] == [3, 3, 3]


def test_the_queues_order_is_kept_and_another_kind_of_job_ends_the_run(app, org, manager, run_jobs, later_phases,
                                                                        approve_all):
    app.config["PIPELINE_FAIR_SHARE"] = 1
    bulk = [create_product(org, manager, BLANK_PHOTO) for _ in range(3)]  # default, then low, low
    assert [p.queue for p in bulk] == ["default", "low", "low"]
    get_queue("default").enqueue("app.core.tasks.answer_ping", 0)  # another kind, queued before the next product
    single = create_product(org, manager, BLANK_PHOTO, start=False)
    assert run_jobs(max_jobs=1) == 1
    # the first product's job met the ping at the head of "default": it ended there
    assert _fresh(bulk[0].id).status == ProductStatus.COMPLETED
    assert all(_fresh(p.id).status == ProductStatus.PROCESSING for p in bulk[1:])
    assert get_queue("default").count == 1 and get_queue("low").count == 2
    assert single.status == ProductStatus.UPLOADED


def test_no_job_is_taken_over_with_a_zero_budget(app, org, manager, run_jobs, later_phases, approve_all):
    app.config["PIPELINE_JOB_SECONDS"] = 0
    first, second = (create_product(org, manager, BLANK_PHOTO) for _ in range(2))
    assert run_jobs(max_jobs=1) == 1
    assert _fresh(first.id).status == ProductStatus.COMPLETED
    assert _fresh(second.id).status == ProductStatus.PROCESSING
    assert get_queue("default").count == 1


def test_a_phase_whose_job_was_taken_but_never_claimed_is_queued_again(org, manager, later_phases, approve_all):
    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    # The horse took the job off Redis and died before claiming its phase.
    assert take_next_phase_job() == (analysis.id, analysis.rq_job_id)
    assert _gone(analysis.rq_job_id) and get_queue("default").count == 0
    assert take_next_phase_job() is None
    assert recovery.requeue_unscheduled(grace=0) == 1
    assert _fresh(product.id).phase("analysis").status == PhaseStatus.QUEUED
    assert get_queue("default").job_ids == [analysis.rq_job_id]


def test_the_running_job_is_never_taken_and_a_stopped_phase_is_not_run(org, manager, later_phases, approve_all):
    from app.pipeline import services

    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    assert take_next_phase_job(besides=analysis.rq_job_id) is None
    services.product_stop(org_id=org.id, product_id=product.id, by=manager)
    taken = take_next_phase_job()
    if taken is not None:  # Stop may leave the job queued: taking it over runs nothing
        assert runner.run_phase(*taken, taken_over_by="another-job") == "not claimed"
    assert _fresh(product.id).phase("analysis").status != PhaseStatus.RUNNING


def test_a_phase_job_is_known_by_its_id_and_one_queued_under_an_older_id_is_still_taken(app, org, manager,
                                                                                       later_phases, approve_all):
    import uuid

    product = create_product(org, manager, BLANK_PHOTO)
    analysis = product.phase("analysis")
    assert analysis.rq_job_id.endswith(f"-phase-{analysis.id}-{analysis.rq_job_id[-32:]}")
    # A job queued before ids named their phase (an upgrade with jobs waiting): found by its id in the table.
    older = f"{app.config['REDIS_NAMESPACE']}-phase-{uuid.uuid4().hex}"
    get_queue("default").remove(analysis.rq_job_id)
    analysis.rq_job_id = older
    db.session.commit()
    runner.enqueue_phase_job(analysis.id, older, queue="default", org_id=org.id)
    assert take_next_phase_job() == (analysis.id, older)
    assert _gone(older) and get_queue("default").count == 0


def test_a_worker_asked_to_stop_takes_no_more_products(org, manager, later_phases, approve_all):
    from rq import Worker

    product = create_product(org, manager, BLANK_PHOTO)
    worker_key = Worker.redis_worker_namespace_prefix + "bench-worker"
    get_redis().hset(worker_key, "shutdown_requested_date", "2026-12-04T16:00:00.000000Z")  # as RQ notes a warm shutdown
    try:
        assert take_next_phase_job(worker="bench-worker") is None
        assert get_queue("default").job_ids == [product.phase("analysis").rq_job_id]  # left for a worker to take
        assert take_next_phase_job(worker="another-worker") == (product.phase("analysis").id,
                                                                 product.phase("analysis").rq_job_id)
    finally:
        get_redis().delete(worker_key)
