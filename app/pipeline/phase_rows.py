"""A phase as the runner reads it: its row, its product and the product's phases, and the context
its module runs with."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app.core.models import Organisation
from app.extensions import db
from app.pipeline.models import PHASE_DONE, Product, ProductPhase
from app.pipeline.phases import PhaseContext
from app.pipeline.run_log import log_row


def load_phase(phase_id: int) -> tuple[ProductPhase | None, int | None]:
    """The phase, its product and the product's phases read afresh in one statement, and the
    organisation's review threshold. Each commit, and the end of a phase's read,
    expire every object of the session: reloaded one at a time on first touch (the phase, its
    product, its organisation, the phases again) they cost five to seven statements a step.
    (Plain entities, not loader options: an option stays with the rows it loaded and would change
    every later reload of them into a statement of its own.)"""
    product_id = select(ProductPhase.product_id).where(ProductPhase.id == phase_id).scalar_subquery()
    query = (select(ProductPhase, Product, Organisation.review_threshold)
             .join(Product, Product.id == ProductPhase.product_id)
             .join(Organisation, Organisation.id == Product.organisation_id)
             .where(ProductPhase.product_id == product_id).order_by(ProductPhase.position)
             .execution_options(populate_existing=True))
    rows = db.session.execute(query).all()
    if not rows:
        return None, None
    product = rows[0][1]  # held by its phases (the session only keeps weak references)
    set_committed_value(product, "phases", [row[0] for row in rows])
    for row in rows:
        set_committed_value(row[0], "product", product)
    found = next((row for row in rows if row[0].id == phase_id), None)
    return (found[0], found[2]) if found is not None else (None, None)


def phase_context(phase: ProductPhase, review_threshold: int, pending_logs: list[dict]) -> PhaseContext:
    product = phase.product
    results = {p.name: dict(p.result or {}) for p in product.phases
               if p.position < phase.position and p.status in PHASE_DONE}
    org_id, product_id, name = product.organisation_id, product.id, phase.name

    def _log(level: str, message: str, **details) -> None:
        pending_logs.append(log_row(org_id, product_id, name, level, message[:4000], details))

    return PhaseContext(org_id=org_id, product_id=product_id, phase=name, attempt=phase.attempts_total,
                        product=product, results=results, review_threshold=review_threshold,
                        log_fn=_log)
