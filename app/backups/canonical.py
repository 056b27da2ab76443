"""What a database holds, in forms that can be compared: per-table row sums and a schema fingerprint.

Row sums use one text form per value whatever the engine returned (so a JSON dump taken on
PostgreSQL compares with its restore on SQLite); rows are read in primary-key order. The schema
fingerprint covers tables, columns, indexes and constraints with their definitions, per engine:
a restore that lost a CHECK constraint or an index does not match it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

# Tables whose rows describe the backups themselves: left out of sums and emptiness checks,
# since a run row changes while its own backup is being taken.
OWN_TABLES = frozenset({"backup_runs"})


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str

    def as_dict(self) -> dict:
        return {"rows": self.rows, "sha256": self.sha256}


def canonical(value) -> str | None:
    """One text form per value whatever the database returned it as (checksums compare across engines)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (bytes, memoryview)):
        return "b64:" + base64.b64encode(bytes(value)).decode()
    return str(value)


def reflect(conn: Connection) -> MetaData:
    """The tables as the database has them (not as the code would like them)."""
    meta = MetaData()
    with warnings.catch_warnings():  # expression indexes are not needed to read or write rows
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        meta.reflect(bind=conn)
    return meta


def ordered(table):
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def sum_rows(rows) -> TableSum:
    digest, count = hashlib.sha256(), 0
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(b"\n")
        count += 1
    return TableSum(count, digest.hexdigest())


def canonical_rows(conn: Connection, table):
    for row in conn.execute(ordered(table)):
        yield [canonical(v) for v in row]


def table_sums(conn: Connection, meta: MetaData | None = None) -> dict[str, TableSum]:
    """Row count and checksum of every table (alembic_version included, the run log left out)."""
    meta = meta if meta is not None else reflect(conn)
    return {name: sum_rows(canonical_rows(conn, table)) for name, table in sorted(meta.tables.items())
            if name not in OWN_TABLES}


def revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at (None for a database never migrated)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
    return ",".join(rows) or None


_PG_SCHEMA = {
    "columns": "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
               "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
               "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
               "AND d.adnum = a.attnum WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 "
               "AND NOT a.attisdropped",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE connamespace = 'public'::regnamespace",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
}


# PostgreSQL deparses some definitions differently after a dump and restore (`IN (...)` checks come
# back with the casts inside the array): casts, parentheses and spacing are left out of the comparison.
_CASTS = re.compile(r"::[a-z_][a-z0-9_ ]*(?:\[\])?")


def _definition(value) -> str | None:
    text_ = canonical(value)
    return "".join(_CASTS.sub("", text_).replace("(", "").replace(")", "").split()) if text_ else text_


def schema_fingerprint(conn: Connection) -> dict:
    """Counts of tables, indexes and constraints and one SHA-256 over all their definitions."""
    if conn.dialect.name == "postgresql":
        parts = {name: sorted(tuple(_definition(v) for v in row) for row in conn.execute(text(sql)))
                 for name, sql in _PG_SCHEMA.items()}
        counts = {"tables": len({r[0] for r in parts["columns"]}), "indexes": len(parts["indexes"]),
                  "constraints": len(parts["constraints"])}
    else:
        rows = sorted(tuple(canonical(v) for v in row) for row in conn.execute(text(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")))
        parts = {"objects": rows}
        counts = {"tables": sum(r[0] == "table" for r in rows), "indexes": sum(r[0] == "index" for r in rows),
                  "constraints": sum((r[3] or "").upper().count("CONSTRAINT") for r in rows if r[0] == "table")}
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
    return {"dialect": conn.dialect.name, "sha256": digest, **counts}


def data_tables(conn: Connection, meta: MetaData | None = None) -> list[str]:
    """Tables that hold at least one row (the migration marker and the run log do not count)."""
    meta = meta if meta is not None else reflect(conn)
    return [t.name for t in meta.sorted_tables if t.name not in OWN_TABLES | {"alembic_version"}
            and conn.execute(select(t).limit(1)).first() is not None]
