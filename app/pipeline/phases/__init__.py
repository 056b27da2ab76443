"""The phase runner contract: every pipeline phase is a module here with one `run(ctx)` function.

    PHASES = ["analysis", "market", "seo", "listing"]      # the order products go through

A phase module (`app/pipeline/phases/analysis.py`, `app/listings/phases/<name>.py`) exposes

    def run(ctx: PhaseContext) -> PhaseOutcome

and the runner (`app.pipeline.runner`, driven by the RQ task `app.pipeline.tasks.run_phase`) does
everything around it:

* It claims the phase row atomically (one conditional UPDATE queued → running, with a lease kept
  alive by a heartbeat), so a second delivery of the same RQ job, or a stale job id after a
  requeue, does nothing.
* It calls `run(ctx)` with NO open database transaction: a phase may read (plain SELECTs through
  `db.session` are fine) but must not write through the session, and must not commit. Slow work
  (OCR, HTTP) therefore never holds SQLite's write lock.
* Optionally `quick() -> bool`: True when the phase only reads a few rows and calls nothing
  outside the database (market without a price provider, SEO, listing). A quick phase handed on
  to the same work horse runs inside the transaction of the previous phase's finish, left open
  for it, and the finishes are committed together (runner `_commit_keeping_the_next`); the rule
  above still holds for it: it reads only, and what it changes in the session by mistake is dropped.
* `ctx.log(level, message, **details)` adds a pipeline log line; the lines are written with the
  phase's outcome, in the transaction that records it, and the product page is told then.
* Side effects go in `PhaseOutcome.write`: a callable taking no arguments, run by the runner
  INSIDE the transaction that records the outcome "completed" or "needs_review" (after checking
  that this attempt still owns the running phase; never for "failed"). Add your own rows with `db.session.add(...)`
  there, and do not commit. If the phase was stopped or re-leased meanwhile, that transaction
  is not attempted, so a phase's side effects never happen twice.
* `PhaseOutcome.result` (JSON-ready dict) is stored on `ProductPhase.result` and handed to later
  phases as `ctx.results[name]`. `PhaseOutcome.product` (dict) may set identified product
  fields (name, brand, model, category, gtin, confidence, confidence_source, evidence, phash);
  only the analysis phase should need it.
* Status: "completed" → the next phase is enqueued after commit (the product completes after
  the last one). "needs_review" → the product waits in the review queue; approving it
  completes the phase and continues. "failed" with `transient=True` → retried automatically
  with backoff (at most MAX_ATTEMPTS attempts in all), otherwise the phase fails with `error`
  shown to the user next to a Retry button. An exception raised by `run` counts as a
  transient failure (a bug shows up as three attempts, then "failed" with the exception).
* Optionally `warm()`: the worker parent calls it once before forking (app.pipeline.warm_sql)
  so that the module's SQL is compiled there and no job compiles it again. It runs the module's
  reads for an organisation that does not exist and its writes against rows that do not
  (`warm_sql.compile_writes`); it must not call anything outside the database.
* The phases are listed in `built_in_phases` (plain imports: grep and the import graph show
  the wiring). A phase that is not available is marked "skipped" (with the reason in the log),
  never faked: the product completes when the remaining phases are done or skipped.

Tests may register a module-like object for a name with `register_phase(name, obj)` (undone
by `unregister_phase`); application code never does.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

from app.pipeline.contract import MAX_ATTEMPTS, PHASES, PhaseContext, PhaseOutcome  # noqa: F401 - the contract


class PhaseUnavailable(Exception):
    """The module for a phase is not installed."""


_registered: dict[str, Any] = {}


def register_phase(name: str, module: Any) -> None:
    """Tests only: use `module` (anything with a `run(ctx)`) for phase `name`."""
    if name not in PHASES:
        raise ValueError(f"unknown phase {name!r}")
    _registered[name] = module


def unregister_phase(name: str) -> None:
    _registered.pop(name, None)


def built_in_phases() -> dict[str, ModuleType]:
    """The phase modules, by name: analysis here; market research, SEO and the listing in app.listings."""
    from app.listings.phases import listing, market, seo
    from app.pipeline.phases import analysis

    return {"analysis": analysis, "market": market, "seo": seo, "listing": listing}


def phase_module(name: str) -> ModuleType | Any:
    """The module that runs phase `name`; PhaseUnavailable when there is none."""
    if name in _registered:
        return _registered[name]
    module = built_in_phases().get(name)
    if module is None:
        raise PhaseUnavailable(f"unknown phase {name!r}")
    if not callable(getattr(module, "run", None)):
        raise PhaseUnavailable(f"the {name} phase module has no run(ctx)")
    return module


def phase_available(name: str) -> bool:
    try:
        phase_module(name)
    except PhaseUnavailable:
        return False
    return True


def next_phase(name: str) -> str | None:
    index = PHASES.index(name)
    return PHASES[index + 1] if index + 1 < len(PHASES) else None
