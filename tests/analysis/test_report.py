import json
from pathlib import Path

from PIL import Image

from app.analysis.report import analyse_image_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barcodes"


def test_report_has_exactly_the_documented_shape():
    path = FIXTURES / "upca-2" / "02.webp"
    report = analyse_image_file(path, with_ocr=False)
    assert set(report) == {"path", "barcodes", "ocr", "quality"}
    assert [{k: b[k] for k in ("format", "text", "source")} for b in report["barcodes"]] == [
        {"format": "EAN-13", "text": "0890444000335", "source": "bars"}]
    assert report["barcodes"][0]["printed_digits_agree"] is False  # no OCR, nothing to agree with
    assert report["ocr"] == []
    assert set(report["quality"]) == {"score", "reasons"}
    width, height = Image.open(path).size
    assert f"low resolution {width}×{height}" in report["quality"]["reasons"]
    json.dumps(report)  # printable as one JSON line
