"""Flask commands for operators and scripts: users, the demo organisation."""
from __future__ import annotations

import json
import os

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.core import users as user_service
from app.core.errors import DomainError
from app.core.models import Role, User
from app.extensions import db

users_cli = AppGroup("users", help="Create and list users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_name", required=True, help="organisation name (created if missing)")
@click.option("--name", default="")
def users_create(email: str, password: str, role: str, org_name: str, name: str) -> None:
    """Create a user (and the organisation if it does not exist)."""
    try:
        org = user_service.organisation_get_or_create(org_name)
        user = user_service.user_create(org_id=org.id, email=email, password=password, role=role, name=name)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user.email} ({user.role.value}) in {org.name}")


@users_cli.command("list")
def users_list() -> None:
    """List every user with organisation and role."""
    for user in db.session.scalars(select(User).order_by(User.organisation_id, User.email)):
        click.echo(f"{user.organisation.name}\t{user.email}\t{user.role.value}\t{'active' if user.active else 'inactive'}")


DEMO_ORG = "Demo Warehouse"
DEMO_USERS = (("admin@demo.stockroom", Role.ADMIN, "Ada Admin"),
              ("manager@demo.stockroom", Role.MANAGER, "Max Manager"),
              ("staff@demo.stockroom", Role.STAFF, "Sam Staff"))


def seed_demo_accounts() -> list[tuple[str, str, str]]:
    """Create the demo organisation and its three users once; return (role, e-mail, password).

    Passwords are generated on first run and kept (readable only by this user) in the instance
    folder, so every later `make run` can print them again.
    """
    path = os.path.join(current_app.config["INSTANCE_DIR"], "demo-credentials.json")
    creds = {}
    if os.path.exists(path):
        with open(path) as fh:
            creds = json.load(fh)
    org = user_service.organisation_get_or_create(DEMO_ORG)
    for email, role, name in DEMO_USERS:
        existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if existing is not None and email in creds:
            continue
        password = user_service.generate_password()
        if existing is not None:  # the credentials file was lost: set a password we can print
            existing.password_hash = user_service.hash_password(password)
        else:
            user_service.user_create(org_id=org.id, email=email, password=password, role=role, name=name)
        creds[email] = password
    db.session.commit()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=1)
    return [(role.value, email, creds[email]) for email, role, _ in DEMO_USERS]


def seed_demo_data() -> list[str]:
    """Fill the demo organisation with the demo warehouse once (unless DEMO=0); what was done, line by line."""
    if not current_app.config["DEMO"]:
        return []
    from app.demo import seed_demo_warehouse

    org = user_service.organisation_get_or_create(DEMO_ORG)
    users = {u.email: u for u in db.session.scalars(select(User).where(User.organisation_id == org.id))}
    return seed_demo_warehouse(org_id=org.id, manager=users["manager@demo.stockroom"],
                               staff=users["staff@demo.stockroom"])


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo organisation with an admin, a manager and a staff user, and its warehouse (once); print logins."""
    for role, email, password in seed_demo_accounts():
        click.echo(f"  {role:8} {email:28} {password}")
    for line in seed_demo_data():
        click.echo(f"  demo: {line}")


def init_app(app) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    from app.core.secrets_cli import secrets_cli
    app.cli.add_command(secrets_cli)
    from app.backups.cli import init_app as backup_commands
    backup_commands(app)
    from app.pipeline.cli import init_app as pipeline_commands
    pipeline_commands(app)
    from app.batches.cli import init_app as batches_commands
    batches_commands(app)
    from app.inbox.cli import init_app as inbox_commands
    inbox_commands(app)
    from app.refdata.cli import init_app as refdata_commands
    refdata_commands(app)
