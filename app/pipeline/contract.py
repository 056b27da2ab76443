"""The phase contract: what a phase is given (PhaseContext) and what it returns (PhaseOutcome).

The rules a phase follows are written down in app.pipeline.phases; this module holds only the
types, so that phases of other domains (app.listings) depend on the contract, not on the
pipeline's registry or runner.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PHASES = ["analysis", "market", "seo", "listing"]
MAX_ATTEMPTS = 3


@dataclass
class PhaseContext:
    """What a phase gets: ids, the fresh product row, earlier results, and a live log."""

    org_id: int
    product_id: int
    phase: str
    attempt: int
    product: Any  # app.pipeline.models.Product, freshly loaded (read it, do not modify it)
    results: Mapping[str, dict]  # results of the phases before this one, by phase name
    review_threshold: int
    log_fn: Callable[..., None] = field(repr=False, default=lambda *a, **k: None)

    def log(self, level: str, message: str, **details: Any) -> None:
        """Add a pipeline log line for this product and phase; stored with the phase's outcome."""
        self.log_fn(level, message, **details)


@dataclass
class PhaseOutcome:
    """What a phase returns; see the module doc for what the runner does with each field."""

    status: Literal["completed", "needs_review", "failed"]
    result: dict = field(default_factory=dict)
    error: str | None = None
    transient: bool = False
    product: dict | None = None
    write: Callable[[], None] | None = field(default=None, repr=False)
