"""`flask analyse IMAGE... [--json]` for operators checking a camera setup."""
from __future__ import annotations

import json

from tests.conftest import FIXTURES
from tests.pipeline.helpers import EAN, EAN_PHOTO, UPC_PHOTO


def test_json_prints_one_object_per_image_and_continues_after_a_bad_file(app, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    result = app.test_cli_runner().invoke(
        args=["analyse", str(EAN_PHOTO), str(bad), str(UPC_PHOTO), "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(EAN_PHOTO), str(bad), str(UPC_PHOTO)]
    assert [(b["format"], b["text"], b["source"]) for b in lines[0]["barcodes"]] == [("EAN-13", EAN, "bars")]
    assert all(isinstance(t, str) for t in lines[0]["ocr"]) and any(t.startswith("ISBN") for t in lines[0]["ocr"])
    assert set(lines[0]["quality"]) == {"score", "reasons"}
    assert "not an image" in lines[1]["error"]
    assert lines[2]["barcodes"][0]["text"] == "0075720003259"


def test_printed_digits_are_listed_with_their_source(app):
    photo = FIXTURES / "barcodes" / "ean13-2" / "25.webp"  # bars too damaged; the digits are legible
    result = app.test_cli_runner().invoke(args=["analyse", str(photo), "--json"])
    assert result.exit_code == 0
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(b["text"], b["source"]) for b in line["barcodes"]] == [("9784872348880", "printed digits")]


def test_human_output(app):
    result = app.test_cli_runner().invoke(args=["analyse", str(EAN_PHOTO), "--no-ocr"])
    assert result.exit_code == 0
    assert f"barcodes: EAN-13 {EAN}" in result.output and "quality:" in result.output


def test_reap_stale_command(app):
    result = app.test_cli_runner().invoke(args=["pipeline", "reap-stale"])
    assert result.exit_code == 0 and "requeued 0" in result.output
