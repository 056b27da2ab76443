"""Which backups to keep: the newest of each of the last N days, M ISO weeks and K months that have one.

Counting is over periods that have a backup (as restic's keep-daily/weekly/monthly do), so a
week without backups does not use up a weekly slot. The newest backup is always kept. Unfinished
(`.partial-`) folders and older single-file backups are not touched.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app

from app.backups.layout import Backup, list_backups

PERIODS: dict[str, Callable[[datetime], tuple]] = {
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: tuple(t.isocalendar()[:2]),
    "monthly": lambda t: (t.year, t.month),
}


@dataclass
class Pruned:
    kept: list[str]
    removed: list[str]


def keep_set(stamps: Iterable[datetime], *, daily: int, weekly: int, monthly: int) -> set[datetime]:
    """The stamps to keep: newest per period, for the most recent `n` periods of each kind."""
    ordered = sorted(set(stamps), reverse=True)
    keep = set(ordered[:1])
    for kind, limit in (("daily", daily), ("weekly", weekly), ("monthly", monthly)):
        seen: list[tuple] = []
        for stamp in ordered:
            period = PERIODS[kind](stamp)
            if period in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(period)
            keep.add(stamp)
    return keep


def settings() -> dict[str, int]:
    config = current_app.config
    return {"daily": int(config["BACKUP_KEEP_DAILY"]), "weekly": int(config["BACKUP_KEEP_WEEKLY"]),
            "monthly": int(config["BACKUP_KEEP_MONTHLY"])}


def prune(folder: Path | None = None, *, dry_run: bool = False) -> Pruned:
    """Delete the backups the retention settings do not keep (or only say which, when dry)."""
    backups: list[Backup] = list_backups(folder)
    keep = keep_set((b.created_at for b in backups), **settings())
    kept = [b.name for b in backups if b.created_at in keep]
    removed = [b for b in backups if b.created_at not in keep]
    if not dry_run:
        for backup in removed:
            shutil.rmtree(backup.path)
    return Pruned(kept, [b.name for b in removed])
