"""`flask batches …`: operator commands for CSV batches."""
from __future__ import annotations

import click
from flask.cli import AppGroup

batches_cli = AppGroup("batches", help="CSV batches: stale leases, sweeping.")


@batches_cli.command("reap-stale")
def reap_stale_command() -> None:
    """Return rows of silent workers to pending, finish finished batches, replace lost jobs."""
    from app.batches.processing import sweep_all

    result = sweep_all()
    click.echo(f"rows back to pending: {result['reaped']}, batches finished: {result['finished']}, "
               f"batches restarted: {result['restarted']}")


def init_app(app) -> None:
    app.cli.add_command(batches_cli)
