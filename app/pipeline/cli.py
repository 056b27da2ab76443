"""Pipeline commands: `flask analyse IMAGE...` for operators, `flask pipeline reap-stale`."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from app.analysis.images import ImageRejected

pipeline_cli = AppGroup("pipeline", help="Product intake pipeline maintenance.")


@click.command("analyse")
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per image per line")
@click.option("--no-ocr", is_flag=True, help="skip text recognition (faster)")
def analyse(images: tuple[str, ...], as_json: bool, no_ocr: bool) -> None:
    """Print what the analysers find in images (barcodes, text, quality), e.g. to check a camera setup."""
    from app.analysis.report import analyse_image_file

    failed = 0
    for path in images:
        try:
            report = analyse_image_file(path, with_ocr=not no_ocr)
        except (ImageRejected, OSError) as exc:
            failed += 1
            reason = getattr(exc, "reason", None) or str(exc)
            if as_json:
                click.echo(json.dumps({"path": path, "error": reason}))
            else:
                click.echo(f"{path}: ERROR {reason}", err=True)
            continue
        if as_json:
            report["ocr"] = [line["text"] for line in report["ocr"]]
            click.echo(json.dumps(report, ensure_ascii=False))
        else:
            click.echo(_human(report))
    if failed:
        sys.exit(1)


def _source(barcode: dict) -> str:
    if barcode["source"] == "bars":
        return "bars, printed digits agree" if barcode.get("printed_digits_agree") else "bars"
    return barcode["why"]


def _human(report: dict) -> str:
    lines = [report["path"]]
    barcodes = report["barcodes"]
    lines.append("  barcodes: " + (", ".join(f"{b['format']} {b['text']} ({_source(b)})" for b in barcodes)
                                   if barcodes else "none"))
    texts = [line["text"] for line in report["ocr"]]
    lines.append("  text: " + (" | ".join(texts) if texts else "none"))
    quality = report["quality"]
    reasons = "; ".join(quality.get("reasons") or []) or "no problems"
    lines.append(f"  quality: {quality.get('score')}/100 ({reasons})")
    return "\n".join(lines)


@pipeline_cli.command("reap-stale")
def reap_stale() -> None:
    """Requeue phases whose worker died, and re-enqueue phases whose job was lost."""
    from app.core.database import write_intent
    from app.pipeline import recovery

    with write_intent():
        requeued = recovery.reap_stale()
        reenqueued = recovery.requeue_unscheduled()
    click.echo(f"requeued {requeued} phase(s) with an expired lease; re-enqueued {reenqueued} lost job(s)")


def init_app(app) -> None:
    app.cli.add_command(analyse)
    app.cli.add_command(pipeline_cli)
