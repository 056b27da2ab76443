"""`flask secrets …`: re-encrypt every stored secret under a new key (see app.core.crypto)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from app.core import crypto
from app.extensions import db

secrets_cli = AppGroup("secrets", help="Secrets at rest: make a key, rotate the key.")


@secrets_cli.command("new-key")
def new_key_command() -> None:
    """Print a fresh key to put first in ENCRYPTION_KEY before `flask secrets rotate`."""
    click.echo(crypto.new_key())


def reencrypt_all(raw_keys: str) -> dict[str, int]:
    """Every encrypted column re-encrypted under the first of `raw_keys`, in one transaction; counts per column."""
    counts = {}
    for table, pk, column in crypto.encrypted_columns(db.metadata):
        rows = db.session.execute(text(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        for row_id, token in rows:
            db.session.execute(text(f"UPDATE {table} SET {column} = :token WHERE {pk} = :id"),
                               {"token": crypto.rotate_token(token, raw_keys), "id": row_id})
        counts[f"{table}.{column}"] = len(rows)
    return counts


@secrets_cli.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored secret under a new key (the generated key file) or the first key of ENCRYPTION_KEY."""
    config = current_app.config
    old_keys, key_file = config["ENCRYPTION_KEY"], config.get("ENCRYPTION_KEY_FILE")
    keys = f"{crypto.new_key()},{old_keys}" if key_file else old_keys
    if key_file:
        # Both keys first, so processes that re-read the file can open old and new values meanwhile.
        crypto.write_key_file(key_file, keys)
        config["ENCRYPTION_KEY"] = keys
    try:
        counts = reencrypt_all(keys)
        db.session.commit()
    except crypto.SecretUnreadable as exc:
        db.session.rollback()
        if key_file:
            crypto.write_key_file(key_file, old_keys)
            config["ENCRYPTION_KEY"] = old_keys
        raise click.ClickException(f"Nothing was changed: {exc}") from None
    if key_file:
        new_only = keys.split(",", 1)[0]
        crypto.write_key_file(key_file, new_only)
        config["ENCRYPTION_KEY"] = new_only
    for name, count in counts.items():
        click.echo(f"{name}: {count} re-encrypted")
    if not key_file and "," in old_keys:
        click.echo("Every secret now opens with the first key; the others can be removed from ENCRYPTION_KEY.")
