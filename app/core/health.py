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
    if importlib.util.find_spec("onnxruntime") is None:
        return "down", "onnxruntime is not installed: the OCR models cannot run"
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


def database_report(limit: int = 8) -> dict:
    """Database size, the largest tables and, on PostgreSQL with pg_stat_statements, the slowest queries."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        return _postgres_report(conn, limit)
    page = conn.exec_driver_sql("PRAGMA page_size").scalar() * conn.exec_driver_sql("PRAGMA page_count").scalar()
    try:
        rows = conn.execute(text(
            "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name "
            "WHERE s.aggregate = 1 GROUP BY m.tbl_name ORDER BY 2 DESC LIMIT :n"), {"n": limit}).all()
    except Exception:  # noqa: BLE001 - SQLite built without dbstat: sizes unknown, rows still counted
        rows = [(name, None) for name in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").scalars()][:limit]
    quote = conn.dialect.identifier_preparer.quote
    tables = [{"name": name, "bytes": size,
               "rows": conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar()} for name, size in rows]
    return {"engine": "SQLite", "bytes": page, "tables": tables, "slow": None,
            "slow_note": "query timings are collected on PostgreSQL (pg_stat_statements) only"}


def _postgres_report(conn, limit: int) -> dict:
    size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    tables = [{"name": r[0], "bytes": r[1], "rows": max(int(r[2]), 0)} for r in conn.execute(text(
        "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT :n"),
        {"n": limit})]
    slow, note = None, ""
    if not conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).first():
        note = "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)"
    else:
        try:
            with conn.begin_nested():
                slow = [{"query": r[0][:300], "calls": r[1], "mean_ms": round(r[2], 2), "total_ms": round(r[3], 1)}
                        for r in conn.execute(text(
                            "SELECT query, calls, mean_exec_time, total_exec_time FROM pg_stat_statements "
                            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                            "ORDER BY mean_exec_time DESC LIMIT :n"), {"n": limit})]
        except Exception as exc:  # noqa: BLE001 - e.g. not in shared_preload_libraries: say why
            note = f"pg_stat_statements cannot be read: {str(exc).splitlines()[0]}"
    version = conn.execute(text("SHOW server_version")).scalar()
    return {"engine": f"PostgreSQL {version}", "bytes": size, "tables": tables, "slow": slow, "slow_note": note}


def check_all(*, required_only: bool = False) -> dict:
    """Run every check (or only the required ones); overall status is down when a required one fails."""
    components, overall = {}, "ok"
    for check in CHECKS.values():
        if required_only and not check.required:
            continue
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
