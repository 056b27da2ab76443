"""Designs: a product template item, its customisation, pictures, an owner, and a version history.

A design is private (its owner sees it) or public within the organisation. Every edit keeps the
previous content as a version (who, when, what changed); an edit made from an older page is
refused instead of overwriting someone else's change. Pictures go through the same checks as
product photos (app.pipeline.uploads) and are stored by content hash (app.core.storage).
"""
from __future__ import annotations

from sqlalchemy import select, update

from app.core import audit
from app.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.orders.lines import MAX_CHARMS, item_ids, load_items, parse_options, to_int
from app.orders.models import Design, DesignImage, DesignVersion, OrderItem
from app.pipeline import uploads

MAX_IMAGES = 12


def visible(design: Design, user: User | None) -> bool:
    """Public designs are seen by the organisation, private ones by their owner only."""
    return design.public or (user is not None and design.owner_id == user.id)


def can_edit(design: Design, user: User | None) -> bool:
    """The owner edits; managers (and admins) edit public designs too."""
    if user is None:
        return False
    return design.owner_id == user.id or (design.public and user.has_role("manager"))


def design_load(org_id: int, design_id, by: User | None) -> Design:
    """A design this person may see, or NotFound (another's private design does not exist for them)."""
    design = db.session.get(Design, to_int(design_id)) if to_int(design_id) else None
    if design is None or design.organisation_id != org_id or not visible(design, by):
        raise NotFound("No such design in your organisation.")
    return design


def _content(org_id: int, *, name, product_item_id, component_item_ids, options, notes, public,
             design_id: int | None = None) -> dict:
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise InvalidInput("Give the design a name (up to 120 characters).", field="name")
    same = select(Design.id).where(Design.organisation_id == org_id, Design.name == name)
    if design_id is not None:
        same = same.where(Design.id != design_id)
    if db.session.scalar(same):
        raise Conflict(f"A design called {name!r} already exists.", field="name")
    components = item_ids(component_item_ids, where="Components")
    if len(components) > MAX_CHARMS:
        raise InvalidInput(f"At most {MAX_CHARMS} components per design.", field="component_item_ids")
    product_id = to_int(product_item_id)
    items = load_items(org_id, [*components, *([product_id] if product_id else [])])
    if product_id is None or product_id not in items:
        raise InvalidInput("Choose the product item the design starts from.", field="product_item_id")
    if any(c not in items for c in components):
        raise InvalidInput("One of the components is not an item of your inventory.", field="component_item_ids")
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise InvalidInput("Keep the notes under 2,000 characters.", field="notes")
    return {"name": name, "product_item_id": product_id, "component_item_ids": components,
            "options": parse_options(options or {}, where="Design"), "notes": notes, "public": bool(public)}


def _checked_images(files, already: int = 0) -> list[uploads.StoredImage]:
    """Every file checked like a product photo; one bad file refuses them all (nothing half-added)."""
    files = [(name, stream) for name, stream in (files or []) if name]
    if not files:
        return []
    if already + len(files) > MAX_IMAGES:
        raise InvalidInput(f"A design has at most {MAX_IMAGES} pictures.", field="images")
    good, bad = uploads.check_and_store(files, all_or_nothing=True)
    if bad:
        raise InvalidInput("; ".join(f"{b.filename}: {b.reason}" for b in bad) + ". No picture was added.",
                           field="images")
    return good


def _add_images(design: Design, stored: list[uploads.StoredImage]) -> None:
    start = len(design.images)
    for n, saved in enumerate(stored):
        image = saved.checked
        design.images.append(DesignImage(organisation_id=design.organisation_id, sha256=saved.sha256,
                                         thumb_sha256=saved.thumb_sha256,
                                         filename=image.filename[:255], format=image.format, width=image.width,
                                         height=image.height, position=start + n))


def design_create(*, org_id: int, name: str, product_item_id, component_item_ids, options: dict,
                  by: User | None, notes: str = "", public: bool = True, images=()) -> Design:
    """Save a design (owned by `by`) with its pictures; all of it or nothing. Commits."""
    content = _content(org_id, name=name, product_item_id=product_item_id, component_item_ids=component_item_ids,
                       options=options, notes=notes, public=public)
    checked = _checked_images(images)
    design = Design(organisation_id=org_id, created_by_id=user_id_of(by), owner_id=user_id_of(by), version=1,
                    **content)
    db.session.add(design)
    _add_images(design, checked)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.create", object_type="design",
                 object_id=design.id, after={**content, "images": len(checked)})
    db.session.commit()
    return design


def _bump(design: Design, expected: int | None, change: str, by: User | None) -> None:
    """Keep the current content as a version and move to the next one (refused if edited meanwhile)."""
    expected = design.version if expected is None else int(expected)
    moved = db.session.execute(update(Design).where(Design.id == design.id, Design.version == expected)
                               .values(version=expected + 1, updated_at=utcnow())
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict("Someone changed this design meanwhile; reload the page to see their version.")
    db.session.add(DesignVersion(organisation_id=design.organisation_id, design_id=design.id, version=expected,
                                 snapshot=design.snapshot(), change=change[:200], by_id=user_id_of(by)))
    db.session.expire(design, ["version", "updated_at"])


def _editable(org_id: int, design_id, by: User | None) -> Design:
    design = design_load(org_id, design_id, by)
    if not can_edit(design, by):
        raise Forbidden("Only the design's owner or a manager can change it.")
    return design


def design_update(*, org_id: int, design_id: int, name: str, product_item_id, component_item_ids, options: dict,
                  notes: str, public: bool, by: User | None, version: int | None = None) -> Design:
    """Edit a design; the previous content becomes a version. Commits."""
    try:
        design = _editable(org_id, design_id, by)
        content = _content(org_id, name=name, product_item_id=product_item_id,
                           component_item_ids=component_item_ids, options=options, notes=notes, public=public,
                           design_id=design.id)
        if design.owner_id != user_id_of(by) and not content["public"]:
            raise Forbidden("Only the owner can make a design private.", field="public")
        changed = [k for k, v in content.items() if getattr(design, k) != v]
        if not changed:
            return design
        _bump(design, version, "changed " + ", ".join(k.replace("_", " ") for k in changed), by)
        for key, value in content.items():
            setattr(design, key, value)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.update", object_type="design",
                     object_id=design.id, after={k: content[k] for k in changed})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return design


def design_images_add(*, org_id: int, design_id: int, files, by: User | None, version: int | None = None) -> Design:
    """Add pictures to a design (checked like product photos; a bad one refuses them all). Commits."""
    try:
        design = _editable(org_id, design_id, by)
        checked = _checked_images(files, already=len(design.images))
        if not checked:
            raise InvalidInput("Choose one or more pictures to add.", field="images")
        _bump(design, version, f"added {len(checked)} picture{'s' if len(checked) != 1 else ''}", by)
        _add_images(design, checked)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.images_add", object_type="design",
                     object_id=design.id, after={"images": [c.checked.filename for c in checked]})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return design


def design_image_remove(*, org_id: int, design_id: int, image_id: int, by: User | None) -> Design:
    """Take a picture off a design (earlier versions still name it). Commits."""
    try:
        design = _editable(org_id, design_id, by)
        image = next((i for i in design.images if i.id == to_int(image_id)), None)
        if image is None:
            raise NotFound("No such picture on this design.")
        _bump(design, None, f"removed picture {image.filename or image.id}", by)
        design.images.remove(image)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.image_remove", object_type="design",
                     object_id=design.id, before={"image": image.filename})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return design


def design_delete(*, org_id: int, design_id: int, by: User | None) -> None:
    """Delete a saved design (orders made from it keep their own copy of the customisation). Commits."""
    design = _editable(org_id, design_id, by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.delete", object_type="design",
                 object_id=design.id, before={"name": design.name})
    db.session.execute(update(OrderItem).where(OrderItem.design_id == design.id).values(design_id=None))
    db.session.delete(design)
    db.session.commit()


def design_line(design: Design, quantity: int = 1) -> dict:
    """The order line a design stands for (as order_create takes it)."""
    options = design.options or {}
    return {"item_id": design.product_item_id, "quantity": quantity, "design_id": design.id,
            "customisation": {"chain_length_cm": options.get("chain_length_cm"),
                              "engraving": options.get("engraving"),
                              "charm_ids": list(design.component_item_ids or [])}}
