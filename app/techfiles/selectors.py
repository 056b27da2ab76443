"""Reads for the tech file pages: gallery, history, comparison, collections and credit reports."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from app.core import storage
from app.core.errors import InvalidInput
from app.core.models import User, utcnow
from app.extensions import db
from app.pipeline.models import Product
from app.techfiles.generators import VIEWS
from app.techfiles.models import (
    SLOT_COLUMNS,
    Collection,
    CollectionItem,
    CollectionStatus,
    CreditCost,
    FileStatus,
    FileType,
    TechFile,
    TechFileVersion,
)
from app.techfiles.services import load_file

GALLERY_ORDER = (FileType.BASE_VIEW, FileType.CLOSE_UP, FileType.SKETCH, FileType.CATEGORY, FileType.COMPLETE_PACK)


def revisions(org_id: int, product_id: int) -> list[str]:
    rows = db.session.scalars(select(TechFile.revision).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id).distinct())
    return sorted(rows)


def gallery(org_id: int, product_id: int, revision: str) -> list[tuple[FileType, list[TechFile]]]:
    """Latest file of every slot, grouped by type in tech-pack order."""
    files = db.session.scalars(select(TechFile).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id, TechFile.revision == revision,
        TechFile.is_latest.is_(True))).all()
    files.sort(key=lambda f: (view_rank(f.view), f.category))
    groups = [(t, [f for f in files if f.file_type == t]) for t in GALLERY_ORDER]
    return [(t, fs) for t, fs in groups if fs]


def view_rank(view: str) -> tuple[int, str]:
    """Standard views in their usual order (front, back, side, top), then the rest by name."""
    return (VIEWS.index(view), "") if view in VIEWS else (len(VIEWS), view)


def version_counts(org_id: int, product_id: int) -> dict[tuple, int]:
    rows = db.session.execute(select(*(getattr(TechFile, c) for c in SLOT_COLUMNS), func.count()).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id).group_by(
        *(getattr(TechFile, c) for c in SLOT_COLUMNS)))
    return {tuple(r[:-1]): r[-1] for r in rows}


def archived_slots(org_id: int, product_id: int, revision: str) -> list[TechFile]:
    """The newest version of slots that have no latest any more (everything archived)."""
    files = db.session.scalars(select(TechFile).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id,
        TechFile.revision == revision).order_by(TechFile.version.desc())).all()
    newest: dict[tuple, TechFile] = {}
    latest_slots = {f.slot for f in files if f.is_latest}
    for f in files:
        if f.slot not in latest_slots:
            newest.setdefault(f.slot, f)
    return list(newest.values())


def slot_versions(f: TechFile) -> list[TechFile]:
    """Every version in the file's slot, newest first."""
    return list(db.session.scalars(select(TechFile).where(
        *(getattr(TechFile, c) == v for c, v in zip(SLOT_COLUMNS, f.slot, strict=True))).order_by(
        TechFile.version.desc())))


def slot_history(f: TechFile) -> list[TechFileVersion]:
    """The slot's timeline: what happened, newest first."""
    ids = [v.id for v in slot_versions(f)]
    return list(db.session.scalars(select(TechFileVersion).where(TechFileVersion.tech_file_id.in_(ids)).order_by(
        TechFileVersion.id.desc())))


# --- comparison -------------------------------------------------------------------------------

@dataclass
class DiffRow:
    key: str
    status: str  # added, removed, changed, same
    old: object
    new: object


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or ({prefix: {}} if prefix else {})
    if isinstance(value, list) and not value and prefix:
        return {}  # an empty list next to a filled one reads better as its items added or removed
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def diff(old: dict | None, new: dict | None, include_same: bool = False) -> list[DiffRow]:
    """Key-by-key differences of two JSON documents (nested keys flattened to dotted paths)."""
    a, b = _flatten(old or {}), _flatten(new or {})
    rows = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            rows.append(DiffRow(key, "added", None, _show(b[key])))
        elif key not in b:
            rows.append(DiffRow(key, "removed", _show(a[key]), None))
        elif a[key] != b[key]:
            rows.append(DiffRow(key, "changed", _show(a[key]), _show(b[key])))
        elif include_same:
            rows.append(DiffRow(key, "same", _show(a[key]), _show(b[key])))
    return rows


COMPARED_FIELDS = ("version", "status", "generator", "model", "credits", "confidence", "quality", "width",
                   "height", "sha256", "batch_id")


def _field_values(f: TechFile) -> dict:
    values = {k: getattr(f, k) for k in COMPARED_FIELDS}
    values["status"] = f.status.value
    values["credits"] = str(f.credits)
    values["created_at"] = f.created_at.isoformat(timespec="seconds")
    values["created_by"] = f.created_by.display_name if f.created_by else None
    return values


def _pixel_difference(a: TechFile, b: TechFile) -> dict:
    if a.sha256 is None or b.sha256 is None:
        return {"note": "one of the versions has no image"}
    if a.sha256 == b.sha256:
        return {"identical": True, "mean_abs_diff": 0.0, "changed_share": 0.0}
    try:
        with Image.open(storage.open_path(a.sha256)) as ia, Image.open(storage.open_path(b.sha256)) as ib:
            if ia.size != ib.size:
                return {"identical": False, "note": f"sizes differ: {ia.size[0]}×{ia.size[1]} and "
                                                    f"{ib.size[0]}×{ib.size[1]}"}
            pa = np.asarray(ia.convert("L"), dtype=np.int16)
            pb = np.asarray(ib.convert("L"), dtype=np.int16)
    except FileNotFoundError:
        return {"note": "an image is missing from storage"}
    delta = np.abs(pa - pb)
    return {"identical": False, "mean_abs_diff": round(float(delta.mean()), 2),
            "changed_share": round(float((delta > 16).mean()), 4)}


@dataclass
class Comparison:
    a: TechFile
    b: TechFile
    fields: list[DiffRow]
    analysis: list[DiffRow]
    meta: list[DiffRow]
    parameters: list[DiffRow]
    pixels: dict

    @property
    def changes(self) -> int:
        return sum(1 for rows in (self.fields, self.analysis, self.meta, self.parameters)
                   for r in rows if r.status != "same")


def file_compare(*, org_id: int, a_id: int, b_id: int) -> Comparison:
    """Compare two versions of the same product side by side: fields, JSON data and pixels."""
    a, b = load_file(org_id, a_id), load_file(org_id, b_id)
    if a.product_id != b.product_id:
        raise InvalidInput("Only files of the same product can be compared.")
    if a.version > b.version or (a.version == b.version and a.id > b.id):
        a, b = b, a
    return Comparison(a, b, diff(_field_values(a), _field_values(b), include_same=True),
                      diff(a.analysis, b.analysis), diff(a.meta, b.meta), diff(a.parameters, b.parameters),
                      _pixel_difference(a, b))


# --- collections --------------------------------------------------------------------------------

def collection_credits(collection_id: int) -> Decimal:
    """Credits of the files a collection holds (summed, never stored twice)."""
    total = db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).join(
        CollectionItem, CollectionItem.tech_file_id == TechFile.id).where(CollectionItem.collection_id == collection_id))
    return Decimal(total or 0)


def collection_sections(collection: Collection) -> list[tuple[str, list[tuple[CollectionItem, TechFile | None]]]]:
    """Items per section in display order, each with the current latest version of its slot."""
    out: dict[str, list] = {}
    for item in collection.items:
        out.setdefault(item.section, []).append((item, current_of(item.tech_file)))
    return list(out.items())


def current_of(f: TechFile) -> TechFile | None:
    """The latest version of a file's slot (None when the slot is archived)."""
    if f.is_latest:
        return f
    return db.session.scalar(select(TechFile).where(
        *(getattr(TechFile, c) == v for c, v in zip(SLOT_COLUMNS, f.slot, strict=True)), TechFile.is_latest.is_(True)))


def collections_for(org_id: int, product_id: int | None = None, limit: int = 50) -> list[Collection]:
    query = select(Collection).where(Collection.organisation_id == org_id)
    if product_id is not None:
        query = query.where(Collection.product_id == product_id)
    return list(db.session.scalars(query.order_by(Collection.id.desc()).limit(limit)))


def products_with_files(org_id: int) -> list[dict]:
    rows = db.session.execute(select(Product, func.count(TechFile.id), func.coalesce(func.sum(TechFile.credits), 0))
                              .join(TechFile, TechFile.product_id == Product.id)
                              .where(Product.organisation_id == org_id, TechFile.organisation_id == org_id)
                              .group_by(Product.id).order_by(Product.id.desc()).limit(200))
    return [{"product": p, "files": n, "credits": Decimal(c)} for p, n, c in rows]


def products_for_select(org_id: int) -> list[Product]:
    return list(db.session.scalars(select(Product).where(Product.organisation_id == org_id)
                                   .order_by(Product.id.desc()).limit(300)))


# --- credits ------------------------------------------------------------------------------------

def credit_costs(org_id: int) -> dict[FileType, Decimal]:
    """Cost per file type as set by the organisation (types without a row cost the default)."""
    rows = db.session.scalars(select(CreditCost).where(CreditCost.organisation_id == org_id))
    return {FileType(r.file_type): r.credits for r in rows}


def _sum_by(org_id: int, *group, since=None):
    query = select(*group, func.coalesce(func.sum(TechFile.credits), 0), func.count(TechFile.id)).where(
        TechFile.organisation_id == org_id)
    if since is not None:
        query = query.where(TechFile.created_at >= since)
    return db.session.execute(query.group_by(*group)).all()


def credits_report(org_id: int) -> dict:
    """Credit usage by product, file type, user, and per day over 30 days; totals are sums of files."""
    now = utcnow()
    total = Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
        TechFile.organisation_id == org_id)) or 0)
    by_type = [{"label": FileType(t).label, "credits": Decimal(c), "files": n}
               for t, c, n in _sum_by(org_id, TechFile.file_type)]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.organisation_id == org_id))}
    by_product = sorted(({"product": products.get(pid), "product_id": pid, "credits": Decimal(c), "files": n}
                         for pid, c, n in _sum_by(org_id, TechFile.product_id)), key=lambda r: -r["credits"])
    users = {u.id: u for u in db.session.scalars(select(User).where(User.organisation_id == org_id))}
    by_user = sorted(({"label": users[uid].display_name if uid in users else "the system (no user)",
                       "credits": Decimal(c), "files": n} for uid, c, n in _sum_by(org_id, TechFile.created_by_id)),
                     key=lambda r: -r["credits"])
    rows = db.session.execute(select(TechFile.created_at, TechFile.credits).where(
        TechFile.organisation_id == org_id, TechFile.created_at >= now - timedelta(days=30))).all()
    days = [(now - timedelta(days=29 - i)).date() for i in range(30)]
    per_day = {d: Decimal("0") for d in days}
    for created, credits in rows:
        day = created.date()
        if day in per_day:
            per_day[day] += Decimal(credits)
    last7 = sum((per_day[d] for d in days[-7:]), Decimal("0"))
    return {"total": total, "by_type": by_type, "by_product": by_product, "by_user": by_user,
            "daily": [{"label": d.strftime("%d %b"), "credits": per_day[d]} for d in days],
            "last7": last7, "last30": sum(per_day.values(), Decimal("0")),
            "archived_credits": Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
                TechFile.organisation_id == org_id, TechFile.status == FileStatus.ARCHIVED)) or 0)}


def dashboard_summary(org_id: int) -> dict:
    """Collections generating now and credits of the last 7 days, for the dashboard card."""
    running = list(db.session.scalars(select(Collection).where(
        Collection.organisation_id == org_id,
        Collection.status.in_((CollectionStatus.QUEUED, CollectionStatus.RUNNING))).order_by(Collection.id)))
    since = utcnow() - timedelta(days=7)
    week = Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
        TechFile.organisation_id == org_id, TechFile.created_at >= since)) or 0)
    failed = db.session.scalar(select(func.count(Collection.id)).where(
        Collection.organisation_id == org_id, Collection.status == CollectionStatus.FAILED)) or 0
    return {"running": running, "week_credits": week, "failed": failed}


def product_credits(org_id: int, product_id: int) -> Decimal:
    """Credits of every file version of a product (archived and superseded ones included)."""
    return Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id)) or 0)
