"""`flask refdata …`: load reference product files and look GTINs up, for operators."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

refdata_cli = AppGroup("refdata", help="Reference product data (GTIN → name, brand, quantity, categories).")

REFUSED_SHOWN = 20


@refdata_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="import the valid lines and write a report of the others")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the refused lines (CSV; default FILE.refused.csv with --skip-invalid)")
@click.option("--source", default=None, help="the name shown as the rows' source (default: the file's name)")
def import_command(file: Path, skip_invalid: bool, report_path: Path | None, source: str | None) -> None:
    """Load an Open Food Facts export (TSV, .gz too) or JSON Lines; all or nothing unless --skip-invalid."""
    from app.refdata.services import reference_import

    with click.progressbar(length=max(1, file.stat().st_size), label=f"reading {file.name}",
                           file=sys.stderr, show_percent=True, show_eta=True) as bar:
        last = [0]

        def progress(done: int, total: int) -> None:
            bar.update(max(0, done - last[0]))
            last[0] = done

        report = reference_import(path=file, source=source, skip_invalid=skip_invalid, on_progress=progress)
    click.echo(f"rows read: {report.read}, added: {report.added}, updated: {report.updated}, "
               f"refused: {report.refused_count}")
    for refused in report.refused[:REFUSED_SHOWN]:
        click.echo(f"  line {refused.line}: {refused.code or '-'}: {refused.reason}", err=True)
    if report.refused_count > REFUSED_SHOWN:
        click.echo(f"  … and {report.refused_count - REFUSED_SHOWN} more", err=True)
    if report.refused_count and (skip_invalid or report_path):
        target = report_path or file.with_name(file.name + ".refused.csv")
        _write_refused(target, report.refused)
        click.echo(f"refused lines written to {target}")
    if report.error:
        raise click.ClickException(report.error)


def _write_refused(path: Path, refused) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "code", "reason"])
        for item in refused:
            # A leading = + - @ would be a formula in a spreadsheet: codes are shown as text.
            code = ("'" + item.code) if item.code[:1] in ("=", "+", "-", "@") else item.code
            writer.writerow([item.line, code, item.reason])


@refdata_cli.command("lookup")
@click.argument("gtin")
@click.option("--online/--no-online", default=True, help="ask GTIN_LOOKUP_URL when not found locally")
def lookup_command(gtin: str, online: bool) -> None:
    """Show what the reference data (and the online look-up, if set) says about a GTIN."""
    from app.analysis.barcodes import normalise_gtin
    from app.analysis.gs1 import gs1_prefix
    from app.refdata import lookup

    normal = normalise_gtin(gtin.strip())
    if normal is None:
        raise click.ClickException("not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)")
    click.echo(gs1_prefix(normal).describe())
    entry = lookup.find([normal]).get(normal)
    if entry is None and online and lookup.lookup_enabled():
        entry, note = lookup.lookup_online(normal)
        click.echo(note.message)
    if entry is None:
        raise click.ClickException(f"{normal} is not in the reference data")
    for label, value in (("name", entry.name), ("brand", entry.brand), ("quantity", entry.quantity),
                         ("categories", entry.categories), ("image", entry.image_url)):
        click.echo(f"  {label}: {value or '—'}")
    click.echo(f"  {entry.evidence()}")


@refdata_cli.command("stats")
def stats_command() -> None:
    """How many reference rows there are, per source."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.refdata.models import ReferenceProduct

    rows = db.session.execute(select(ReferenceProduct.source, func.count(), func.max(ReferenceProduct.fetched_at))
                              .group_by(ReferenceProduct.source).order_by(func.count().desc())).all()
    if not rows:
        click.echo("no reference data loaded (flask refdata import FILE)")
    for source, count, newest in rows:
        click.echo(f"{count:>10}  {source}  (newest {newest:%Y-%m-%d})")


def init_app(app) -> None:
    from app.refdata import models  # noqa: F401 - the table is part of the schema migrations compare

    app.cli.add_command(refdata_cli)
