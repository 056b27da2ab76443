"""Uploaded files stored by content hash outside static/, opened only through authorised views.

Domains keep the hash (and the user's filename as a label) on their own rows; this module knows
nothing about organisations, so a shared volume or an object store can replace it alone.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


def _root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_for(sha256: str, suffix: str = "") -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a content hash")
    return _root() / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"


def save_bytes(data: bytes, suffix: str = "") -> StoredFile:
    """Store bytes under their SHA-256 (written atomically; storing twice is free)."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest, suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    return StoredFile(digest, len(data), target)


def save_stream(stream, suffix: str = "", chunk_size: int = 1 << 20) -> StoredFile:
    """Store a large upload without holding it in memory."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    with os.fdopen(fd, "wb") as fh:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
            fh.write(chunk)
    target = path_for(digest.hexdigest(), suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    return StoredFile(digest.hexdigest(), size, target)


def open_path(sha256: str, suffix: str = "") -> Path:
    """Where a stored file lives; FileNotFoundError when it is gone."""
    path = path_for(sha256, suffix)
    if not path.exists():
        raise FileNotFoundError(sha256)
    return path
