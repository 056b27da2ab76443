"""A throwaway database for a benchmark: a SQLite file in the run's temporary folder, or, when
DATABASE_URL points at PostgreSQL, a fresh database on that server that is dropped afterwards."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import database_url


def scratch_database(folder: Path, prefix: str = "stockroom_bench") -> tuple[str, Callable[[], None]]:
    """(URL of an empty database, function that removes it)."""
    raw = os.environ.get("DATABASE_URL", "")
    if not raw.startswith(("postgres://", "postgresql")):
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    server = make_url(database_url(raw))
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop
