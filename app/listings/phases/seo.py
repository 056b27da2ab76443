"""SEO phase: keywords, marketplace titles, meta description, slug and a completeness score.

Everything is built from confirmed values: the product's fields (typed by a person, confirmed
in review, or identified at or above the organisation's threshold), the photo text a reviewer
kept, and the suggested price; nothing is written that they did not establish. Titles are cut at a
word boundary to each marketplace limit and never end in punctuation.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.analysis.keywords import extract_keywords

TITLE_LIMITS = (80, 150, 255)
META_LIMIT = 160
SLUG_LIMIT = 80
MAX_KEYWORDS = 10
SEPARATOR = " - "
# What a marketplace listing needs; the completeness score is the share of these present.
REQUIRED_ATTRIBUTES = ("name", "brand", "category", "price", "images", "condition", "gtin")
ATTRIBUTE_LABELS = {"name": "name", "brand": "brand", "category": "category", "price": "price",
                    "images": "at least one image", "condition": "condition", "gtin": "GTIN (barcode)"}
_TRAILING = " \t\n-–—|,;:./\\·•&+(["
# Letters NFKD cannot split into an ASCII base letter.
_TRANSLIT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                           "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ð": "d"})


@dataclass
class SeoFacts:
    """What is known about a product, as plain values (None or empty when nobody found it)."""

    name: str | None = None
    brand: str | None = None
    model: str | None = None
    category: str | None = None
    condition: str | None = None  # a label such as "Like new"; None when unknown
    gtin: str | None = None
    price: str | None = None
    image_count: int = 0
    ocr_text: list[str] = field(default_factory=list)


def fit(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, without trailing punctuation."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text.rstrip(_TRAILING)
    space = text[: limit + 1].rfind(" ")
    # A first word longer than the limit cannot be kept whole: nothing fits, rather than half a word.
    return text[:space].rstrip(_TRAILING) if space > 0 else ""


def _contains(haystack: str, needle: str) -> bool:
    return needle.casefold() in haystack.casefold()


def core_title(facts: SeoFacts) -> str:
    """Brand, name and model, each only once."""
    parts: list[str] = []
    for value in (facts.brand, facts.name, facts.model):
        value = " ".join((value or "").split())
        if value and not any(_contains(p, value) for p in parts):
            parts = [p for p in parts if not _contains(value, p)] + [value]
    return " ".join(parts)


def keywords_for(facts: SeoFacts, limit: int = MAX_KEYWORDS) -> list[str]:
    """Keywords from name, brand, model, category and OCR text (YAKE), most relevant first."""
    sentences = [s for s in (facts.name, facts.brand, facts.model, _category_leaf(facts.category)) if s]
    sentences += [line for line in facts.ocr_text if line and line.strip()]
    return extract_keywords(". ".join(sentences), max_keywords=limit)


def _category_leaf(category: str | None) -> str | None:
    if not category:
        return None
    return re.split(r"\s*(?:›|>|/)\s*", category.strip())[-1] or None


def titles_for(facts: SeoFacts, keywords: Iterable[str]) -> dict[str, str]:
    """A title per marketplace limit: 80 core, 150 adds category and condition, 255 adds keywords."""
    core = core_title(facts)
    if not core:
        return {str(limit): "" for limit in TITLE_LIMITS}
    extra = [s for s in (_category_leaf(facts.category), facts.condition) if s]
    with_extra = SEPARATOR.join([core, *extra])
    fresh = [k for k in keywords if not _contains(with_extra, k)]
    with_keywords = with_extra + (SEPARATOR + ", ".join(fresh) if fresh else "")
    return {"80": fit(core, 80), "150": fit(with_extra, 150), "255": fit(with_keywords, 255)}


def meta_description(facts: SeoFacts, keywords: Iterable[str]) -> str:
    """One or two factual sentences, at most META_LIMIT characters."""
    core = core_title(facts)
    if not core:
        return ""
    sentences = [core + (f" ({facts.category})" if facts.category else "") + "."]
    if facts.condition:
        sentences.append(f"Condition: {facts.condition.lower()}.")
    if facts.gtin:
        sentences.append(f"GTIN {facts.gtin}.")
    words = [k for k in keywords if not _contains(sentences[0], k)]
    if words:
        sentences.append(", ".join(words).capitalize() + ".")
    text = " ".join(sentences)
    return text if len(text) <= META_LIMIT else fit(text, META_LIMIT)


def slugify(text: str, limit: int = SLUG_LIMIT) -> str:
    """Lower-case ASCII words joined by hyphens (accents folded, other scripts dropped)."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "")


def unique_slug(base: str, taken: Iterable[str], fallback: str) -> str:
    """`base`, or `base-2`, `base-3`… whichever is free; `fallback` when base is empty."""
    base = base or fallback
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def completeness(facts: SeoFacts) -> dict:
    """Score 0–100 (share of required attributes present) and which ones are missing."""
    present = {"name": bool(facts.name), "brand": bool(facts.brand), "category": bool(facts.category),
               "price": facts.price is not None, "images": facts.image_count > 0,
               "condition": bool(facts.condition), "gtin": bool(facts.gtin)}
    missing = [a for a in REQUIRED_ATTRIBUTES if not present[a]]
    score = round(100 * (len(REQUIRED_ATTRIBUTES) - len(missing)) / len(REQUIRED_ATTRIBUTES))
    return {"score": score, "missing": missing, "missing_labels": [ATTRIBUTE_LABELS[a] for a in missing],
            "required": list(REQUIRED_ATTRIBUTES)}


def build_seo(facts: SeoFacts) -> dict:
    """Keywords, titles, meta description, slug base and completeness, JSON-ready."""
    keywords = keywords_for(facts)
    return {"keywords": keywords, "titles": titles_for(facts, keywords),
            "meta_description": meta_description(facts, keywords),
            "slug": slugify(core_title(facts)), "completeness": completeness(facts)}


# --- the phase --------------------------------------------------------------------------------


def ocr_lines(product, results=None) -> list[str]:
    """The photo text a person kept in review as real product text; nothing otherwise.

    Raw OCR lines are whatever was printed on the photo (lot numbers, another product's page,
    "best before"), so they reach keywords and descriptions only when a person vouched for them."""
    seen: set[str] = set()
    lines = (" ".join(str(raw).split()) for raw in (product.kept_text or []))
    return [line for line in lines if line and not (line in seen or seen.add(line))]


def facts_from(product, results) -> SeoFacts:
    """What the earlier phases found about the product."""
    market = (results or {}).get("market") or {}
    condition = getattr(product.condition, "value", product.condition)
    return SeoFacts(
        name=product.name or product.hint_name, brand=product.brand, model=product.model or product.hint_model,
        category=product.category,
        condition=None if condition in (None, "unknown") else str(condition).replace("_", " ").capitalize(),
        gtin=product.gtin, price=market.get("suggested_price"), image_count=len(product.images),
        ocr_text=ocr_lines(product, results))


def taken_slugs(org_id: int, product_id: int, base: str) -> list[str]:
    """Slugs of the organisation's other listings that `base` could collide with: itself and `base-N`
    (read through the unique (organisation, slug) index, not the whole catalogue for every product)."""
    from sqlalchemy import or_, select

    from app.core.pagination import like_escape
    from app.extensions import db
    from app.listings.models import Listing

    pattern = like_escape(base) + "-%"
    return list(db.session.scalars(select(Listing.slug).where(
        Listing.organisation_id == org_id, Listing.product_id != product_id,
        or_(Listing.slug == base, Listing.slug.like(pattern, escape="\\")))))


def quick() -> bool:
    """It reads the product's rows and its organisation's slugs, and calls nothing outside the
    database: the runner runs it inside the previous phase's finish (app.pipeline.runner)."""
    return True


def warm() -> None:
    """This phase's SQL, compiled in the worker parent before it forks (app.pipeline.warm_sql)."""
    taken_slugs(-1, -1, "warm-up")


def run(ctx):
    """SEO for one product: keywords, titles, meta description, slug, completeness."""
    from app.pipeline.contract import PhaseOutcome

    seo = build_seo(facts_from(ctx.product, ctx.results))
    base = seo["slug"] or f"product-{ctx.product_id}"
    seo["slug"] = unique_slug(base, taken_slugs(ctx.org_id, ctx.product_id, base), f"product-{ctx.product_id}")
    missing = seo["completeness"]["missing_labels"]
    ctx.log("info", f"completeness {seo['completeness']['score']} %"
            + (f"; missing: {', '.join(missing)}" if missing else ""), keywords=seo["keywords"])
    return PhaseOutcome("completed", result=seo)
