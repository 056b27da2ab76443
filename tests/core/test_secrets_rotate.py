"""`flask secrets rotate`: every encrypted column re-encrypted under a new key, nothing lost."""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from app.extensions import db
from app.inbox.channels.models import InboxChannel
from tests.inbox.helpers import channel, twilio_channel


def _stored(table: str, column: str) -> str:
    return db.session.execute(text(f"SELECT {column} FROM {table}")).scalar()


def test_rotate_with_the_generated_key_file(app, org, tmp_path):
    key_file = tmp_path / "encryption_key"
    old_key = app.config["ENCRYPTION_KEY"]
    key_file.write_text(old_key)
    app.config["ENCRYPTION_KEY_FILE"] = str(key_file)
    twilio_channel(org.id, auth_token="the-account-auth-token")
    relay_secret = channel(org.id).json_secret
    db.session.commit()
    before = _stored("inbox_channels", "secrets")

    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "inbox_channels.secrets: 1 re-encrypted" in result.output
    new_key = key_file.read_text().strip()
    assert new_key != old_key and "," not in new_key and app.config["ENCRYPTION_KEY"] == new_key
    after = _stored("inbox_channels", "secrets")
    assert after != before
    try:
        Fernet(old_key.encode()).decrypt(after.encode())
        raise AssertionError("the old key still opens the secret")
    except InvalidToken:
        pass
    db.session.expire_all()
    assert db.session.scalar(select(InboxChannel)).secrets == {"auth_token": "the-account-auth-token"}
    assert channel(org.id).json_secret == relay_secret


def test_rotate_refuses_and_changes_nothing_when_a_secret_does_not_open(app, org, tmp_path):
    key_file = tmp_path / "encryption_key"
    old_key = app.config["ENCRYPTION_KEY"]
    key_file.write_text(old_key)
    app.config["ENCRYPTION_KEY_FILE"] = str(key_file)
    twilio_channel(org.id)
    db.session.commit()
    foreign = Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
    db.session.execute(text("UPDATE inbox_channels SET secrets = :t"), {"t": foreign})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code != 0 and "Nothing was changed" in result.output
    assert key_file.read_text().strip() == old_key and _stored("inbox_channels", "secrets") == foreign
