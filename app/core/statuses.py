"""Status sets: one base for every domain's statuses — labels, groups, allowed moves, one column type.

A domain declares its statuses in its own `statuses.py`:

    class BatchStatus(StatusEnum):
        UPLOADED = "uploaded"
        ...

    define(BatchStatus,
           moves={BatchStatus.UPLOADED: {BatchStatus.QUEUED, ...}, ...},
           groups={"active": {BatchStatus.QUEUED, BatchStatus.PROCESSING}},
           labels={"completed_with_errors": "completed with errors"})

and its services check every change: `BatchStatus.check(old, new)` raises Conflict for a move
outside the table, `status.can_become(new)` asks, `BatchStatus.group("active")` gives the set for
queries. Columns use `status_column(BatchStatus)`: a VARCHAR holding the values, the same schema
on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.orm import mapped_column

from app.core.enums import LabelledEnum, db_enum, set_labels
from app.core.errors import Conflict


class StatusEnum(LabelledEnum):
    """A status: its label, and (once `define` ran) its allowed moves and the groups it is in."""

    @classmethod
    def allowed(cls, old) -> frozenset:
        """The statuses `old` may move to."""
        moves = cls.__dict__.get("_status_moves")
        if moves is None:
            raise TypeError(f"{cls.__name__} has no table of moves: call define() in its statuses module")
        return moves[cls(old)]

    def can_become(self, new) -> bool:
        return type(self)(new) in type(self).allowed(self)

    @classmethod
    def check(cls, old, new) -> None:
        """Raise Conflict unless old → new is in the table of moves."""
        old, new = cls(old), cls(new)
        if new not in cls.allowed(old):
            raise Conflict(f"cannot go from {old.label.lower()} to {new.label.lower()}")

    @classmethod
    def group(cls, name: str) -> frozenset:
        """A named set of statuses (e.g. "active"), for queries and pages."""
        return (cls.__dict__.get("_status_groups") or {})[name]


def define(cls: type[StatusEnum], *, moves: Mapping, groups: Mapping[str, Iterable] | None = None,
           labels: Mapping[str, str] | None = None) -> type[StatusEnum]:
    """Attach the table of moves (every status must have an entry), groups and label overrides."""
    missing = [s for s in cls if s not in moves]
    if missing:
        raise TypeError(f"{cls.__name__}: no moves given for {', '.join(s.value for s in missing)}")
    type.__setattr__(cls, "_status_moves", {cls(k): frozenset(cls(v) for v in vs) for k, vs in moves.items()})
    type.__setattr__(cls, "_status_groups", {k: frozenset(cls(v) for v in vs) for k, vs in (groups or {}).items()})
    set_labels(cls, labels or {})
    return cls


def status_column(cls: type[StatusEnum], *, length: int = 24, **kwargs):
    """A mapped column holding a status of `cls` (VARCHAR of its values, validated on write)."""
    return mapped_column(db_enum(cls, length=length), **kwargs)
