"""Security headers on every response, and files the app creates readable by its own user only.

The Content-Security-Policy allows scripts and styles from this app only: no inline `<script>`,
no `on…=` attributes, no `style=` attributes (behaviour lives in static/app.js, looks in
static/app.css), no eval (HTMX runs with `allowEval: false`). Images may also come over HTTPS,
because supplier exports name their product photos by URL. A view that sets one of these headers
itself (a public share page, a download) keeps its own value.
"""
from __future__ import annotations

import os
from pathlib import Path

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Addresses can carry tokens (share links) and names: other sites never see them.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def add_security_headers(response):
    """after_request: the headers above, unless the view chose its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def private_folder(path: str | os.PathLike) -> Path:
    """Create the folder and any missing parents as 0700 (existing parents are left alone)."""
    folder = Path(path)
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:  # another process made it meanwhile
            pass
        os.chmod(level, PRIVATE_FOLDER_MODE)  # mkdir's mode is reduced by the umask
    return Path(path)


def private_file(path: str | os.PathLike) -> None:
    """Create an empty file as 0600 unless it exists, so what is written into it later stays private."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass


def make_files_private(config: dict) -> None:
    """The instance and upload folders 0700, the SQLite database (and its WAL files) 0600.

    Runs at start-up, so an installation made before these modes were set is tightened too."""
    for key in ("INSTANCE_DIR", "UPLOAD_DIR"):
        _tighten(private_folder(config[key]), PRIVATE_FOLDER_MODE)
    database = sqlite_file(config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        private_folder(database.parent)
        private_file(database)
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            _tighten(path, PRIVATE_FILE_MODE)


def sqlite_file(uri: str) -> Path | None:
    """The file of a SQLite database URI; None for other databases and in-memory ones."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except (FileNotFoundError, PermissionError):  # not there yet, or not ours to change
        pass
