"""Work a worker does once, before it forks, instead of in every work horse.

RQ's forking worker runs each job in a fresh child. Whatever the child has to import or build
first is paid again for every job: configuring the SQLAlchemy mappers, importing the task and
phase modules, compiling the SQL a phase job runs first, loading the OCR models and the
image-hash library (scipy). Done here, in the parent, the children inherit it through
copy-on-write memory and start with the work itself.
The OCR engine (onnxruntime sessions) keeps working in forked children; nothing here opens a
database connection or a socket that stays open, so no child inherits one.
"""
from __future__ import annotations

import gc
import importlib
import logging
import time
import weakref

from flask import Flask
from sqlalchemy.orm import configure_mappers

log = logging.getLogger(__name__)

TASK_MODULES = ("app.core.tasks", "app.pipeline.tasks", "app.batches.tasks", "app.techfiles.tasks",
                "app.inbox.tasks", "app.inbox.channels.tasks", "app.inventory.tasks", "app.backups.tasks")


def warm_up(app: Flask) -> dict[str, float]:
    """Prepare the worker parent; returns the seconds each step took (logged, for the bench)."""
    took: dict[str, float] = {}

    def step(name: str, work) -> None:
        started = time.perf_counter()
        try:
            work()
        except Exception:  # a missing optional part must not stop the worker: the job will say why
            log.warning("warm-up step %s failed; jobs will do it themselves", name, exc_info=True)
        took[name] = round(time.perf_counter() - started, 3)

    with app.app_context():
        step("mappers", configure_mappers)
        step("task modules", lambda: [importlib.import_module(name) for name in TASK_MODULES])
        step("phase modules", _import_phases)
        step("phase statements", _compile_phase_statements)
        step("image hashing", _hash_once)
        step("lazy imports", _lazy_imports)
        step("keyword patterns", _keyword_patterns)
        step("OCR engine", _load_ocr)
    # What the warm-up built lives as long as the worker: out of the collector's sight, a work
    # horse's collections no longer walk (and so copy) the parent's pages.
    gc.freeze()
    log.info("worker warmed up: %s", ", ".join(f"{name} {seconds:.2f} s" for name, seconds in took.items()))
    return took


def _import_phases() -> None:
    from app.pipeline.phases import built_in_phases

    built_in_phases()


_compiled_for: weakref.WeakSet = weakref.WeakSet()  # engines already done (a fork inherits the set)
_patterns_for: weakref.WeakSet = weakref.WeakSet()


def _compile_phase_statements() -> None:
    from sqlalchemy.exc import DBAPIError

    from app.extensions import db
    from app.pipeline.warm_sql import warm_statements

    if db.engine in _compiled_for:
        return
    _compiled_for.add(db.engine)  # tried once per engine, also when it fails
    try:
        warm_statements()
    except DBAPIError as exc:  # e.g. a database not migrated yet: each job compiles its own, as before
        log.info("phase statements not compiled ahead: %s", str(exc.orig).splitlines()[0])
    finally:
        db.engine.dispose()  # no connection is left open for the children to inherit


def _hash_once() -> None:
    # imagehash imports scipy's FFT only inside phash(): 0.8 s that every analysis horse paid.
    from PIL import Image

    from app.analysis.duplicates import perceptual_hash

    perceptual_hash(Image.new("L", (32, 32)))


def _lazy_imports() -> None:
    # What phase jobs import on first use and every fresh horse imported again: YAKE (with
    # networkx: ~160 ms an SEO job), the reference data readers, Pillow's format plugins.
    from PIL import Image

    from app.analysis.keywords import extract_keywords
    from app.pipeline.phases.analysis import analyse_photo  # noqa: F401 - imported for the cache

    Image.init()
    extract_keywords("warm up keyword extraction")
    for name in ("app.refdata.lookup", "app.refdata.reader", "app.listings.price_provider"):
        importlib.import_module(name)


def _keyword_patterns() -> None:
    # Categorising a product tries every keyword of its organisation's rules: compiled here once
    # for the built-in rules and every organisation's own, instead of in each analysis job.
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from app.analysis.matching import keyword_pattern
    from app.extensions import db
    from app.inventory.category_rules import default_rule_dicts
    from app.inventory.models import CategoryRule

    keywords = {k for rule in default_rule_dicts() for k in rule["keywords"]}
    if db.engine not in _patterns_for:  # the organisations' own rules: read once per engine (a fork inherits the set)
        _patterns_for.add(db.engine)
        try:
            keywords |= {k for ks in db.session.scalars(select(CategoryRule.keywords)).all() for k in ks or ()}
        except DBAPIError as exc:  # e.g. a database not migrated yet: the built-in rules are compiled all the same
            log.info("organisations' keyword rules not compiled ahead: %s", str(exc.orig).splitlines()[0])
        finally:
            db.session.remove()
            db.engine.dispose()  # no connection is left open for the children to inherit
    for keyword in keywords:
        keyword_pattern(keyword)


def _load_ocr() -> None:
    from app.analysis.ocr import ocr_available

    ok, detail = ocr_available()
    if not ok:
        log.warning("%s", detail)

