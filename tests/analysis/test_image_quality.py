from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from app.analysis.image_quality import assess_quality

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barcodes"


def _sharp_photo(tmp_path) -> Path:
    image = Image.new("RGB", (1200, 900), (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for x in range(0, 1200, 24):
        draw.rectangle([x, 100, x + 10, 800], fill=(20, 20, 20))
    for y in range(120, 800, 60):
        draw.line([(0, y), (1200, y)], fill=(235, 235, 235), width=3)
    path = tmp_path / "sharp.jpg"
    image.save(path, quality=92)
    return path


def test_blurred_copy_scores_lower_with_a_reason(tmp_path):
    sharp_path = _sharp_photo(tmp_path)
    blurred_path = tmp_path / "blurred.jpg"
    Image.open(sharp_path).filter(ImageFilter.GaussianBlur(8)).save(blurred_path, quality=92)

    sharp = assess_quality(sharp_path)
    blurred = assess_quality(blurred_path)

    assert blurred.score < sharp.score
    assert blurred.metrics["sharpness"] < sharp.metrics["sharpness"]
    assert any(reason.startswith("blurry: sharpness") for reason in blurred.reasons)
    assert not any("blurry" in reason for reason in sharp.reasons)


def test_small_dark_image_explains_itself():
    image = Image.new("L", (320, 240), 15)
    quality = assess_quality(image)
    assert "low resolution 320×240" in quality.reasons
    assert any(reason.startswith("too dark") for reason in quality.reasons)
    assert 0 <= quality.score < 50


def test_quality_is_deterministic():
    path = FIXTURES / "falsepositives-1" / "01.webp"
    assert assess_quality(path) == assess_quality(path)


def test_one_pixel_image_scores_zero():
    quality = assess_quality(FIXTURES / "falsepositives-1" / "1x1.webp")
    assert quality.score == 0
    assert quality.reasons[0] == "low resolution 1×1"
