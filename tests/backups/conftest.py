"""Instances with rows and stored files of every kind, and empty instances to restore into."""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.core import storage
from app.extensions import db
from app.inventory.stock import stock_reserve
from tests.conftest import FIXTURES
from tests.inventory.factories import make_item


def png(seed: int, size=(48, 32)) -> bytes:
    image = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class Served:
    """What the instance serves, by URL, and which stored files hold what."""

    urls: dict[str, bytes] = field(default_factory=dict)
    stored: dict[str, bytes] = field(default_factory=dict)  # "<sha><suffix>" -> bytes


@pytest.fixture
def some_rows(org, manager):
    item = make_item(org, sku="ABC-1", title="Żółty łańcuszek 'quoted' \"x\"", on_hand=7, unit_cost="2.91",
                     currency="USD", attributes={"color": "Gold", "size": "12cm"}, by=manager)
    stock_reserve(org_id=org.id, lines=[(item.id, 2)], reference="SO-1", by=manager)
    db.session.commit()
    return item


@pytest.fixture
def full_instance(app, org, manager, manager_client, some_rows) -> Served:
    """Product photos and thumbnails, a tech file with a smaller rendition, a CSV batch with a generated
    image in a row's results, and a supplier import file: each served (or stored) with known bytes."""
    from app.batches.models import Batch, BatchRow
    from app.inventory import imports
    from app.pipeline import services as pipeline
    from app.techfiles.models import FileType, TechFile

    served = Served()
    made = pipeline.product_create(org_id=org.id, by=manager, files=[("front.png", io.BytesIO(png(1))),
                                                                     ("back.png", io.BytesIO(png(2)))], start=False)
    for image in made.product.images:
        served.urls[f"/products/images/{image.id}"] = storage.open_path(image.sha256).read_bytes()
        served.urls[f"/products/images/{image.id}/thumb"] = storage.open_path(image.thumb_sha256).read_bytes()
    main, small = storage.save_bytes(png(3, (64, 64))), storage.save_bytes(png(4, (16, 16)))
    tech = TechFile(organisation_id=org.id, product_id=made.product.id, revision="1", file_type=FileType.BASE_VIEW,
                    view="front", sha256=main.sha256, mime="image/png", width=64, height=64, generator="test",
                    meta={"renditions": {"16": small.sha256}})
    db.session.add(tech)
    db.session.commit()
    served.urls[f"/techfiles/files/{tech.id}/image"] = png(3, (64, 64))
    served.urls[f"/techfiles/files/{tech.id}/image?size=16"] = png(4, (16, 16))
    response = manager_client.post("/batches/upload", data={"file": (io.BytesIO(b"Product Name,MPN\nChain,C-1\n"),
                                                                     "p.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    batch = db.session.scalars(db.select(Batch)).one()
    card = storage.save_bytes(png(5), ".jpg")
    row = BatchRow(batch_id=batch.id, organisation_id=org.id, row_number=1, data={"title": "Chain"},
                   results={"images": {"lifestyle_emotional": {"sha256": card.sha256, "suffix": ".jpg"}}})
    db.session.add(row)
    db.session.commit()
    served.urls[f"/batches/{batch.id}/rows/{row.id}/images/lifestyle_emotional"] = png(5)
    served.stored[f"{batch.stored_sha256}.csv"] = b"Product Name,MPN\nChain,C-1\n"
    export = (FIXTURES / "aliexpress" / "sample-orders.json").read_bytes()
    record = imports.supplier_import_preview(org_id=org.id, by=manager, data=export, filename="orders.json")
    served.stored[f"{record.file_sha256}.json"] = export
    return served


@pytest.fixture
def empty_database(infra, tmp_path):
    """A database with nothing in it (no tables) of the same kind as the test's."""
    if infra.kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = make_url(infra.url)
    name = f"stockroom_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def other_instance(app_config, empty_database, tmp_path):
    """A second, empty instance (its own database and UPLOAD_DIR) sharing the backups folder."""
    def _make(**overrides):
        return create_app({**app_config, "SQLALCHEMY_DATABASE_URI": empty_database,
                           "UPLOAD_DIR": str(tmp_path / "other-uploads"), **overrides})
    return _make


def invoke(target_app, *args):
    """Run a command in `target_app` (its own app context) and return the result."""
    runner = target_app.test_cli_runner()
    with target_app.app_context():
        try:
            return runner.invoke(args=list(args))
        finally:
            db.session.remove()
            db.engine.dispose()
