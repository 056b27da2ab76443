from PIL import Image, ImageDraw, ImageFont

from app.analysis.ocr import OCR_MAX_SIDE, OCR_MIN_SIDE, OcrLine, _for_ocr, ocr_available, read_text


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
    # Only the long side is brought to OCR_MIN_SIDE: 960×120, not RapidOCR's default 5888×736.
    assert prepared.size == (OCR_MIN_SIDE, 120) and round(factor, 3) == round(544 / OCR_MIN_SIDE, 3)
    lines = read_text(strip)
    assert "".join(line.text for line in lines).replace(" ", "").upper() == "LX-200DESKLAMP"
    assert all(x <= 545 and y <= 69 for line in lines for x, y in line.box)  # boxes on the strip itself


def test_a_phone_photo_is_brought_down_to_the_largest_size_and_boxes_back_to_its_own():
    photo = Image.new("RGB", (4000, 3000), "white")
    ImageDraw.Draw(photo).text((400, 1200), "SKU CH-4512", fill="black", font=ImageFont.load_default(size=220))
    prepared, factor = _for_ocr(photo)
    assert max(prepared.size) == OCR_MAX_SIDE and factor == 4000 / OCR_MAX_SIDE
    lines = read_text(photo)
    assert "".join(line.text for line in lines).replace(" ", "").upper() == "SKUCH-4512"
    (x0, y0), *_ = lines[0].box
    assert 300 < x0 < 500 and 1100 < y0 < 1300  # in the photo's own pixels
