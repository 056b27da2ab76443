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


def test_detection_bands_cover_the_photo_within_the_pixel_budget_and_overlap():
    from app.analysis.ocr import BAND_OVERLAP, OCR_DET_PIXELS, bands

    assert bands(120, 960) == [(0, 120)]  # small pictures are detected whole
    for height, width in ((1200, 1600), (1600, 1200), (1600, 1600), (433, 960)):
        spans = bands(height, width)
        assert spans[0][0] == 0 and spans[-1][1] == height
        assert all((bottom - top) * width <= OCR_DET_PIXELS for top, bottom in spans)
        assert all(spans[i][1] - spans[i + 1][0] == BAND_OVERLAP for i in range(len(spans) - 1))


def test_a_photo_detected_in_bands_reads_every_line_once_and_whole(monkeypatch):
    """Lines on a band's edge, inside the overlap of two bands, taller than the overlap, slanted."""
    from app.analysis import ocr
    from app.analysis.ocr import bands

    photo = Image.new("RGB", (4000, 3000), "white")
    draw = ImageDraw.Draw(photo)
    factor = 4000 / OCR_MAX_SIDE
    spans = bands(1200, 1600)
    (_, first_end), (second_start, second_end), (third_start, _) = spans[:3]
    # A line inside the first overlap (seen whole by two bands); a line taller than the overlap
    # from above the second overlap to below it (cut by both bands: joined); a slanted line
    # across the last overlap (cut by both, joined into one turned box).
    draw.text((300, second_start * factor + 10), "SMALL LINE 42", fill="black", font=ImageFont.load_default(size=100))
    draw.text((300, (third_start - 60) * factor), "TALL 925", fill="black", font=ImageFont.load_default(size=340))
    slanted = Image.new("RGB", (2600, 260), "white")
    ImageDraw.Draw(slanted).text((20, 20), "9784872348880", fill="black", font=ImageFont.load_default(size=200))
    photo.paste(slanted.rotate(8, expand=True, fillcolor="white"), (700, round(spans[-1][0] * factor) - 300))
    assert first_end > second_start and second_end > third_start
    joined = []
    real_join = ocr._joined_pieces
    monkeypatch.setattr(ocr, "_joined_pieces", lambda found, count: joined.extend(real_join(found, count)) or joined)

    texts = [line.text.replace(" ", "").upper() for line in read_text(photo)]

    assert texts == ["SMALLLINE42", "TALL925", "9784872348880"]
    assert len(joined) >= 2  # the tall and the slanted line were each cut by two bands


def test_the_ocr_sessions_run_on_the_configured_threads_and_sleep_when_idle(app):
    from app.analysis import ocr

    with app.app_context():
        app.config["PIPELINE_OCR_THREADS"] = 2
        with ocr._session_options(ocr._threads()):
            from rapidocr_onnxruntime.utils.infer_engine import OrtInferSession

            options = OrtInferSession._init_sess_opts({})
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.enable_cpu_mem_arena
    # Outside the block RapidOCR's own options are back (no arena, its thread count).
    assert not OrtInferSession._init_sess_opts({}).enable_cpu_mem_arena
    # The engine a worker loads: one thread by default.
    session = ocr._get_engine().text_det.infer.session
    assert session.get_session_options().intra_op_num_threads == ocr.DEFAULT_THREADS == 1
