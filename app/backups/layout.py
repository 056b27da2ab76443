"""Where backups live and what a complete one looks like on disk.

    BACKUP_DIR/
      stockroom-20261205T020000123456Z/     one complete, verified backup
        manifest.json                       what it holds: database checksums, every file with its size
        verified.json                       when and how it was verified (written before the rename)
        database.sqlite3 | database.pgdump | database.json.gz
        files/ab/cd/<sha256><suffix>        the stored files, same paths as in UPLOAD_DIR
      .partial-stockroom-…/                 a backup being written (or one whose process died)

A backup is written under the `.partial-` name and renamed only after it was verified, so a
process killed half-way never leaves a folder that looks complete. The writer holds an exclusive
lock on `.partial-…/.lock`; a partial folder whose lock can be taken belongs to a dead process and
is removed by the next backup. Folders are 0700 and files 0600: backups hold every password hash.
Older single-file backups (`stockroom-<time>.sqlite3` with `.manifest.json` beside it) are still
read, verified and restored (database only).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

PREFIX = "stockroom-"
FORMAT = "stockroom-backup-2"
PARTIAL = ".partial-"
MANIFEST = "manifest.json"
VERIFIED = "verified.json"
DB_FILES = {"sqlite": "database.sqlite3", "pg_dump": "database.pgdump", "json": "database.json.gz"}
LEGACY_SUFFIXES = {"sqlite": ".sqlite3", "pg_dump": ".pgdump", "json": ".json.gz"}
STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(Exception):
    """The backup, check or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    """A complete backup folder."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def created_at(self) -> datetime:
        return stamp_of(self.name)

    def manifest(self) -> dict:
        return read_json(self.path / MANIFEST)

    def verified(self) -> dict | None:
        side = self.path / VERIFIED
        return read_json(side) if side.exists() else None


def stamp_of(name: str) -> datetime:
    raw = name.removeprefix(PARTIAL).removeprefix(PREFIX)
    try:
        return datetime.strptime(raw[:len("20260101T000000000000Z")], STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise BackupError(f"{name} is not named like a Stockroom backup ({PREFIX}<UTC time>).") from None


def new_name(now: datetime | None = None) -> str:
    return PREFIX + (now or datetime.now(UTC)).strftime(STAMP)


def private_dir(path: Path) -> Path:
    """Make a folder (and any missing parents) readable by the owner only."""
    target, missing = path, []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(target, 0o700)
    for folder in missing:
        os.chmod(folder, 0o700)
    return target


def backup_dir() -> Path:
    return private_dir(Path(current_app.config["BACKUP_DIR"]))


def write_json(path: Path, data) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path.name} is missing from {path.parent}.") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise BackupError(f"{path} is not a manifest (a JSON object was expected).")
    return data


def list_backups(folder: Path | None = None) -> list[Backup]:
    """Complete, verified backups, newest first."""
    folder = folder or Path(current_app.config["BACKUP_DIR"])
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.name.startswith(PREFIX) and entry.is_dir() and (entry / VERIFIED).exists():
            try:
                stamp_of(entry.name)
            except BackupError:
                continue
            found.append(Backup(entry))
    return sorted(found, key=lambda b: b.name, reverse=True)


def newest(folder: Path | None = None) -> Backup | None:
    backups = list_backups(folder)
    return backups[0] if backups else None


def resolve(path: str | Path) -> Backup | Path:
    """A backup folder (or a file inside one), or an older single-file backup."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    if path.is_file() and path.name in {*DB_FILES.values(), MANIFEST, VERIFIED}:
        path = path.parent
    if path.is_dir():
        if path.name.startswith(PARTIAL):
            raise BackupError(f"{path.name} is an unfinished backup (written, or stopped, before it was verified): "
                              "it is not used and the next backup removes it.")
        if not (path / MANIFEST).exists():
            raise BackupError(f"{path} is not a Stockroom backup folder (it has no {MANIFEST}).")
        return Backup(path)
    legacy_method(path)
    return path


def legacy_method(path: Path) -> str:
    for method, suffix in LEGACY_SUFFIXES.items():
        if path.name.endswith(suffix):
            return method
    raise BackupError(f"{path.name} is not a Stockroom backup (expected a backup folder, or a file ending in "
                      f"{', '.join(LEGACY_SUFFIXES.values())}).")


class Partial:
    """A backup folder being written: locked while it is, renamed to its final name at the end."""

    def __init__(self, folder: Path, name: str):
        self.final = folder / name
        self.path = private_dir(folder / f"{PARTIAL}{name}")
        self._lock = os.open(self.path / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def commit(self) -> Path:
        os.rename(self.path, self.final)  # the lock is held until the folder has its final name
        (self.final / ".lock").unlink()
        self.close()
        return self.final

    def abandon(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.close()

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def remove_dead_partials(folder: Path) -> list[str]:
    """Remove partial folders whose writer died (their lock is free); returns their names."""
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if not entry.name.startswith(PARTIAL) or not entry.is_dir():
            continue
        lock = entry / ".lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        shutil.rmtree(entry, ignore_errors=True)
        os.close(fd)
        removed.append(entry.name)
    return removed
