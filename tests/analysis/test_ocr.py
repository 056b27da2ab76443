from PIL import Image, ImageDraw, ImageFont

from app.analysis.ocr import DETECTOR_LONG_SIDE, DETECTOR_SHORT_SIDE, OcrLine, _for_ocr, ocr_available, read_text


def test_ocr_reads_rendered_label(tmp_path):
    image = Image.new("RGB", (900, 220), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    draw.text((30, 30), "STOCKROOM SHELF 42", fill="black", font=font)
    draw.text((30, 120), "Blue widget", fill="black", font=font)
    path = tmp_path / "label.png"
    image.save(path)

    lines = read_text(path)

    assert all(isinstance(line, OcrLine) for line in lines)
    texts = [line.text.upper().replace(" ", "") for line in lines]
    assert texts == ["STOCKROOMSHELF42", "BLUEWIDGET"]
    assert all(0.5 <= line.confidence <= 1 for line in lines)
    assert lines[0].box[0][1] < lines[1].box[0][1]


def test_ocr_health_check():
    ok, detail = ocr_available()
    assert ok, detail


def test_a_thin_strip_is_read_without_being_enlarged_tenfold():
    strip = Image.new("RGB", (544, 68), "white")
    ImageDraw.Draw(strip).text((10, 10), "LX-200 Desk lamp", fill="black", font=ImageFont.load_default(size=40))
    prepared, factor = _for_ocr(strip)
    # The detector scales the short side to DETECTOR_SHORT_SIDE: its long side then stays bounded.
    long_side = max(prepared.size) * DETECTOR_SHORT_SIDE / min(prepared.size)
    assert factor == 1.0 and prepared.size[0] == 544 and long_side <= DETECTOR_LONG_SIDE + 1
    lines = read_text(strip)
    assert "".join(line.text for line in lines).replace(" ", "").upper() == "LX-200DESKLAMP"
    assert all(x <= 544 and y <= 68 for line in lines for x, y in line.box)  # boxes on the strip itself
