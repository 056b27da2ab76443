"""Uploaded files stored by content hash outside static/, opened only through authorised views.

Domains keep the hash (and the user's filename as a label) on their own rows; this module knows
nothing about organisations, so a shared volume or an object store can replace it alone.

A file lives at `<UPLOAD_DIR>/ab/cd/<sha256><suffix>`. Names starting with a dot are work in
progress (a write not yet renamed into place, a restore being staged) and are never listed.
Which rows name which files is the business of `app.backups.references`; here a file is only
listed, stored, refused (`discard`) or removed once nothing names it (`remove_if_stale`).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.core.security import private_folder

NAME = re.compile(r"^([0-9a-f]{64})(\.[A-Za-z0-9]{1,16})?$")
TEMP_PREFIX = ".upload-"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path
    created: bool = False  # True when this call wrote the file (nothing stored it before)


@dataclass(frozen=True)
class Listed:
    """A file found in the store."""

    sha256: str
    suffix: str
    size: int
    mtime: float
    path: Path

    @property
    def relpath(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}{self.suffix}"


def _root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def root() -> Path:
    """The folder of the store."""
    return _root()


def path_for(sha256: str, suffix: str = "") -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a content hash")
    return _root() / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"


def _touch(path: Path) -> None:
    # Storing a file that is already there counts as a fresh use: the sweep's grace period
    # starts again, so a row about to name it never finds it swept away.
    try:
        os.utime(path)
    except FileNotFoundError:
        pass


def save_bytes(data: bytes, suffix: str = "") -> StoredFile:
    """Store bytes under their SHA-256 (written atomically; storing twice is free)."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest, suffix)
    if target.exists():
        _touch(target)
        return StoredFile(digest, len(data), target)
    private_folder(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredFile(digest, len(data), target, created=True)


def save_stream(stream, suffix: str = "", chunk_size: int = 1 << 20) -> StoredFile:
    """Store a large upload without holding it in memory (nothing is left behind if reading fails)."""
    root = _root()
    private_folder(root)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            while chunk := stream.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        target = path_for(digest.hexdigest(), suffix)
        existed = target.exists()
        private_folder(target.parent)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredFile(digest.hexdigest(), size, target, created=not existed)


def open_path(sha256: str, suffix: str = "") -> Path:
    """Where a stored file lives; FileNotFoundError when it is gone."""
    path = path_for(sha256, suffix)
    if not path.exists():
        raise FileNotFoundError(sha256)
    return path


def discard(stored: StoredFile) -> bool:
    """Remove the file of a refused upload, if this upload was the one that wrote it.

    A file that was already in the store belongs to earlier rows and stays."""
    if not stored.created:
        return False
    stored.path.unlink(missing_ok=True)
    return True


def iter_files(folder: Path | None = None) -> Iterator[Listed]:
    """Every stored file (work in progress and foreign names left out), in no particular order."""
    base = folder or _root()
    if not base.is_dir():
        return
    for first in os.scandir(base):
        if not (first.is_dir(follow_symlinks=False) and len(first.name) == 2 and not first.name.startswith(".")):
            continue
        for second in os.scandir(first.path):
            if not second.is_dir(follow_symlinks=False) or second.name.startswith("."):
                continue
            for entry in os.scandir(second.path):
                match = NAME.match(entry.name)
                if not match or not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
                yield Listed(match.group(1), match.group(2) or "", stat.st_size, stat.st_mtime, Path(entry.path))


def stale_temporaries(older_than: float, folder: Path | None = None) -> list[Path]:
    """Half-written uploads (a process died mid-write) older than `older_than` (epoch seconds)."""
    base = folder or _root()
    if not base.is_dir():
        return []
    found = []
    for path in [base, *(p for p in base.glob("*/*") if p.is_dir())]:
        for entry in os.scandir(path):
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file() and entry.stat().st_mtime < older_than:
                found.append(Path(entry.path))
    return found


def remove_if_stale(listed: Listed, older_than: float) -> bool:
    """Remove a stored file unless it was stored (again) after `older_than` (epoch seconds).

    The file is first renamed aside, then its time is read again: a `save_*` that re-stored it in
    between either refreshed the time (the file is put back) or wrote a new copy (which stays)."""
    aside = listed.path.with_name(f".sweep-{listed.path.name}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(listed.path, aside)
    except FileNotFoundError:
        return False
    if aside.stat().st_mtime >= older_than:
        if listed.path.exists():
            aside.unlink()
        else:
            os.replace(aside, listed.path)
        return False
    aside.unlink()
    return True


def send_private(path: Path, mimetype: str, **options):
    """A stored file as a response only this browser may cache: files are stored by content, so the
    bytes behind an address never change, but they belong to one organisation."""
    from flask import send_file

    response = send_file(path, mimetype=mimetype, max_age=3600, conditional=True, **options)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def send_stored(sha256: str | None, mimetype: str, **options):
    """The stored file with this hash (see send_private); 404 when there is none."""
    from flask import abort

    try:
        path = open_path(sha256) if sha256 else None
    except (FileNotFoundError, ValueError):
        path = None
    if path is None:
        abort(404)
    return send_private(path, mimetype, **options)
