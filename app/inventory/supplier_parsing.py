"""Parsing of supplier order exports (AliExpress, "Shopper-Inventory" format).

Pure Python: no Flask, no database. The import view calls :func:`parse_export`, shows
``errors`` and ``warnings`` to the user and writes nothing while ``errors`` is not empty.
Reading the file (encoding, binary refusal, CSV dialect and records, JSON limits, prices) is
:mod:`app.formats`; this module holds the exporter's fields and the rules for a purchase line.

Public API
----------
- :func:`parse_price` -> :class:`Money` (from :mod:`app.formats.money`)
- :func:`parse_attributes` -> ``dict[str, str]`` (from :mod:`app.formats.attributes`)
- :func:`parse_export` -> :class:`ParsedExport` (raises :class:`ExportRejected`)
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from app.formats.attributes import parse_attributes
from app.formats.dialect import DELIMITERS, SAMPLE_BYTES, detect_dialect
from app.formats.encoding import decode_text
from app.formats.errors import FormatRejected, JsonSyntaxError
from app.formats.jsondoc import load_json
from app.formats.mapping import compact, match_names
from app.formats.money import KNOWN_CURRENCIES, Money, parse_price
from app.formats.rows import check_width, is_blank, read_records

__all__ = ["KNOWN_CURRENCIES", "ExportRejected", "Money", "ParsedExport", "parse_attributes", "parse_export", "parse_price"]

SUPPLIER = "aliexpress"

# --- Export rows ---------------------------------------------------------------


@dataclass
class SupplierLine:
    supplier: str
    supplier_order_id: str
    supplier_line_id: str
    supplier_product_id: str
    supplier_sku_id: str | None
    title: str
    unit_price: Decimal
    currency: str
    quantity: int
    order_date: date | datetime
    status: str | None
    store: str | None
    attributes: dict[str, str]
    attribute_text: str | None
    image_url: str | None
    row_number: int
    store_url: str | None = None
    product_url: str | None = None


@dataclass(frozen=True)
class RowError:
    row_number: int
    field: str | None  # None: the row as a whole
    message: str


@dataclass(frozen=True)
class RowWarning:
    row_number: int
    field: str | None
    message: str


@dataclass
class ParsedExport:
    rows: list[SupplierLine]
    errors: list[RowError]
    format: Literal["json", "csv"]
    warnings: list[RowWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ExportRejected(Exception):
    """The whole file is refused (not JSON, truncated, unreadable, no usable header...)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# Our field name -> key in the exporter's JSON.
JSON_KEYS: dict[str, str] = {
    "supplier_order_id": "orderId", "supplier_product_id": "productId", "supplier_sku_id": "skuId", "title": "title",
    "unit_price": "price", "currency": "currency", "quantity": "quantity", "order_date": "orderDateIso",
    "order_date_display": "orderDate", "status": "status", "store": "storeName", "store_url": "storePageUrl",
    "attribute_text": "attributes", "image_url": "imageUrl", "product_url": "productUrl",
}

# Our field name -> CSV header names we recognise (compared case- and punctuation-blind).
# The first name of each list is the header written by the exporter.
CSV_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "order_date": ("Order Date", "Date", "Order Time"),
    "supplier_order_id": ("Order ID", "Order Number", "Order No"),
    "supplier_line_id": ("Order Line ID", "Line ID", "Item ID"),
    "title": ("Title", "Product Title", "Product Name", "Item Title"),
    "quantity": ("Qty", "Quantity"),
    "unit_price": ("Price", "Unit Price", "Item Price"),
    "store": ("Store", "Store Name", "Seller"),
    "supplier_product_id": ("Product ID", "Product Id"),
    "supplier_sku_id": ("SKU ID", "SKU"),
    "attribute_text": ("Attributes", "SKU Attributes", "Properties"),
    "currency": ("Currency",),
    "status": ("Status", "Order Status"),
    "product_url": ("Product Url", "Product URL", "Item URL"),
    "image_url": ("Product Image Url", "Image Url", "Image URL", "Image"),
    "store_url": ("Store Url", "Store URL", "Store Page Url"),
}
REQUIRED_FIELDS = ("supplier_order_id", "supplier_product_id", "title", "unit_price", "quantity", "order_date")
FORMULA_PREFIXES = ("=", "+", "-", "@")

Records = list[tuple[int, dict[str, Any] | None]]


def parse_export(
    data: bytes,
    filename: str,
    *,
    column_mapping: dict[str, str] | None = None,
    default_currency: str | None = None,
) -> ParsedExport:
    """Parse an AliExpress order export (JSON or CSV) into validated rows.

    Rows with problems are left out of ``rows`` and described in ``errors`` (row numbers are
    1-based positions in the JSON array, or spreadsheet rows for CSV where the header is row
    1). Raises :class:`ExportRejected` when the file as a whole cannot be read.
    ``column_mapping`` ({our_field: csv_header}) overrides the CSV header detection.
    """
    if not data or not data.strip():
        raise ExportRejected(f"{filename}: the file is empty")
    try:
        text = decode_text(data)
        kind = _detect_format(text, filename)
        if kind == "json":
            if column_mapping:
                raise ValueError("column_mapping only applies to CSV files")
            records = _json_records(text, filename)
        else:
            records = _csv_records(text, filename, column_mapping)
    except JsonSyntaxError as exc:
        raise ExportRejected(f"{filename} is not valid JSON: {exc.detail}", line=exc.line, column=exc.column) from None
    except FormatRejected as exc:
        raise ExportRejected(f"{filename}: {exc.message}", line=getattr(exc, "row_number", None)) from None
    return _validate(records, kind, default_currency)


def _detect_format(text: str, filename: str) -> Literal["json", "csv"]:
    lower = filename.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _json_records(text: str, filename: str) -> Records:
    doc = load_json(text)
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if "orders" in doc and isinstance(doc["orders"], list):
            doc = doc["orders"]
        elif len(lists) == 1:
            doc = lists[0]
    if not isinstance(doc, list):
        raise ExportRejected(f"{filename}: expected a JSON list of order lines, found {type(doc).__name__}")
    records: Records = []
    for index, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            records.append((index, None))
            continue
        record = {ours: item.get(theirs) for ours, theirs in JSON_KEYS.items() if theirs in item}
        if "order_date" not in record and "order_date_display" in record:
            record["order_date"] = record["order_date_display"]
        record["_ignored"] = item.get("ignoreExport") is True
        record["_unknown_keys"] = [k for k in item if k not in JSON_KEYS.values()]
        records.append((index, record))
    return records


_CSV_KNOWN_HEADERS = {compact(a) for aliases in CSV_HEADER_ALIASES.values() for a in aliases}


def _sniff_dialect(text: str) -> tuple[str, str]:
    """Delimiter and quote character: the one that splits the header into known names, else detected."""
    first_line = re.split(r"\r\n|\r|\n", text[:SAMPLE_BYTES], maxsplit=1)[0]
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if sum(compact(c) in _CSV_KNOWN_HEADERS for c in cells) >= 3:
            return delimiter, '"'
    found = detect_dialect(text[:SAMPLE_BYTES])
    return found.delimiter, found.quotechar or '"'


def _csv_records(text: str, filename: str, column_mapping: dict[str, str] | None) -> Records:
    delimiter, quotechar = _sniff_dialect(text)
    table = read_records(io.StringIO(text, newline=""), {"delimiter": delimiter, "quotechar": quotechar})
    first = next(((row, cells) for row, cells in table if not is_blank(cells)), None)
    if first is None:
        raise ExportRejected(f"{filename}: no header row found")
    header_row, cells = first
    check_width(cells, header_row)
    header = [h.strip() for h in cells]
    columns = _map_columns(header, column_mapping, filename)
    records: Records = []
    for row, cells in table:
        if is_blank(cells):
            continue
        record: dict[str, Any] = {ours: cells[i] for ours, i in columns.items() if i < len(cells)}
        if any(c.strip() for c in cells[len(header) :]):
            record["_ragged"] = f"row has {len(cells)} cells but the header has {len(header)}"
        records.append((row - header_row + 1, record))  # the header is row 1 of the export
    return records


def _map_columns(header: list[str], column_mapping: dict[str, str] | None, filename: str) -> dict[str, int]:
    columns = match_names(header, CSV_HEADER_ALIASES)
    for ours, header_name in (column_mapping or {}).items():
        if ours not in CSV_HEADER_ALIASES:
            raise ValueError(f"unknown field {ours!r} in column_mapping; known: {', '.join(CSV_HEADER_ALIASES)}")
        if header_name not in header:
            raise ExportRejected(
                f"{filename}: column {header_name!r} (mapped to {ours}) is not in the header; the header has: {', '.join(header)}"
            )
        columns[ours] = header.index(header_name)
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise ExportRejected(
            f"{filename}: no column found for {', '.join(repr(CSV_HEADER_ALIASES[f][0]) for f in missing)}; "
            f"the header has: {', '.join(header)}. "
            "Rename the columns or choose them in the column mapping."
        )
    return columns


# --- Validation ----------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_MANGLED_ID_RE = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return value or None


def clean_title(raw: str) -> str:
    """Remove HTML tags (and the content of script/style elements), decode entities."""
    without = _TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", raw))
    return re.sub(r"\s+", " ", html.unescape(without)).strip()


def _parse_id(value: Any, name: str) -> str:
    if isinstance(value, bool):
        value = None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    text = _text(value)
    if text is None:
        raise ValueError(f"{name} is missing")
    if _MANGLED_ID_RE.match(text):
        raise ValueError(f"{name} {text!r} was turned into a rounded number by a spreadsheet; export it again as text")
    return text


def _parse_quantity(value: Any) -> int:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("quantity is missing")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"quantity {value!r} is not a number") from None
    if number != number.to_integral_value():
        raise ValueError(f"quantity {value!r} is not a whole number")
    if number <= 0:
        raise ValueError(f"quantity must be at least 1 (got {value!r})")
    return int(number)


_DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%Y/%m/%d", "%d.%m.%Y")


def _parse_date(value: Any) -> date | datetime:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    text = _text(value)
    if text is None:
        raise ValueError("order date is missing")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"order date {text!r} is not a date this importer understands (use YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _unusable_record(row_number: int, record: dict[str, Any] | None) -> RowError | RowWarning | None:
    """Why a record is not a purchase line at all (an error), or is skipped on purpose (a warning)."""
    if record is None:
        return RowError(row_number, None, "row is not an object with order fields")
    if not any(_text(record.get(f)) is not None for f in REQUIRED_FIELDS):
        found = ", ".join(record.get("_unknown_keys") or []) or "nothing"
        return RowError(row_number, None, f"row has none of the expected order fields (found: {found})")
    if record.get("_ignored"):
        return RowWarning(row_number, None, "skipped: marked 'ignore in export' by the exporter")
    return None


def _validate(records: Records, kind: Literal["json", "csv"], default_currency: str | None) -> ParsedExport:
    result = ParsedExport(rows=[], errors=[], format=kind)
    seen: dict[str, int] = {}
    for row_number, record in records:
        unusable = _unusable_record(row_number, record)
        if isinstance(unusable, RowError):
            result.errors.append(unusable)
            continue
        if unusable is not None:
            result.warnings.append(unusable)
            continue
        line, errors, warnings = _build_line(row_number, record or {}, default_currency)
        result.warnings.extend(warnings)
        if line is not None:
            first = seen.setdefault(line.supplier_line_id, row_number)
            if first != row_number:
                message = f"duplicate line {line.supplier_line_id} (same order, product and SKU as row {first})"
                errors.append(RowError(row_number, "supplier_line_id", message))
        if errors:
            result.errors.extend(errors)
        elif line is not None:
            result.rows.append(line)
    return result


def _title(row_number: int, record: dict[str, Any], errors: list[RowError], warnings: list[RowWarning]) -> str:
    """The title without HTML; an empty one is an error, HTML and formula starts are warnings."""
    raw_title = _text(record.get("title")) or ""
    title = clean_title(raw_title)
    if not title:
        errors.append(RowError(row_number, "title", "title is empty"))
        return title
    if title != raw_title.strip() and _TAG_RE.search(raw_title):
        warnings.append(RowWarning(row_number, "title", f"HTML removed from title {raw_title!r}"))
    if title.startswith(FORMULA_PREFIXES):
        message = f"title starts with {title[0]!r} and would run as a formula in a spreadsheet"
        warnings.append(RowWarning(row_number, "title", message))
    return title


def _price(row_number: int, record: dict[str, Any], default_currency: str | None, errors: list[RowError]) -> Money | None:
    """The unit price; its currency must agree with a currency column."""
    column_currency = _text(record.get("currency"))
    column_currency = column_currency.upper() if column_currency else None
    raw_price = record.get("unit_price")
    try:
        money = parse_price(raw_price, column_currency or default_currency)
    except (ValueError, TypeError) as exc:
        errors.append(RowError(row_number, "unit_price", str(exc)))
        return None
    if money.amount < 0:
        errors.append(RowError(row_number, "unit_price", f"price {raw_price!r} is negative"))
    if column_currency and money.currency != column_currency:
        message = f"price {raw_price!r} is in {money.currency} but the currency column says {column_currency}"
        errors.append(RowError(row_number, "currency", message))
    return money


def _build_line(
    row_number: int, record: dict[str, Any], default_currency: str | None
) -> tuple[SupplierLine | None, list[RowError], list[RowWarning]]:
    errors: list[RowError] = []
    warnings: list[RowWarning] = []
    values: dict[str, Any] = {}

    def attempt(name: str, parse: Any) -> None:
        try:
            values[name] = parse()
        except ValueError as exc:
            errors.append(RowError(row_number, name, str(exc)))

    if record.get("_ragged"):
        errors.append(RowError(row_number, None, record["_ragged"]))
    attempt("supplier_order_id", lambda: _parse_id(record.get("supplier_order_id"), "order id"))
    attempt("supplier_product_id", lambda: _parse_id(record.get("supplier_product_id"), "product id"))
    sku = record.get("supplier_sku_id")
    if _text(sku) is not None:
        attempt("supplier_sku_id", lambda: _parse_id(sku, "SKU id"))
    title = _title(row_number, record, errors, warnings)
    money = _price(row_number, record, default_currency, errors)
    attempt("quantity", lambda: _parse_quantity(record.get("quantity")))
    attempt("order_date", lambda: _parse_date(record.get("order_date")))
    if errors or money is None:
        return None, errors, warnings
    attribute_text = _text(record.get("attribute_text"))
    line = SupplierLine(
        supplier=SUPPLIER, supplier_order_id=values["supplier_order_id"], supplier_line_id=_line_id(record, values),
        supplier_product_id=values["supplier_product_id"], supplier_sku_id=values.get("supplier_sku_id"), title=title,
        unit_price=money.amount, currency=money.currency, quantity=values["quantity"], order_date=values["order_date"],
        status=_text(record.get("status")), store=_text(record.get("store")), attributes=parse_attributes(attribute_text),
        attribute_text=attribute_text, image_url=_text(record.get("image_url")), row_number=row_number,
        store_url=_text(record.get("store_url")), product_url=_text(record.get("product_url")),
    )
    return line, errors, warnings


def _line_id(record: dict[str, Any], values: dict[str, Any]) -> str:
    # The CSV export has no order-line column, and the JSON "id"/"orderLineId" uses a
    # sub-order number that the CSV does not carry. So that the same purchase gets the same
    # key whichever file it is imported from, the line id is derived from order id + product
    # id + SKU id (an order lists each product variant once). An explicit line-id column in
    # a mapped CSV wins.
    explicit = _text(record.get("supplier_line_id"))
    if explicit:
        return explicit
    parts = [values["supplier_order_id"], values["supplier_product_id"]]
    if values.get("supplier_sku_id"):
        parts.append(values["supplier_sku_id"])
    return "-".join(parts)
