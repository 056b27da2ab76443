from PIL import Image, ImageDraw, ImageFont

from app.analysis.ocr import OcrLine, ocr_available, read_text


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
