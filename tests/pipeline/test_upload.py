"""Upload: every file checked by content, one clear error per bad file, no product without images."""
from __future__ import annotations

import io
import struct
import zlib

from sqlalchemy import func, select

from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductImage, ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO, UPC_PHOTO


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims a huge size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _jpeg(size=(64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, files, **form):
    data = {"images": [(io.BytesIO(content), name) for name, content in files], **form}
    return client.post("/products/new", data=data, content_type="multipart/form-data")


def test_bad_files_each_get_their_own_error_and_no_product_is_created(manager_client, app):
    app.config["PIPELINE_MAX_FILE_BYTES"] = 25 * 1024 * 1024
    bad = [
        ("notes.jpg", b"this is a text file, not a photo\n" * 10),
        ("truncated.jpg", _jpeg((400, 300))[:1200]),
        ("empty.jpg", b""),
        ("bomb.png", _png_declaring(100_000, 100_000)),
        ("huge.jpg", b"\xff\xd8\xff" + b"\0" * (30 * 1024 * 1024)),
    ]
    response = _post(manager_client, bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "no product was created" in page
    assert "notes.jpg</strong>: the file is not an image" in page
    assert "truncated.jpg</strong>: the JPEG image is truncated or corrupt" in page
    assert "empty.jpg</strong>: the file is empty" in page
    assert "bomb.png</strong>: the image has too many pixels" in page
    assert "huge.jpg</strong>: the file is larger than the limit of 25.0 MB" in page
    assert _count(Product) == 0 and _count(ProductImage) == 0


def test_good_files_are_kept_next_to_errors_for_bad_ones(manager_client):
    files = [("label.webp", EAN_PHOTO.read_bytes()), ("notes.jpg", b"plain text"),
             ("other.webp", UPC_PHOTO.read_bytes())]
    response = _post(manager_client, files, hint_name="A book", condition="used")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "label.webp</strong>: added" in page and "other.webp</strong>: added" in page
    assert "notes.jpg</strong>: the file is not an image" in page
    product = db.session.scalars(select(Product)).one()
    assert [i.filename for i in product.images] == ["label.webp", "other.webp"]
    assert product.hint_name == "A book" and product.condition.value == "used"
    assert product.status == ProductStatus.PROCESSING
    assert product.phase("analysis").status == PhaseStatus.QUEUED
    assert all(i.thumb_sha256 and i.width > 0 for i in product.images)


def test_all_good_redirects_to_the_product_page(manager_client):
    response = _post(manager_client, [("a.webp", BLANK_PHOTO.read_bytes())])
    assert response.status_code == 302
    product = db.session.scalars(select(Product)).one()
    assert response.headers["Location"].endswith(f"/products/{product.id}")
    assert manager_client.get(f"/products/{product.id}").status_code == 200


def test_more_than_twenty_files_keeps_twenty_and_says_so(manager_client):
    jpeg = _jpeg()
    response = _post(manager_client, [(f"p{i}.jpg", jpeg) for i in range(22)])
    page = response.get_data(as_text=True)
    assert page.count("only 20 images per product") == 2
    product = db.session.scalars(select(Product)).one()
    assert len(product.images) == 20


def test_request_over_the_server_limit_is_a_clear_413(manager_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = _post(manager_client, [("big.jpg", b"\0" * (2 * 1024 * 1024))])
    assert response.status_code == 413
    assert _count(Product) == 0


def test_staff_cannot_upload(staff_client):
    assert staff_client.get("/products/new").status_code == 403
    assert _post(staff_client, [("a.webp", BLANK_PHOTO.read_bytes())]).status_code == 403


def test_images_are_served_only_to_the_owning_organisation(manager_client, client_for, other_org, make_user):
    _post(manager_client, [("a.webp", BLANK_PHOTO.read_bytes())])
    image = db.session.scalars(select(ProductImage)).one()
    original = manager_client.get(f"/products/images/{image.id}")
    assert original.status_code == 200 and original.data == BLANK_PHOTO.read_bytes()
    assert original.headers["Content-Type"] == "image/webp"
    thumb = manager_client.get(f"/products/images/{image.id}/thumb")
    assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"
    stranger = client_for(make_user(other_org, "admin"))
    assert stranger.get(f"/products/images/{image.id}").status_code == 404
    assert stranger.get(f"/products/images/{image.id}/thumb").status_code == 404


def test_reorder_makes_another_image_primary(manager_client):
    _post(manager_client, [("a.webp", BLANK_PHOTO.read_bytes()), ("b.webp", UPC_PHOTO.read_bytes())])
    product = db.session.scalars(select(Product)).one()
    second = product.images[1]
    response = manager_client.post(f"/products/{product.id}/images/{second.id}/move", data={"to": "0"})
    assert response.status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.primary_image.filename == "b.webp"
    assert [i.position for i in product.images] == [0, 1]


def test_heic_photos_are_accepted_and_get_a_jpeg_thumbnail(manager_client):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 200, 30)).save(out, format="HEIF")
    response = _post(manager_client, [("phone.heic", out.getvalue())])
    assert response.status_code == 302
    image = db.session.scalars(select(ProductImage)).one()
    assert (image.format, image.width, image.height) == ("HEIF", 320, 240)
    original = manager_client.get(f"/products/images/{image.id}")
    assert original.headers["Content-Type"] == "image/heif"
    assert manager_client.get(f"/products/images/{image.id}/thumb").data[:3] == b"\xff\xd8\xff"
