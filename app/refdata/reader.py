"""Read reference product files row by row: the Open Food Facts export and JSON Lines.

Pure functions (no Flask, no database), streaming: one line in memory at a time, whatever the
file size. Accepted:
  * the Open Food Facts product export: tab-separated, first line the column names, optionally
    gzipped (``.csv.gz``); columns used: ``code``, ``product_name``, ``brands``, ``quantity``,
    ``categories_en`` (else ``categories_tags``), ``image_url``; the others are ignored;
  * JSON Lines (``.jsonl``/``.ndjson``, optionally gzipped): one object per line with the same
    field names (``categories_tags`` may be a list).
The export does not quote fields (it removes tabs and line breaks from values), so a line is
split on tabs, never parsed as CSV: a stray quote cannot swallow the rest of the file.

Each data line becomes a `ReferenceRow` or a `Refused` with its line number and the reason.
A GTIN is kept only when its check digit is right; in-store numbers and coupons (GS1 prefixes
02, 04, 05, 2x, 98–99), which name no product outside one shop, are refused.
"""
from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.analysis.barcodes import normalise_gtin
from app.analysis.gs1 import gs1_prefix

MAX_NAME, MAX_BRAND, MAX_BRAND_KEY, MAX_QUANTITY, MAX_CATEGORIES, MAX_URL = 300, 200, 120, 120, 2000, 500
MAX_LINE_BYTES = 1024 * 1024  # an export line is a few KiB; a longer one is not a product row
TSV_COLUMNS = ("code", "product_name", "brands", "quantity", "categories_en", "categories_tags", "image_url")


class ReferenceFileError(Exception):
    """The file as a whole cannot be read (not this format, no code column, cut short)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class ReferenceRow:
    line: int
    gtin: str
    name: str | None
    brand: str | None
    brand_key: str | None
    quantity: str | None
    categories: str | None
    image_url: str | None


@dataclass(frozen=True)
class Refused:
    line: int
    code: str
    reason: str


class Progress:
    """How far through the file (in bytes of the file as stored) the reader is."""

    def __init__(self, raw: BinaryIO, total: int):
        self.raw, self.total = raw, total

    @property
    def done(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return self.total


def open_reference_file(path: str | Path) -> tuple[Iterator[ReferenceRow | Refused], Progress]:
    """Rows of a reference file, and a progress probe; ReferenceFileError if it cannot be read."""
    path = Path(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    size = path.stat().st_size
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    stream: BinaryIO = gzip.GzipFile(fileobj=raw) if gzipped else raw
    return _rows(stream, raw), Progress(raw, size)


def _rows(stream: BinaryIO, raw: BinaryIO) -> Iterator[ReferenceRow | Refused]:
    try:
        lines = _numbered_lines(stream)
        first = next(((n, t) for n, t in lines if t.strip()), None)
        if first is None:
            raise ReferenceFileError("the file is empty")
        n, text = first
        if text.lstrip().startswith("{"):
            yield _from_json(n, text)
            for n, text in lines:
                if text.strip():
                    yield _from_json(n, text)
        else:
            columns = _header(text)
            for n, text in lines:
                if text.strip():
                    yield _from_tsv(n, text, columns)
    finally:
        stream.close()
        raw.close()


def _numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    n = 0
    try:
        for n, data in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), start=1):
            if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
                raise ReferenceFileError("a line is longer than 1 MiB: this is not a product export", n)
            try:
                yield n, data.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield n, "\x00not utf-8"
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ReferenceFileError(f"the compressed file is cut short or damaged after line {n} ({exc})") from None


def _header(text: str) -> dict[str, int]:
    names = [c.strip().lstrip("\ufeff") for c in text.split("\t")]
    columns = {c: i for i, c in enumerate(names) if c in TSV_COLUMNS}
    if "code" not in columns:
        raise ReferenceFileError("the first line has no 'code' column: expected the tab-separated Open Food "
                                 "Facts export or JSON Lines", 1)
    if "product_name" not in columns and "brands" not in columns:
        raise ReferenceFileError("the first line has neither a 'product_name' nor a 'brands' column", 1)
    columns["_count"] = len(names)
    return columns


def _from_tsv(n: int, text: str, columns: dict[str, int]) -> ReferenceRow | Refused:
    if text.startswith("\x00not utf-8"):
        return Refused(n, "", "the line is not valid UTF-8 text")
    fields = text.split("\t")
    if len(fields) != columns["_count"]:
        code = fields[columns["code"]] if columns["code"] < len(fields) else ""
        return Refused(n, code[:20], f"the line has {len(fields)} fields, the header has {columns['_count']}")

    def get(name: str) -> str:
        index = columns.get(name)
        return fields[index] if index is not None else ""

    return row_from_fields(n, get("code"), get("product_name"), get("brands"), get("quantity"),
                get("categories_en"), get("categories_tags"), get("image_url"))


def _from_json(n: int, text: str) -> ReferenceRow | Refused:
    if text.startswith("\x00not utf-8"):
        return Refused(n, "", "the line is not valid UTF-8 text")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return Refused(n, "", "the line is not a JSON object")
    if not isinstance(data, dict):
        return Refused(n, "", "the line is not a JSON object")

    def get(name: str) -> str:
        value = data.get(name)
        if isinstance(value, list):
            return ",".join(str(v) for v in value if isinstance(v, (str, int)))
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""

    return row_from_fields(n, get("code"), get("product_name"), get("brands"), get("quantity"),
                get("categories_en"), get("categories_tags"), get("image_url"))


def row_from_fields(n: int, code: str, name: str, brands: str, quantity: str, categories_en: str,
                    categories_tags: str, image_url: str) -> ReferenceRow | Refused:
    """Check and clean one product's fields (as strings) into a row, or say why it is refused."""
    code = code.strip()
    gtin = normalise_gtin(code) if code.isdigit() else None
    if gtin is None:
        return Refused(n, code[:20], "not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)")
    prefix = gs1_prefix(gtin)
    if not prefix.identifies_product:
        return Refused(n, code[:20], f"{prefix.describe()}: it names no product outside the shop that printed it")
    name, brand = _clean(name, MAX_NAME), _clean(brands.split(",")[0], MAX_BRAND)
    if not name and not brand:
        return Refused(n, code[:20], "no product name and no brand")
    categories = _clean(", ".join(c.strip() for c in categories_en.split(",") if c.strip()), MAX_CATEGORIES) \
        or _categories_from_tags(categories_tags)
    url = image_url.strip()
    return ReferenceRow(line=n, gtin=gtin, name=name, brand=brand,
                        brand_key=brand.casefold()[:MAX_BRAND_KEY] if brand else None,
                        quantity=_clean(quantity, MAX_QUANTITY), categories=categories,
                        image_url=url if url.startswith(("https://", "http://")) and len(url) <= MAX_URL else None)


def _clean(value: str, limit: int) -> str | None:
    text = " ".join(value.split())
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0]
        text = cut or text[:limit]
    return text or None


def _categories_from_tags(tags: str) -> str | None:
    # "en:breakfasts,en:sweet-spreads,fr:pates-a-tartiner" -> "Breakfasts, Sweet spreads" (English tags only)
    names = []
    for tag in tags.split(","):
        lang, _, slug = tag.strip().partition(":")
        if lang == "en" and slug:
            names.append(re.sub(r"-+", " ", slug).strip().capitalize())
    return _clean(", ".join(names), MAX_CATEGORIES) if names else None


def rows_from_text(text: str) -> Iterator[ReferenceRow | Refused]:
    """The same reader over a string (tests and small imports)."""
    stream = io.BytesIO(text.encode("utf-8"))
    return _rows(stream, io.BytesIO())
