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
from typing import BinaryIO, NamedTuple

from app.analysis.gs1 import gs1_prefix

MAX_NAME, MAX_BRAND, MAX_BRAND_KEY, MAX_QUANTITY, MAX_CATEGORIES, MAX_URL = 300, 200, 120, 120, 2000, 500
MAX_LINE_BYTES = 1024 * 1024  # an export line is a few KiB; a longer one is not a product row
TSV_COLUMNS = ("code", "product_name", "brands", "quantity", "categories_en", "categories_tags", "image_url")


class ReferenceFileError(Exception):
    """The file as a whole cannot be read (not this format, no code column, cut short)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


class ReferenceRow(NamedTuple):
    """A checked row; a tuple in the staging table's column order (the line number first)."""

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


CHUNK_LINES = 20_000


@dataclass(frozen=True)
class Chunk:
    """Consecutive raw lines of a reference file, and how to read them: `parse_chunk` turns it into
    rows. Chunks are plain data, so they can be parsed in other processes."""

    kind: str  # "tsv" | "jsonl"
    columns: dict | None
    first_line: int
    lines: tuple[bytes, ...]


def open_reference_file(path: str | Path) -> tuple[Iterator[ReferenceRow | Refused], Progress]:
    """Rows of a reference file, and a progress probe; ReferenceFileError if it cannot be read."""
    chunks, progress = open_reference_chunks(path)
    return (row for chunk in chunks for row in parse_chunk(chunk)), progress


def open_reference_chunks(path: str | Path, chunk_lines: int = CHUNK_LINES) -> tuple[Iterator[Chunk], Progress]:
    """The file as chunks of raw lines (see `Chunk`), and a progress probe.

    The file as a whole is checked here (format, header, a line too long, a compressed file cut
    short: ReferenceFileError while iterating); the lines themselves in `parse_chunk`."""
    path = Path(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    size = path.stat().st_size
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    stream: BinaryIO = gzip.GzipFile(fileobj=raw) if gzipped else raw
    return _chunks(stream, raw, chunk_lines), Progress(raw, size)


def _chunks(stream: BinaryIO, raw: BinaryIO, chunk_lines: int) -> Iterator[Chunk]:
    n = 0
    try:
        lines = iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b"")
        for n, data in enumerate(lines, start=1):
            _check_length(n, data)
            if data.strip():
                break
        else:
            raise ReferenceFileError("the file is empty")
        text = _decoded(n, data)
        if text.lstrip().startswith("{"):
            kind, columns, pending, first = "jsonl", None, [data], n
        else:
            kind, columns, pending, first = "tsv", _header(text), [], n + 1
        start = n + 1
        for n, data in enumerate(lines, start=start):
            _check_length(n, data)
            pending.append(data)
            if len(pending) >= chunk_lines:
                yield Chunk(kind, columns, first, tuple(pending))
                pending, first = [], n + 1
        if pending:
            yield Chunk(kind, columns, first, tuple(pending))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ReferenceFileError(f"the compressed file is cut short or damaged after line {n} ({exc})") from None
    finally:
        stream.close()
        raw.close()


def _check_length(n: int, data: bytes) -> None:
    if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
        raise ReferenceFileError("a line is longer than 1 MiB: this is not a product export", n)


def parse_chunk(chunk: Chunk) -> list[ReferenceRow | Refused]:
    """Every non-blank line of a chunk as a checked row or a refusal (with its line number)."""
    if chunk.kind == "jsonl":
        return [_from_json(n, text) for n, text in
                ((n, _decoded(n, data)) for n, data in enumerate(chunk.lines, start=chunk.first_line))
                if text.strip()]
    return list(_tsv_rows(chunk.lines, chunk.first_line, chunk.columns))


def _tsv_rows(lines, first_line: int, columns: dict) -> Iterator[ReferenceRow | Refused]:
    # The hot loop of a million-line import: as few calls per line as possible.
    count, order, code_at = columns["_count"], columns["_order"], columns["code"]
    for n, data in enumerate(lines, start=first_line):
        text = _decoded(n, data)
        if text is _NOT_UTF8:
            yield Refused(n, "", "the line is not valid UTF-8 text")
            continue
        fields = text.split("\t")
        if len(fields) != count:
            if text.strip():
                code = fields[code_at] if code_at < len(fields) else ""
                yield Refused(n, code[:20], f"the line has {len(fields)} fields, the header has {count}")
            continue
        yield row_from_fields(n, *[fields[i] if i is not None else "" for i in order])


_NOT_UTF8 = "\x00not utf-8"


def _decoded(_n: int, data: bytes) -> str:
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return _NOT_UTF8


def _header(text: str) -> dict[str, int]:
    names = [c.strip().lstrip("\ufeff") for c in text.split("\t")]
    columns = {c: i for i, c in enumerate(names) if c in TSV_COLUMNS}
    if "code" not in columns:
        raise ReferenceFileError("the first line has no 'code' column: expected the tab-separated Open Food "
                                 "Facts export or JSON Lines", 1)
    if "product_name" not in columns and "brands" not in columns:
        raise ReferenceFileError("the first line has neither a 'product_name' nor a 'brands' column", 1)
    columns["_count"] = len(names)
    # Where each field the row needs is, or None: read by _from_tsv in this order.
    columns["_order"] = tuple(columns.get(c) for c in ("code", "product_name", "brands", "quantity", "categories_en",
                                                       "categories_tags", "image_url"))
    return columns


def _from_json(n: int, text: str) -> ReferenceRow | Refused:
    if text is _NOT_UTF8:
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
    """Check and clean one product's fields (as strings) into a row, or say why it is refused.

    This runs once per line of a million-line export, so it is written for speed: the common
    case (clean values, a GTIN-13) takes no detour."""
    code = code.strip()
    gtin = _gtin(code)
    if gtin is None:
        return Refused(n, code[:20], "not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)")
    if (gtin[:3] if len(gtin) == 13 else gtin) in _NOT_PRODUCTS or (len(gtin) == 8 and gtin[0] in "02"):
        prefix = gs1_prefix(gtin)
        if not prefix.identifies_product:
            return Refused(n, code[:20], f"{prefix.describe()}: it names no product outside the shop that printed it")
    name = _clean(name, MAX_NAME)
    comma = brands.find(",")
    brand = _clean(brands if comma < 0 else brands[:comma], MAX_BRAND)
    if not name and not brand:
        return Refused(n, code[:20], "no product name and no brand")
    if "," in categories_en and ", " not in categories_en:  # "Breakfasts,Spreads" → "Breakfasts, Spreads"
        categories_en = ", ".join(c.strip() for c in categories_en.split(",") if c.strip())
    categories = _clean(categories_en, MAX_CATEGORIES) or (_categories_from_tags(categories_tags)
                                                           if categories_tags else None)
    url = image_url.strip()
    if url and not (url.startswith(("https://", "http://")) and len(url) <= MAX_URL):
        url = ""
    return ReferenceRow(n, gtin, name, brand, brand.casefold()[:MAX_BRAND_KEY] if brand else None,
                        _clean(quantity, MAX_QUANTITY), categories, url or None)


# GS1 prefixes (first three digits of a GTIN-13) that name no product: see app.analysis.gs1.
_NOT_PRODUCTS = frozenset(f"{p:03d}" for p in range(1000) if not gs1_prefix(f"{p:03d}0000000000").identifies_product)


def _gtin(code: str) -> str | None:
    """normalise_gtin, inlined for the import's speed (same answers; see app.analysis.barcodes)."""
    length = len(code)
    if length not in (8, 12, 13, 14) or not code.isdigit():
        return None
    data = code.encode()
    # Weights 3,1,3,… from the rightmost payload digit; digits are ASCII 48–57.
    threes, ones = data[length - 2::-2], data[length - 3::-2] if length > 2 else b""
    total = 3 * (sum(threes) - 48 * len(threes)) + sum(ones) - 48 * len(ones)
    if (10 - total % 10) % 10 != data[-1] - 48:
        return None
    if length == 12:
        return "0" + code
    if length == 14 and code[0] == "0":
        return code[1:]
    return code


def _clean(value: str, limit: int) -> str | None:
    if not value:
        return None
    text = value.strip()
    if "  " in text:  # collapsing runs of spaces is the rare case (fields hold no tabs or line breaks)
        text = " ".join(text.split())
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
    chunks = _chunks(io.BytesIO(text.encode("utf-8")), io.BytesIO(), CHUNK_LINES)
    return (row for chunk in chunks for row in parse_chunk(chunk))
