"""Rows for listing tests: products as analysis leaves them, and a phase context around them."""
from __future__ import annotations

import hashlib

from app.extensions import db
from app.pipeline.models import Condition, Product, ProductImage, ProductStatus
from app.pipeline.phases import PhaseContext


def make_product(org, *, name="Curb Chain Bracelet", brand="Aurum", model=None, category="Chains › Bracelet Chains",
                 gtin="4006381333931", condition=Condition.NEW, images=2, evidence=None, kept_text=None) -> Product:
    product = Product(organisation_id=org.id, status=ProductStatus.PROCESSING, name=name, brand=brand, model=model,
                      category=category, gtin=gtin, condition=condition, evidence=evidence or {}, confidence=100,
                      kept_text=kept_text)
    db.session.add(product)
    db.session.flush()
    for position in range(images):
        digest = hashlib.sha256(f"{product.id}-{position}".encode()).hexdigest()
        db.session.add(ProductImage(organisation_id=org.id, product_id=product.id, sha256=digest,
                                    filename=f"photo{position}.jpg", format="JPEG", size_bytes=1000, width=800,
                                    height=600, position=position))
    db.session.commit()
    return product


def context(product, phase: str, results: dict | None = None, logs: list | None = None) -> PhaseContext:
    def log(level, message, **details):
        if logs is not None:
            logs.append((level, message, details))

    return PhaseContext(org_id=product.organisation_id, product_id=product.id, phase=phase, attempt=1,
                        product=product, results=results or {}, review_threshold=80, log_fn=log)


def finish(outcome) -> None:
    """What the runner does with a completed outcome: run its write in one transaction, commit."""
    if outcome.write is not None:
        outcome.write()
    db.session.commit()


def run_phases(product, *names: str) -> dict:
    """Run phases in order through their run(ctx) contract, like the runner; returns results."""
    from app.pipeline.phases import phase_module

    results: dict = {}
    for name in names:
        outcome = phase_module(name).run(context(product, name, dict(results)))
        assert outcome.status == "completed", (name, outcome.error)
        finish(outcome)
        results[name] = outcome.result
    return results
