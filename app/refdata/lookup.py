"""Finding GTINs in the reference data, and (optionally) asking an online product database.

With `GTIN_LOOKUP_URL` set (an Open Food Facts compatible server, e.g.
https://world.openfoodfacts.org), a GTIN not found locally is looked up at
`<url>/api/v2/product/<gtin>.json` with a short timeout; a product found there is stored in
`reference_products` with the provider as its source, so the next look-up is local. A GTIN the
provider does not know is remembered for a day (in Redis) so a busy pipeline does not ask again.
Nothing here ever raises for the provider's sake: a timeout, an error status or garbage comes
back as a `LookupNote` that the caller writes into the product log.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.core import http
from app.core.models import utcnow
from app.extensions import db
from app.refdata.models import ReferenceProduct
from app.refdata.reader import ReferenceRow, row_from_fields

log = logging.getLogger(__name__)
FIELDS = "code,product_name,brands,quantity,categories_en,categories_tags,image_url"
NOT_FOUND_TTL = 24 * 3600


@dataclass(frozen=True)
class ReferenceEntry:
    """A reference row as identification sees it (plain values, no session needed)."""

    gtin: str
    name: str | None
    brand: str | None
    quantity: str | None
    categories: str | None
    image_url: str | None
    source: str
    fetched_at: str  # ISO date

    def evidence(self) -> str:
        return f"reference data: {self.source}, fetched {self.fetched_at[:10]}"


@dataclass(frozen=True)
class LookupNote:
    """What the online look-up did, for the product log."""

    gtin: str
    level: str  # info | warning
    message: str


def find(gtins: list[str]) -> dict[str, ReferenceEntry]:
    """The reference rows for these (normalised) GTINs that exist locally."""
    if not gtins:
        return {}
    rows = db.session.scalars(select(ReferenceProduct).where(ReferenceProduct.gtin.in_(gtins)))
    return {r.gtin: _entry(r) for r in rows}


def brands_among(words: list[str]) -> dict[str, str]:
    """Which of these words (or word pairs) are first brands in the reference data: key → brand."""
    keys = sorted({w.casefold() for w in words if 2 < len(w) <= 120})
    if not keys:
        return {}
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = db.session.execute(select(ReferenceProduct.brand_key, ReferenceProduct.brand)
                                  .where(ReferenceProduct.brand_key.in_(keys[start:start + 500]))
                                  .distinct().limit(1000))
        for key, brand in rows:
            found.setdefault(key, brand)
    return found


def lookup_enabled() -> bool:
    return bool(current_app.config.get("GTIN_LOOKUP_URL"))


def lookup_online(gtin: str) -> tuple[ReferenceEntry | None, LookupNote]:
    """Ask the configured provider about one GTIN; store what it knows. Never raises."""
    base = current_app.config["GTIN_LOOKUP_URL"].rstrip("/")
    provider = urlsplit(base).netloc or base
    if _recently_unknown(gtin):
        return None, LookupNote(gtin, "info", f"GTIN {gtin}: {provider} did not know it when asked in the last day")
    timeout = float(current_app.config.get("GTIN_LOOKUP_TIMEOUT", 3))
    try:
        status, data = http.get_json(f"{base}/api/v2/product/{gtin}.json?fields={FIELDS}", timeout=timeout,
                                     max_bytes=512 * 1024)
    except http.HttpFailure as exc:
        reason = f"no answer within {exc.waited:g} s" if exc.waited else exc.reason
        return None, LookupNote(gtin, "warning", f"GTIN {gtin}: look-up at {provider} failed ({reason})")
    if not isinstance(data, dict) or "status" not in data:
        return None, LookupNote(gtin, "warning", f"GTIN {gtin}: {provider} answered (HTTP {status}) with something "
                                                 "that is not an Open Food Facts product answer")
    product = data.get("product")
    if data.get("status") in (0, "0", "failure") or status == 404 or not isinstance(product, dict):
        _remember_unknown(gtin)
        return None, LookupNote(gtin, "info", f"GTIN {gtin}: {provider} does not know this product")
    row = row_from_fields(0, gtin, *(_text(product.get(k)) for k in ("product_name", "brands", "quantity", "categories_en",
                                                         "categories_tags", "image_url")))
    if not isinstance(row, ReferenceRow):
        return None, LookupNote(gtin, "warning", f"GTIN {gtin}: {provider}'s answer was not usable ({row.reason})")
    entry = _store(row, provider)
    return entry, LookupNote(gtin, "info", f"GTIN {gtin}: {provider} knows it as “{entry.name or entry.brand}” "
                                           "(kept in the reference data)")


def _text(value) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _store(row: ReferenceRow, provider: str) -> ReferenceEntry:
    """Keep a provider's answer, on its own short transaction (callers may be mid-phase, read-only)."""
    from app.core.database import write_intent

    now = utcnow()
    values = {"gtin": row.gtin, "name": row.name, "brand": row.brand, "brand_key": row.brand_key,
              "quantity": row.quantity, "categories": row.categories, "image_url": row.image_url,
              "source": provider[:200], "fetched_at": now}
    with write_intent(), db.engine.begin() as conn:
        table = ReferenceProduct.__table__
        if conn.execute(select(table.c.gtin).where(table.c.gtin == row.gtin)).first():
            conn.execute(table.update().where(table.c.gtin == row.gtin).values(**values))
        else:
            conn.execute(table.insert().values(**values))
    return ReferenceEntry(gtin=row.gtin, name=row.name, brand=row.brand, quantity=row.quantity,
                          categories=row.categories, image_url=row.image_url, source=provider[:200],
                          fetched_at=now.isoformat())


def _entry(r: ReferenceProduct) -> ReferenceEntry:
    fetched: datetime = r.fetched_at
    return ReferenceEntry(gtin=r.gtin, name=r.name, brand=r.brand, quantity=r.quantity, categories=r.categories,
                          image_url=r.image_url, source=r.source, fetched_at=fetched.isoformat())


def _unknown_key(gtin: str) -> str:
    from app.core.queue import key

    return key("refdata", "unknown", gtin)


def _recently_unknown(gtin: str) -> bool:
    from app.core.queue import get_redis

    try:
        return bool(get_redis().exists(_unknown_key(gtin)))
    except Exception:  # noqa: BLE001 - without Redis we simply ask again
        return False


def _remember_unknown(gtin: str) -> None:
    from app.core.queue import get_redis

    try:
        get_redis().set(_unknown_key(gtin), "1", ex=NOT_FOUND_TTL)
    except Exception:  # noqa: BLE001
        log.info("could not remember an unknown GTIN", exc_info=True)
