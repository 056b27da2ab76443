"""Secrets at rest: Fernet (from `cryptography`) under ENCRYPTION_KEY, masked whenever shown.

A column declared `EncryptedText` or `EncryptedJSON` holds a Fernet token; the value is
encrypted on write and decrypted on read, so services and templates only ever see plain values
and never write one to the database. ENCRYPTION_KEY may list several keys separated by commas:
the first encrypts, every one decrypts (a MultiFernet), which is how a key is rotated without a
moment where running processes cannot read what another one wrote:

    flask secrets rotate     # re-encrypts every encrypted column under the first key

With the key generated into the instance folder (ENCRYPTION_KEY unset), `rotate` makes the new
key itself: it writes "new,old" to the key file, re-encrypts, then leaves only the new key.
Other processes re-read the key file when a value does not decrypt, so they follow without a
restart. With ENCRYPTION_KEY set, put the new key first (`flask secrets new-key` prints one),
deploy, run `flask secrets rotate`, then drop the old key.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

KEY_FILE = "encryption_key"
MASK = "••••"


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt with any configured key (ENCRYPTION_KEY changed)."""


def _keys_from(raw: str) -> list[str]:
    return [k.strip() for k in (raw or "").split(",") if k.strip()]


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


def _fernet(raw: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in _keys_from(raw)])
    except (ValueError, TypeError):
        raise SecretUnreadable("ENCRYPTION_KEY is not a list of Fernet keys (32 url-safe base64-encoded bytes each)."
                               ) from None


def _config() -> dict:
    if not has_app_context():
        raise RuntimeError("secrets are encrypted and decrypted inside the application")
    return current_app.config


def _reload_key_file(config: dict) -> bool:
    """Re-read the generated key file (another process rotated it); True when it changed."""
    path = config.get("ENCRYPTION_KEY_FILE")
    if not path:
        return False
    try:
        fresh = Path(path).read_text().strip()
    except OSError:
        return False
    if fresh and fresh != config["ENCRYPTION_KEY"]:
        config["ENCRYPTION_KEY"] = fresh
        return True
    return False


def encrypt(value: str) -> str:
    """A Fernet token for the text, under the first configured key."""
    return _fernet(_config()["ENCRYPTION_KEY"]).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token; SecretUnreadable when no configured key opens it."""
    config = _config()
    try:
        return _fernet(config["ENCRYPTION_KEY"]).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        if _reload_key_file(config):
            return decrypt(token)
        raise SecretUnreadable("A stored secret does not decrypt with ENCRYPTION_KEY; was the key changed "
                               "without `flask secrets rotate`?") from None


def rotate_token(token: str, raw_keys: str) -> str:
    """The same secret encrypted under the first of `raw_keys` (any of them may open it now)."""
    try:
        return _fernet(raw_keys).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("a stored secret does not decrypt with any of the keys given") from None


def mask(value: str | None, keep: int = 4) -> str:
    """'••••' and the last few characters (none of a short secret), for pages and logs."""
    value = value or ""
    if not value:
        return ""
    return MASK + (value[-keep:] if len(value) >= 4 * keep else "")


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(str(value))

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedJSON(TypeDecorator):
    """A JSON document (a dict of secrets) stored as one Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(json.dumps(value, sort_keys=True))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(decrypt(value))


def encrypted_columns(metadata) -> list[tuple[str, str, str]]:
    """(table, primary key column, column) of every encrypted column, found from the models."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (EncryptedText, EncryptedJSON)):
                found.append((table.name, table.primary_key.columns.values()[0].name, column.name))
    return found


def write_key_file(path: str | os.PathLike, keys: str) -> None:
    """Replace the key file in one step, readable only by this user."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(keys)
    os.replace(tmp, path)
