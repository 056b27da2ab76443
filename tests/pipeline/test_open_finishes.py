"""Quick phases (market, SEO, listing) run inside the transaction of the previous phase's finish,
left open for them, and their finishes are committed together; a failure of that transaction
costs only the phase that caused it."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.pipeline import runner, selectors
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from app.pipeline.phases import PhaseOutcome, register_phase
from tests.pipeline.helpers import BLANK_PHOTO, Placeholder, create_product


class Quick(Placeholder):
    """A placeholder that declares itself quick, as the built-in market, SEO and listing phases do."""

    def __init__(self, *args, run=None, write=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.also, self.write = run, write

    def quick(self) -> bool:
        return True

    def run(self, ctx):
        outcome = super().run(ctx)
        if self.also is not None:
            self.also(ctx)
        outcome.write = self.write
        return outcome


@pytest.fixture
def quick_phases(org):
    org.review_threshold = 0
    db.session.commit()
    made = {name: Quick() for name in ("market", "seo", "listing")}
    for name, phase in made.items():
        register_phase(name, phase)
    register_phase("analysis", Placeholder())
    yield made
    from app.pipeline.phases import unregister_phase

    for name in ("analysis", *made):
        unregister_phase(name)


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def _run(product: Product, *, commits: list | None = None) -> str:
    """Run the product's analysis job, as a worker does; `commits` gets one entry per commit."""
    analysis = product.phase("analysis")
    phase_id, job_id = analysis.id, analysis.rq_job_id
    db.session.commit()
    listener = lambda conn: commits.append(conn)  # noqa: E731
    if commits is not None:
        event.listen(db.engine, "commit", listener)
    try:
        return runner.run_phases(phase_id, job_id)
    finally:
        if commits is not None:
            event.remove(db.engine, "commit", listener)


def test_the_quick_phases_finishes_are_committed_with_the_analysis_in_one_transaction(org, manager, quick_phases):
    product = create_product(org, manager, BLANK_PHOTO)
    commits = []
    assert _run(product, commits=commits) == "completed"
    assert len(commits) == 2  # the analysis's claim, then every finish
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert [p.status for p in product.phases] == [PhaseStatus.COMPLETED] * 4
    assert all(p.result == {"placeholder": True, "attempt": 1} for p in product.phases)
    # The log reads as before, in order: each phase's start after the previous one's end.
    starts_and_ends = [m.message.split(" (")[0] for m in selectors.log_lines(product.id)
                       if "started" in m.message or "completed" in m.message]
    assert starts_and_ends == [f"{name} {what}" for name in ("analysis", "market", "seo", "listing")
                               for what in ("started", "completed")]


def test_what_a_quick_phase_changes_in_the_session_by_mistake_is_dropped(org, manager, quick_phases):
    def careless(ctx):
        ctx.product.hint_name = "changed by mistake"

    register_phase("seo", Quick(run=careless))
    product = create_product(org, manager, BLANK_PHOTO, hint_name="Blue mug")
    assert _run(product) == "completed"
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED and product.hint_name == "Blue mug"


def test_when_the_commit_of_the_open_finishes_fails_each_is_written_on_its_own(org, manager, quick_phases):
    """The listing's own write fails: analysis, market and SEO stay done (each written once), and
    only the listing goes back onto the queue, its attempt not charged."""
    def broken_write():
        db.session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    register_phase("listing", Quick(write=broken_write))
    product = create_product(org, manager, BLANK_PHOTO)
    with pytest.raises(Exception, match="no_such_table"):
        _run(product)
    db.session.rollback()
    product = _fresh(product.id)
    assert [p.status for p in product.phases[:3]] == [PhaseStatus.COMPLETED] * 3
    listing = product.phase("listing")
    assert listing.status == PhaseStatus.QUEUED and listing.attempts == 0
    messages = [line.message for line in selectors.log_lines(product.id)]
    for name in ("analysis", "market", "seo"):
        assert messages.count(f"{name} completed") == 1
    assert messages[-1].endswith("the job that was to run it failed first")
    assert [quick_phases[name].runs for name in ("market", "seo")] == [1, 1]  # recorded again, not run again


def test_a_quick_phase_whose_statement_fails_is_retried_and_the_earlier_finishes_stand(org, manager, quick_phases):
    """On PostgreSQL a failed statement spoils the open transaction: the earlier finishes are
    written again on their own and the phase runs again alone, where its error is its own."""
    def bad_query(ctx):
        db.session.execute(text("SELECT * FROM no_such_table"))

    register_phase("seo", Quick(run=bad_query))
    product = create_product(org, manager, BLANK_PHOTO)
    _run(product)
    product = _fresh(product.id)
    assert [p.status for p in product.phases[:2]] == [PhaseStatus.COMPLETED] * 2
    seo = product.phase("seo")
    assert seo.status == PhaseStatus.QUEUED and seo.attempts == 1  # a retry after a backoff
    assert product.phase("listing").status == PhaseStatus.PENDING
    messages = [line.message for line in selectors.log_lines(product.id)]
    assert any("no_such_table" in m and m.startswith("seo raised") for m in messages)
    assert messages.count("market completed") == 1


def test_a_phase_that_calls_out_is_not_run_inside_an_open_finish(org, manager, quick_phases, monkeypatch):
    """The market phase with a price provider set up makes an HTTP call: it runs with no
    transaction open, as any slow phase does."""
    from app.listings.phases import market

    monkeypatch.setattr("app.listings.price_provider.configured_provider", lambda: object())
    assert market.quick() is False
    monkeypatch.setattr("app.listings.price_provider.configured_provider", lambda: None)
    assert market.quick() is True

    seen = []

    class NotesTheTransaction(Placeholder):
        def run(self, ctx):
            seen.append(db.session().in_transaction() and bool(db.session().dirty))
            return PhaseOutcome(status="completed", result={})

    register_phase("market", NotesTheTransaction())  # declares nothing: not quick
    product = create_product(org, manager, BLANK_PHOTO)
    assert _run(product) == "completed"
    assert seen == [False]
