"""Taking a complete backup: the database, then every stored file, then a check, then the rename.

Files are stored by content hash, so a file's name says what it holds: a file that the newest
earlier backup already has (same path, same size) is hard-linked from there instead of copied,
which makes every backup complete on its own while costing only the new files in time and space
(where the file system cannot link, it is copied). Every file copied from the store is hashed
on the way; one whose bytes no longer match its name is left out and named in the manifest.
The database is dumped first: any file a row names was stored before the row was written, so it
is in the store when the files are copied (the sweep does not run while a backup does).
"""
from __future__ import annotations

import errno
import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from app.backups.database import Dump, dump_database
from app.backups.layout import (
    FORMAT,
    MANIFEST,
    VERIFIED,
    Backup,
    BackupError,
    Partial,
    backup_dir,
    list_backups,
    new_name,
    private_dir,
    remove_dead_partials,
    write_json,
)
from app.backups.verify import Report, verify_backup
from app.core import storage
from app.extensions import db

CHUNK = 1 << 20
MISSING_LISTED = 1000  # references to absent files named in the manifest (all are counted)


@dataclass
class FilesCopied:
    listed: list[list] = field(default_factory=list)  # [relpath, size]
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    linked: int = 0
    damaged: list[str] = field(default_factory=list)


@dataclass
class Made:
    backup: Backup
    manifest: dict
    report: Report
    seconds: float


def backup_create(*, force_json: bool = False) -> Made:
    """Write a complete backup (database and stored files) into BACKUP_DIR, verified, and return it."""
    started = time.perf_counter()
    folder = backup_dir()
    remove_dead_partials(folder)
    previous = list_backups(folder)
    partial = Partial(folder, new_name())
    try:
        dump = dump_database(db.engine, partial.path, force_json=force_json)
        files = copy_files(private_dir(partial.path / "files"), previous[0].path / "files" if previous else None)
        manifest = build_manifest(partial.final.name, dump, files)
        write_json(partial.path / MANIFEST, manifest)
        report = verify_backup(partial.path, partial=True)
        if not report.ok:
            raise BackupError("The new backup failed its check and was not kept: " + report.first_problems())
        write_json(partial.path / VERIFIED, {"verified_at": datetime.now(UTC).isoformat(), "checks": report.checked})
        path = partial.commit()
    except BaseException:
        partial.abandon()
        raise
    return Made(Backup(path), manifest, report, time.perf_counter() - started)


def build_manifest(name: str, dump: Dump, files: FilesCopied) -> dict:
    stored = {entry[0].rsplit("/", 1)[1][:64] for entry in files.listed}
    missing = sorted(dump.references.hashes - stored)
    return {
        "format": FORMAT, "name": name, "created_at": datetime.now(UTC).isoformat(),
        "method": dump.method, "dialect": dump.dialect, "revision": dump.revision, "note": dump.note,
        "database": {"file": dump.file.name, "size": dump.file.stat().st_size, "sha256": file_sha256(dump.file)},
        "tables": {k: v.as_dict() for k, v in dump.tables.items()},
        "schema": dump.schema,
        "files": {"count": len(files.listed), "bytes": files.bytes, "copied": files.copied,
                  "copied_bytes": files.copied_bytes, "linked": files.linked, "damaged_in_store": files.damaged,
                  "list": sorted(files.listed)},
        "references": {"count": len(dump.references), "missing_count": len(missing),
                       "missing": [{"sha256": sha, "named_by": sorted(dump.references.where[sha])}
                                   for sha in missing[:MISSING_LISTED]]},
        "upload_dir": str(current_app.config["UPLOAD_DIR"]),
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_files(dest: Path, earlier: Path | None) -> FilesCopied:
    """Every stored file into `dest` (same relative paths): linked from `earlier` when it has it."""
    result = FilesCopied()
    made_dirs: set[Path] = set()
    for item in storage.iter_files():
        target = dest / item.relpath
        if target.parent not in made_dirs:
            private_dir(target.parent)
            made_dirs.add(target.parent)
        source = earlier / item.relpath if earlier is not None else None
        if source is not None and _link(source, target, item.size):
            result.linked += 1
        else:
            copied = _copy_checked(item, target)
            if copied is None:
                continue
            if copied is False:
                result.damaged.append(item.relpath)
                continue
            result.copied += 1
            result.copied_bytes += item.size
        result.listed.append([item.relpath, item.size])
        result.bytes += item.size
    return result


def _link(source: Path, target: Path, size: int) -> bool:
    try:
        if source.stat().st_size != size:
            return False
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            return False
        raise
    return True


def _copy_checked(item: storage.Listed, target: Path) -> bool | None:
    """Copy and hash: True when copied, False when the stored bytes do not match their name,
    None when the file was removed from the store meanwhile."""
    digest = hashlib.sha256()
    try:
        source = open(item.path, "rb")
    except FileNotFoundError:
        return None
    with source, os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != item.sha256:
        target.unlink()
        return False
    return True
