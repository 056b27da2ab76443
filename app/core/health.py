"""Health checks: each component's status and latency, for /healthz and the admin page."""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from app.extensions import db


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], tuple[str, str]]  # -> (status "ok"|"warning"|"down", detail)
    required: bool


CHECKS: dict[str, Check] = {}


def register_check(name: str, run: Callable[[], tuple[str, str]], *, required: bool = False) -> None:
    CHECKS[name] = Check(name, run, required)


def _database() -> tuple[str, str]:
    db.session.execute(text("SELECT 1"))
    return "ok", db.engine.dialect.name


def _redis() -> tuple[str, str]:
    from app.core.queue import get_redis

    info = get_redis().info("server")
    return "ok", f"Redis {info.get('redis_version')}"


def _workers() -> tuple[str, str]:
    from app.core.jobs import alive_worker_count

    alive = alive_worker_count()
    return ("ok" if alive else "down"), f"{alive} alive"


def _disk() -> tuple[str, str]:
    usage = shutil.disk_usage(current_app.config["INSTANCE_DIR"])
    free_gb = usage.free / 1e9
    return ("ok" if free_gb > 2 else "warning" if free_gb > 0.5 else "down"), f"{free_gb:.1f} GB free"


def _ocr() -> tuple[str, str]:
    # Checked without loading the model: a web process should not carry the OCR engine in memory.
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        return "down", "rapidocr-onnxruntime is not installed: OCR evidence is missing from analysis"
    models = sorted(p.name for p in (Path(spec.origin).parent / "models").glob("*.onnx"))
    if len(models) < 2:
        return "down", "the OCR model files are missing from the installed package"
    importlib.import_module("onnxruntime")
    return "ok", f"rapidocr-onnxruntime {importlib.metadata.version('rapidocr-onnxruntime')}, {len(models)} models shipped"


def _barcodes() -> tuple[str, str]:
    importlib.import_module("zxingcpp")
    return "ok", f"zxing-cpp {importlib.metadata.version('zxing-cpp')}"


register_check("database", _database, required=True)
register_check("redis", _redis, required=True)
register_check("workers", _workers)
register_check("disk", _disk)
register_check("ocr", _ocr)
register_check("barcodes", _barcodes)


def check_all() -> dict:
    """Run every check; overall status is down when a required one fails."""
    components, overall = {}, "ok"
    for check in CHECKS.values():
        started = time.perf_counter()
        try:
            status, detail = check.run()
        except Exception as exc:  # a health page reports failures, it does not raise them
            status, detail = "down", f"{type(exc).__name__}: {exc}"
            db.session.rollback()
        latency = round((time.perf_counter() - started) * 1000, 1)
        components[check.name] = {"status": status, "detail": detail, "latency_ms": latency,
                                  "required": check.required}
        if status != "ok":
            overall = "down" if check.required and status == "down" else ("degraded" if overall == "ok" else overall)
    return {"status": overall, "components": components}
