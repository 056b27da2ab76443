"""Reads for the tech file pages: gallery, history, comparison, collections and credit reports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.core import storage
from app.core.models import User, utcnow
from app.extensions import db
from app.listings.models import Listing
from app.pipeline.models import Product, ProductImage
from app.techfiles.compare import Comparison, DiffRow, diff, file_compare  # noqa: F401  (read by views)
from app.techfiles.generators import VIEWS
from app.techfiles.models import (
    SLOT_COLUMNS,
    Collection,
    CollectionItem,
    CollectionStatus,
    CreditCost,
    FileStatus,
    FileType,
    ScaleReference,
    ShareLink,
    TechFile,
    TechFileVersion,
)
from app.techfiles.sheets import Entry
from app.techfiles.versions import load_product

GALLERY_ORDER = (FileType.BASE_VIEW, FileType.CLOSE_UP, FileType.SKETCH, FileType.CATEGORY, FileType.COMPLETE_PACK)


def revisions(org_id: int, product_id: int) -> list[str]:
    rows = db.session.scalars(select(TechFile.revision).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id).distinct())
    return sorted(rows)


def gallery(org_id: int, product_id: int, revision: str) -> list[tuple[FileType, list[TechFile]]]:
    """Latest file of every slot, grouped by type in tech-pack order; a file being made (or that
    failed) newer than its slot's latest is shown in its place."""
    rows = db.session.scalars(select(TechFile).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id, TechFile.revision == revision,
        TechFile.is_latest.is_(True) | TechFile.status.in_((FileStatus.PROCESSING, FileStatus.FAILED)))).all()
    shown: dict[tuple, TechFile] = {}
    for f in sorted(rows, key=lambda f: f.version):
        shown[f.slot] = f
    files = list(shown.values())
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


# --- collections --------------------------------------------------------------------------------

def collection_credits(collection_id: int) -> Decimal:
    """Credits the collection was charged: its files' own credits, less the files it reused (paid before)."""
    total = db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).join(
        CollectionItem, CollectionItem.tech_file_id == TechFile.id).where(
        CollectionItem.collection_id == collection_id, CollectionItem.reused.is_(False)))
    return Decimal(total or 0)


PENDING = (FileStatus.PROCESSING, FileStatus.FAILED)


def collection_sections(collection: Collection) -> list[tuple[str, list[tuple[CollectionItem, TechFile | None]]]]:
    """Items per section in display order, each with the current latest version of its slot
    (a file still being made, or that failed, is its own current)."""
    out: dict[str, list] = {}
    for item in collection.items:
        f = item.tech_file
        if f.sha256 is None and f.status == FileStatus.ARCHIVED:
            continue  # a failed attempt put away: never a file
        out.setdefault(item.section, []).append((item, f if f.status in PENDING else current_of(f)))
    return list(out.items())


@dataclass
class CollectionTotals:
    files: int
    made: int
    reused: int
    processing: int
    failed: int
    generation_ms: int  # time spent making the files it made (reused files took none)
    wall_seconds: float | None  # from the first start to the end


def collection_totals(collection: Collection) -> CollectionTotals:
    """Counts and times of a collection's files, for its page."""
    items = collection.items
    made = [i for i in items if not i.reused and i.tech_file.status not in PENDING]
    wall = None
    if collection.started_at and collection.finished_at:
        wall = max(0.0, (collection.finished_at - collection.started_at).total_seconds())
    return CollectionTotals(
        files=len(items), made=len(made), reused=sum(1 for i in items if i.reused),
        processing=sum(1 for i in items if i.tech_file.status == FileStatus.PROCESSING),
        failed=sum(1 for i in items if i.tech_file.status == FileStatus.FAILED),
        generation_ms=sum(i.tech_file.duration_ms or 0 for i in made), wall_seconds=wall)


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


@dataclass(frozen=True)
class ProductLine:
    """A product as the tech-file lists name it: number, title and how many photos it has."""

    id: int
    name: str | None
    hint_name: str | None
    photos: int = 0

    title = Product.title


def products_with_files(org_id: int) -> list[dict]:
    """The 200 newest products that have tech files, with their file count and credits spent."""
    per_product = (select(TechFile.product_id, func.count(TechFile.id).label("files"),
                          func.coalesce(func.sum(TechFile.credits), 0).label("credits"))
                   .where(TechFile.organisation_id == org_id).group_by(TechFile.product_id).subquery())
    rows = db.session.execute(select(Product.id, Product.name, Product.hint_name, per_product.c.files,
                                     per_product.c.credits)
                              .join(per_product, per_product.c.product_id == Product.id)
                              .where(Product.organisation_id == org_id).order_by(Product.id.desc()).limit(200))
    return [{"product": ProductLine(i, name, hint), "files": n, "credits": Decimal(c)} for i, name, hint, n, c in rows]


def products_for_select(org_id: int) -> list[ProductLine]:
    """The 300 newest products to generate tech files for, with their photo counts."""
    newest = (select(Product.id, Product.name, Product.hint_name).where(Product.organisation_id == org_id)
              .order_by(Product.id.desc()).limit(300).subquery())
    photos = (select(func.count(ProductImage.id)).where(ProductImage.product_id == newest.c.id)
              .correlate(newest).scalar_subquery())
    rows = db.session.execute(select(newest.c.id, newest.c.name, newest.c.hint_name, photos)
                              .order_by(newest.c.id.desc()))
    return [ProductLine(*row) for row in rows]


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


# --- inputs of generated files -------------------------------------------------------------------

def product_of(org_id: int, product_id: int) -> Product:
    return load_product(org_id, product_id)


def scale_reference_for(org_id: int, image_id: int) -> ScaleReference | None:
    """The known length entered for a photo, if any."""
    return db.session.scalar(select(ScaleReference).where(ScaleReference.organisation_id == org_id,
                                                          ScaleReference.source_image_id == image_id))


def close_up_labels(org_id: int, product_id: int, revision: str, view: str) -> dict[str, str]:
    """{close-up slot: the person's name} for the latest close-ups of one view."""
    rows = db.session.execute(select(TechFile.category, TechFile.label).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id, TechFile.revision == revision,
        TechFile.file_type == FileType.CLOSE_UP, TechFile.view == view, TechFile.is_latest.is_(True),
        TechFile.label.is_not(None)))
    return {category: label for category, label in rows}


def latest_sketches_of(org_id: int, image_id: int) -> list[TechFile]:
    """The latest generated sketches made from a photo (every revision)."""
    return list(db.session.scalars(select(TechFile).where(
        TechFile.organisation_id == org_id, TechFile.source_image_id == image_id,
        TechFile.file_type == FileType.SKETCH, TechFile.is_latest.is_(True),
        TechFile.status == FileStatus.COMPLETED).order_by(TechFile.id)))


UNCATEGORISED = "Uncategorised"
KEY_ATTRIBUTES = (("brand", "Brand"), ("model", "Model"), ("gtin", "GTIN"))


def _main_views(org_id: int, product_ids: list[int]) -> dict[int, str]:
    """Per product, the stored image that shows it best: its newest front base view, else its first photo."""
    views = db.session.execute(select(TechFile.product_id, TechFile.sha256).where(
        TechFile.organisation_id == org_id, TechFile.product_id.in_(product_ids),
        TechFile.file_type == FileType.BASE_VIEW, TechFile.is_latest.is_(True), TechFile.sha256.is_not(None))
        .order_by(TechFile.view != "front", TechFile.id.desc()))
    out: dict[int, str] = {}
    for pid, sha in views:
        out.setdefault(pid, sha)
    photos = db.session.execute(select(ProductImage.product_id, ProductImage.sha256).where(
        ProductImage.product_id.in_(product_ids)).order_by(ProductImage.position, ProductImage.id))
    for pid, sha in photos:
        out.setdefault(pid, sha)
    return out


def _skus(org_id: int, product_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(select(Listing.product_id, Listing.attributes).where(
        Listing.organisation_id == org_id, Listing.product_id.in_(product_ids)).order_by(Listing.id))
    return {pid: str((attrs or {}).get("sku")) for pid, attrs in rows if (attrs or {}).get("sku")}


def category_entries(org_id: int, product_id: int) -> tuple[str, list[tuple[Entry, str | None]]]:
    """The category of a product and every product in it, as sheet entries with their picture's hash."""
    product = load_product(org_id, product_id)
    name = (product.category or "").strip()
    query = select(Product).where(Product.organisation_id == org_id)
    query = query.where(Product.category == product.category) if name else query.where(
        (Product.category.is_(None)) | (Product.category == ""))
    products = list(db.session.scalars(query.order_by(Product.id).limit(500)))
    ids = [p.id for p in products]
    views, skus = _main_views(org_id, ids), _skus(org_id, ids)
    entries = []
    for p in products:
        attrs = tuple((label, str(getattr(p, key))) for key, label in KEY_ATTRIBUTES if getattr(p, key))
        sha = views.get(p.id)
        path = str(storage.open_path(sha)) if sha and storage.path_for(sha).exists() else None
        entries.append((Entry(p.id, p.title, skus.get(p.id, ""), attrs, path), sha))
    return name or UNCATEGORISED, entries


def pack_files(org_id: int, product_id: int, revision: str) -> list[TechFile]:
    """What a complete pack holds: the latest completed file of every slot but the pack itself, in pack order."""
    files = db.session.scalars(select(TechFile).where(
        TechFile.organisation_id == org_id, TechFile.product_id == product_id, TechFile.revision == revision,
        TechFile.is_latest.is_(True), TechFile.status == FileStatus.COMPLETED,
        TechFile.file_type != FileType.COMPLETE_PACK, TechFile.sha256.is_not(None))).all()
    return sorted(files, key=lambda f: (GALLERY_ORDER.index(f.file_type), view_rank(f.view), f.category))


# --- sharing ---------------------------------------------------------------------------------------

def share_links(org_id: int, product_id: int) -> list[ShareLink]:
    """A product's links, newest first, with their opens."""
    return list(db.session.scalars(select(ShareLink).where(
        ShareLink.organisation_id == org_id, ShareLink.product_id == product_id).order_by(ShareLink.id.desc())))


def _shared_files(link: ShareLink) -> list[TechFile]:
    if link.collection_id is not None:
        files = [current for _s, pairs in collection_sections(link.collection) for _i, current in pairs if current]
    else:
        files = db.session.scalars(select(TechFile).where(
            TechFile.organisation_id == link.organisation_id, TechFile.product_id == link.product_id,
            TechFile.revision == link.revision, TechFile.is_latest.is_(True))).all()
    return [f for f in files if f.status == FileStatus.COMPLETED and f.sha256 and f.organisation_id ==
            link.organisation_id and f.product_id == link.product_id]


def shared_pack(link: ShareLink) -> dict:
    """What a shared link shows: the product's name, its files by type, its complete pack."""
    files = _shared_files(link)
    images = sorted((f for f in files if not f.is_pdf),
                    key=lambda f: (GALLERY_ORDER.index(f.file_type), view_rank(f.view), f.category))
    groups = [(t, [f for f in images if f.file_type == t]) for t in GALLERY_ORDER]
    pack = next((f for f in files if f.file_type == FileType.COMPLETE_PACK), None)
    return {"product": link.product, "groups": [(t, fs) for t, fs in groups if fs], "pack": pack,
            "collection": link.collection}


def shared_file(link: ShareLink, file_id: int) -> TechFile | None:
    """One file of the shared pack (None for anything else)."""
    return next((f for f in _shared_files(link) if f.id == file_id), None)


# --- statistics --------------------------------------------------------------------------------------

def stats_report(org_id: int) -> dict:
    """Files by type and status with completion rates, collections by status, credits and time per product."""
    rows = db.session.execute(select(TechFile.file_type, TechFile.status, func.count(TechFile.id),
                                     func.coalesce(func.sum(TechFile.duration_ms), 0))
                              .where(TechFile.organisation_id == org_id)
                              .group_by(TechFile.file_type, TechFile.status)).all()
    by_type = []
    for t in GALLERY_ORDER:
        counts = {s: 0 for s in FileStatus}
        ms = 0
        for ft, status, n, total_ms in rows:
            if FileType(ft) == t:
                counts[FileStatus(status)] += n
                ms += int(total_ms or 0)
        total = sum(counts.values())
        made = counts[FileStatus.COMPLETED] + counts[FileStatus.ARCHIVED]
        by_type.append({"label": t.plural, "counts": counts, "total": total,
                        "rate": round(100 * made / total, 1) if total else 0.0,
                        "avg_ms": round(ms / made) if made else None})
    collections = dict(db.session.execute(select(Collection.status, func.count(Collection.id)).where(
        Collection.organisation_id == org_id).group_by(Collection.status)).all())
    c_total = sum(collections.values())
    c_done = collections.get(CollectionStatus.COMPLETED, 0)
    reused = db.session.scalar(select(func.count(CollectionItem.id)).where(
        CollectionItem.organisation_id == org_id, CollectionItem.reused.is_(True))) or 0
    per_product = [{"label": f"#{r['product'].id} {r['product'].title}", "product": r["product"],
                    "credits": r["credits"], "files": r["files"]} for r in products_with_files(org_id)]
    return {"by_type": by_type, "statuses": list(FileStatus),
            "collections": {CollectionStatus(k): v for k, v in collections.items()},
            "collection_rate": round(100 * c_done / c_total, 1) if c_total else 0.0, "collection_total": c_total,
            "reused": reused, "per_product": sorted(per_product, key=lambda r: -r["credits"])}
