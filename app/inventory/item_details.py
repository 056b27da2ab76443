"""An item's attributes (name: value pairs typed by a person) and its pictures.

Pictures go through the same checks as product photos (app.pipeline.uploads: format by content,
full decode, pixel limit) and are stored by content hash; one bad file refuses the whole upload.
"""
from __future__ import annotations

from sqlalchemy import select

from app.core import audit
from app.core.errors import InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.core.tenancy import get_scoped
from app.extensions import db
from app.inventory.models import Item, ItemImage
from app.inventory.services import search_text_for
from app.inventory.stock import EVENT
from app.pipeline import uploads

MAX_ATTRIBUTES, MAX_NAME, MAX_VALUE, MAX_IMAGES = 40, 60, 300, 12


def _item(org_id: int, item_id: int) -> Item:
    item = get_scoped(Item, item_id, org_id)
    if item is None:
        raise NotFound("That item does not exist.")
    return item


def parse_attributes(text: str) -> dict[str, str]:
    """'name: value' per line (blank lines skipped) into a dict, or InvalidInput naming the line."""
    attributes: dict[str, str] = {}
    for n, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        name, colon, value = raw.partition(":")
        name, value = " ".join(name.split()), " ".join(value.split())
        if not colon or not name or not value:
            raise InvalidInput(f"Line {n} ({raw.strip()[:40]!r}): write it as 'name: value', e.g. 'metal: silver'.",
                               field="attributes")
        if len(name) > MAX_NAME or len(value) > MAX_VALUE:
            raise InvalidInput(f"Line {n}: names are limited to {MAX_NAME} characters, values to {MAX_VALUE}.",
                               field="attributes")
        attributes[name] = value
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"At most {MAX_ATTRIBUTES} attributes per item.", field="attributes")
    return attributes


def attributes_text(attributes: dict | None) -> str:
    """The attributes as the edit box shows them."""
    return "\n".join(f"{k}: {v}" for k, v in (attributes or {}).items())


def item_attributes_set(*, org_id: int, item_id: int, text: str, by: User | None) -> Item:
    """Replace an item's attributes with what the person typed. Commits."""
    item = _item(org_id, item_id)
    attributes = parse_attributes(text)
    before = dict(item.attributes or {})
    item.attributes = attributes
    item.search_text = search_text_for(item.sku, item.title, attributes)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.attributes", object_type="inventory_item",
                 object_id=item.id, before=before, after=attributes)
    publish_after_commit(org_id, EVENT, {"item_ids": [item.id]})
    db.session.commit()
    return item


def item_images(org_id: int, item_id: int) -> list[ItemImage]:
    return list(db.session.scalars(select(ItemImage).where(ItemImage.organisation_id == org_id,
                                                           ItemImage.item_id == item_id)
                                   .order_by(ItemImage.position, ItemImage.id)))


def item_images_add(*, org_id: int, item_id: int, files, by: User | None) -> list[ItemImage]:
    """Add pictures to an item, checked like product photos (a bad one refuses them all). Commits."""
    item = _item(org_id, item_id)
    files = [(name, stream) for name, stream in (files or []) if name]
    if not files:
        raise InvalidInput("Choose one or more pictures to add.", field="images")
    existing = item_images(org_id, item.id)
    if len(existing) + len(files) > MAX_IMAGES:
        raise InvalidInput(f"An item has at most {MAX_IMAGES} pictures.", field="images")
    good, bad = uploads.check_and_store(files, all_or_nothing=True)  # image work with no write lock held
    if bad:
        raise InvalidInput("; ".join(f"{b.filename}: {b.reason}" for b in bad) + ". No picture was added.",
                           field="images")
    added = []
    for n, stored in enumerate(good, start=len(existing)):
        checked = stored.checked
        added.append(ItemImage(organisation_id=org_id, item_id=item.id, sha256=stored.sha256,
                               thumb_sha256=stored.thumb_sha256,
                               filename=checked.filename[:255], format=checked.format, width=checked.width,
                               height=checked.height, position=n))
    db.session.add_all(added)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.images_add", object_type="inventory_item",
                 object_id=item.id, after={"images": [s.checked.filename for s in good]})
    db.session.commit()
    return added


def item_image_remove(*, org_id: int, item_id: int, image_id: int, by: User | None) -> None:
    """Take a picture off an item. Commits."""
    item = _item(org_id, item_id)
    image = next((i for i in item_images(org_id, item.id) if i.id == image_id), None)
    if image is None:
        raise NotFound("No such picture on this item.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.image_remove",
                 object_type="inventory_item", object_id=item.id, before={"image": image.filename})
    db.session.delete(image)
    db.session.commit()
