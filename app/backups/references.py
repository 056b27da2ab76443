"""Which stored files the database names, found from the schema rather than listed by hand.

A reference is:
  * the value of any column whose name contains `sha256` (product_images.sha256 and
    thumb_sha256, tech_files.sha256, batches.stored_sha256, supplier_imports.file_sha256, …): a
    new table with such a column is covered the day it is migrated;
  * inside any JSON column, a hash under a key containing `sha256` (batch rows' generated images,
    a sketch's clean_sha256, batch log entries) or a value of a `renditions` object (the smaller
    sizes of a tech file, keyed by width).
Other 64-hex values (fingerprints, token hashes) are not files and are not counted. The same scan
reads the live database, a backup's database and a JSON dump, so a backup can be checked for
every file its own rows name.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import JSON, MetaData, String, Text, cast, or_, select
from sqlalchemy.engine import Connection

SHA = re.compile(r"^[0-9a-f]{64}$")
JSON_KEY = "sha256"
JSON_MAPS = frozenset({"renditions"})  # objects whose values are hashes keyed by something else
CAPABILITY_LABELS = {"pipeline": "Product photos", "techfiles": "Tech files", "batches": "CSV batches",
                     "inventory": "Supplier imports", "inbox": "Inbox", "core": "Core", "orders": "Orders"}


@dataclass(frozen=True)
class Source:
    table: str
    column: str
    json: bool


@dataclass
class References:
    """Every hash the database names, with where (table.column) it was named."""

    where: dict[str, set[str]] = field(default_factory=dict)

    def add(self, sha: str, place: str) -> None:
        self.where.setdefault(sha, set()).add(place)

    def __contains__(self, sha: str) -> bool:
        return sha in self.where

    def __len__(self) -> int:
        return len(self.where)

    @property
    def hashes(self) -> set[str]:
        return set(self.where)


def sources(meta: MetaData) -> list[Source]:
    """The columns that can name stored files: *sha256* text columns and every JSON column."""
    found = []
    for table in meta.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, JSON):
                found.append(Source(table.name, column.name, True))
            elif JSON_KEY in column.name.lower() and isinstance(column.type, (String, Text)):
                found.append(Source(table.name, column.name, False))
    return found


def hashes_in(value, named: bool = False) -> Iterator[str]:
    """Hashes inside a JSON value (a dict, a list, or its text) that name stored files."""
    if isinstance(value, str):
        if named and SHA.match(value):
            yield value
        elif value[:1] in ("{", "[") and (JSON_KEY in value or any(k in value for k in JSON_MAPS)):
            try:
                yield from hashes_in(json.loads(value), named)
            except ValueError:
                return
    elif isinstance(value, dict):
        for key, item in value.items():
            key = str(key).lower()
            if key in JSON_MAPS and isinstance(item, dict):
                for inner in item.values():
                    yield from hashes_in(inner, True)
            else:
                yield from hashes_in(item, named or JSON_KEY in key)
    elif isinstance(value, list):
        for item in value:
            yield from hashes_in(item, named)


def scan(conn: Connection, meta: MetaData) -> References:
    """Every file the rows of this database name (`meta`: its tables, from the models or reflected)."""
    refs = References()
    for source in sources(meta):
        column = meta.tables[source.table].c[source.column]
        place = f"{source.table}.{source.column}"
        if source.json:
            markers = [cast(column, Text).like(f"%{m}%") for m in (JSON_KEY, *JSON_MAPS)]
            for (value,) in conn.execute(select(column).where(column.is_not(None), or_(*markers))):
                for sha in hashes_in(value):
                    refs.add(sha, place)
        else:
            for (value,) in conn.execute(select(column).where(column.is_not(None)).distinct()):
                if isinstance(value, str) and SHA.match(value):
                    refs.add(value, place)
    return refs


def scan_dump(tables: dict) -> References:
    """The same scan over a JSON dump's tables ({name: {"columns": [...], "rows": [...]}})."""
    refs = References()
    for name, table in tables.items():
        for index, column in enumerate(table["columns"]):
            named = JSON_KEY in column.lower()
            for row in table["rows"]:
                value = row[index] if index < len(row) else None
                if isinstance(value, str):
                    for sha in hashes_in(value, named):
                        refs.add(sha, f"{name}.{column}")
    return refs


def capabilities(places: Iterable[str]) -> set[str]:
    """The capabilities (domain packages) whose tables name a file."""
    owners = table_owners()
    return {owners.get(place.split(".")[0], place.split(".")[0]) for place in places}


def table_owners() -> dict[str, str]:
    """Table name → the label of the domain whose models module defines it."""
    from app.extensions import db

    owners = {}
    for mapper in db.Model.registry.mappers:
        package = mapper.class_.__module__.split(".")[1]
        owners[mapper.local_table.name] = CAPABILITY_LABELS.get(package, package)
    return owners
