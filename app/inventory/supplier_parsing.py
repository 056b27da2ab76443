"""Parsing of supplier order exports (AliExpress, "Shopper-Inventory" format).

Pure Python: no Flask, no database. The import view calls :func:`parse_export`, shows
``errors`` and ``warnings`` to the user and writes nothing while ``errors`` is not empty.

Public API
----------
- :func:`parse_price` -> :class:`Money`
- :func:`parse_attributes` -> ``dict[str, str]``
- :func:`parse_export` -> :class:`ParsedExport` (raises :class:`ExportRejected`)
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SUPPLIER = "aliexpress"

# ---------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


# ISO 4217 codes accepted when written out ("PLN 12,00", "1,234.56 USD").
KNOWN_CURRENCIES = frozenset(
    {
        "USD",
        "EUR",
        "PLN",
        "GBP",
        "CHF",
        "CZK",
        "HUF",
        "SEK",
        "NOK",
        "DKK",
        "RON",
        "BGN",
        "UAH",
        "RUB",
        "TRY",
        "ILS",
        "CAD",
        "AUD",
        "NZD",
        "MXN",
        "BRL",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "JPY",
        "CNY",
        "HKD",
        "TWD",
        "KRW",
        "SGD",
        "MYR",
        "THB",
        "IDR",
        "PHP",
        "VND",
        "INR",
        "PKR",
        "AED",
        "SAR",
        "QAR",
        "KWD",
        "BHD",
        "OMR",
        "ZAR",
        "EGP",
        "NGN",
        "KZT",
    }
)

# Currency symbols and prefixes, looked up lower-cased with spaces removed ("US $" -> "us$").
_SYMBOLS: dict[str, str] = {
    "us$": "USD",
    "usd$": "USD",
    "ca$": "CAD",
    "c$": "CAD",
    "au$": "AUD",
    "a$": "AUD",
    "nz$": "NZD",
    "hk$": "HKD",
    "s$": "SGD",
    "mx$": "MXN",
    "r$": "BRL",
    "cn¥": "CNY",
    "rmb": "CNY",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "zł": "PLN",
    "zl": "PLN",
    "kč": "CZK",
    "ft": "HUF",
    "₽": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "₴": "UAH",
    "грн": "UAH",
    "₺": "TRY",
    "₪": "ILS",
    "₹": "INR",
    "₩": "KRW",
    "lei": "RON",
    "лв": "BGN",
    "лв.": "BGN",
}

# Spaces used as thousands separators in some locales ("1 234,56 zł").
_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_NUMBER_RE = re.compile(r"[0-9][0-9.,'’" + _SPACES + r"]*")


def _currency_from_marker(marker: str) -> str | None:
    """Currency code for a symbol/code written before or after the number."""
    compact = re.sub(r"\s+", "", marker).lower()
    if not compact:
        return None
    if compact.upper() in KNOWN_CURRENCIES:
        return compact.upper()
    if compact in _SYMBOLS:
        return _SYMBOLS[compact]
    raise ValueError(f"unknown currency {marker.strip()!r}")


def _parse_number(raw: str) -> Decimal:
    """Turn ``1,234.56`` / ``1.234,56`` / ``1 234,56`` / ``2.91`` into a Decimal.

    Rules: when both ``.`` and ``,`` occur, the last one is the decimal separator and the
    other one must group thousands. When only one kind occurs: several of them are thousands
    separators; a single one followed by exactly three digits (``1,234``) is a thousands
    separator unless the integer part is ``0``; otherwise it is the decimal separator.
    """
    text = raw.strip(_SPACES)
    for space in _SPACES + "'’":
        if space in text:
            # Grouping by spaces/apostrophes: every group after the first has 3 digits.
            parts = text.split(space)
            head, tail = parts[0], parts[1:]
            last = re.split(r"[.,]", tail[-1], maxsplit=1)[0]
            groups = [*tail[:-1], last]
            if not head or not all(len(g) == 3 and g.isdigit() for g in groups):
                raise ValueError("digit groups are not separated consistently")
            text = text.replace(space, "")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        if text.count(decimal_sep) > 1:
            raise ValueError(f"more than one decimal separator {decimal_sep!r}")
        integer, fraction = text.split(decimal_sep)
        _check_groups(integer, group_sep)
        integer = integer.replace(group_sep, "")
    elif dots or commas:
        sep = "." if dots else ","
        parts = text.split(sep)
        if len(parts) > 2:
            _check_groups(text, sep)
            integer, fraction = text.replace(sep, ""), ""
        elif len(parts[1]) == 3 and parts[0] not in ("", "0") and len(parts[0]) <= 3:
            integer, fraction = parts[0] + parts[1], ""
        else:
            integer, fraction = parts
    else:
        integer, fraction = text, ""
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError("not a number")
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _check_groups(integer: str, sep: str) -> None:
    groups = integer.split(sep)
    if not (1 <= len(groups[0]) <= 3) or not all(len(g) == 3 for g in groups[1:]):
        raise ValueError(
            f"thousands separator {sep!r} is not followed by groups of 3 digits"
        )


def parse_price(text: Any, default_currency: str | None = None) -> Money:
    """Parse a displayed price into :class:`Money`.

    Understands ``US $2.91``, ``$2.91``, ``129,46zł``, ``129,46 zł``, ``€1.234,56``,
    ``1,234.56 USD``, ``PLN 12,00``, ``1 234,56 zł`` and a bare ``2.91`` (which needs
    ``default_currency``). Raises ``ValueError`` with the reason on anything else.
    """
    if isinstance(text, bool) or text is None:
        raise ValueError(f"price is missing (got {text!r})")
    if isinstance(text, (int, Decimal)):
        if default_currency is None:
            raise ValueError(f"price {text!r} has no currency and no default was given")
        return Money(Decimal(text), default_currency.upper())
    if isinstance(text, float):
        return parse_price(Decimal(str(text)), default_currency)
    if not isinstance(text, str):
        raise TypeError(f"price must be text, got {type(text).__name__}")

    original = text
    cleaned = unicodedata.normalize("NFC", text).strip()
    if not cleaned:
        raise ValueError("price is empty")
    negative = False
    if cleaned[0] in "-−":
        negative, cleaned = True, cleaned[1:].strip()

    numbers = list(_NUMBER_RE.finditer(cleaned))
    if not numbers:
        raise ValueError(f"could not parse price {original!r}: no digits")
    match = numbers[0]
    if len(numbers) > 1:
        raise ValueError(f"could not parse price {original!r}: more than one number")
    prefix = cleaned[: match.start()]
    suffix = cleaned[match.end() :]
    if prefix.rstrip().endswith(("-", "−")):
        negative, prefix = True, prefix.rstrip()[:-1]
    try:
        amount = _parse_number(match.group())
        currencies = {
            c
            for c in (_currency_from_marker(prefix), _currency_from_marker(suffix))
            if c
        }
    except ValueError as exc:
        raise ValueError(f"could not parse price {original!r}: {exc}") from None
    if len(currencies) > 1:
        raise ValueError(
            f"could not parse price {original!r}: two different currencies"
        )
    currency = currencies.pop() if currencies else default_currency
    if not currency:
        raise ValueError(f"price {original!r} has no currency and no default was given")
    return Money(-amount if negative else amount, currency.upper())


# ---------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------

# A colon that separates a key from its value: not between two digits (so "10:30" or
# "1:12" stay inside a value).
_KEY_COLON_RE = re.compile(r"(?<!\d):|:(?!\d)")


def _snake_case(key: str) -> str:
    key = unicodedata.normalize("NFKC", key).strip().lower()
    return re.sub(r"[^\w]+", "_", key).strip("_")


def parse_attributes(text: str | None) -> dict[str, str]:
    """Parse SKU attribute text into a dict with snake_case keys.

    ``"Color: Gold, Size: 12cm"`` -> ``{"color": "Gold", "size": "12cm"}``. Pairs may be
    separated by ``,`` or ``;``. A fragment without a ``key:`` belongs to the previous value
    (``"Color: Gold, Silver; Size: 12cm"`` -> color ``"Gold, Silver"``). A key with no value
    maps to ``""``. Text before the first key is kept under ``"value"``; a repeated key has
    its values joined with ``", "``.
    """
    if not text:
        return {}
    result: dict[str, str] = {}
    current: str | None = None
    for piece, sep in _split_keep_separator(str(text)):
        piece = re.sub(r"\s+", " ", piece).strip()
        if not piece:
            continue
        colon = _KEY_COLON_RE.search(piece)
        key = _snake_case(piece[: colon.start()]) if colon else ""
        if colon and key:
            value = piece[colon.end() :].strip()
            if key in result and result[key] and value:
                result[key] = f"{result[key]}, {value}"
            else:
                result[key] = result.get(key) or value
            current = key
        else:
            target = current or "value"
            joiner = f"{sep} " if sep else ", "
            result[target] = (
                f"{result[target]}{joiner}{piece}" if result.get(target) else piece
            )
            current = target
    return result


def _split_keep_separator(text: str) -> list[tuple[str, str]]:
    """Split on ``,`` and ``;``; each piece comes with the separator that preceded it."""
    out: list[tuple[str, str]] = []
    sep = ""
    for token in re.split(r"([,;])", text):
        if token in (",", ";"):
            sep = token
        else:
            out.append((token, sep))
    return out


# ---------------------------------------------------------------------------
# Export rows
# ---------------------------------------------------------------------------


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

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# Our field name -> key in the exporter's JSON.
JSON_KEYS: dict[str, str] = {
    "supplier_order_id": "orderId",
    "supplier_product_id": "productId",
    "supplier_sku_id": "skuId",
    "title": "title",
    "unit_price": "price",
    "currency": "currency",
    "quantity": "quantity",
    "order_date": "orderDateIso",
    "order_date_display": "orderDate",
    "status": "status",
    "store": "storeName",
    "store_url": "storePageUrl",
    "attribute_text": "attributes",
    "image_url": "imageUrl",
    "product_url": "productUrl",
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
REQUIRED_FIELDS = (
    "supplier_order_id",
    "supplier_product_id",
    "title",
    "unit_price",
    "quantity",
    "order_date",
)
FORMULA_PREFIXES = ("=", "+", "-", "@")


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
    text = _decode(data, filename)
    kind = _detect_format(text, filename)
    if kind == "json":
        if column_mapping:
            raise ValueError("column_mapping only applies to CSV files")
        records = _json_records(text, filename)
    else:
        records = _csv_records(text, filename, column_mapping)
    return _validate(records, kind, default_currency)


def _decode(data: bytes, filename: str) -> str:
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ExportRejected(
                    f"{filename}: starts with a {encoding} marker but byte {exc.start} is not valid {encoding}"
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ExportRejected(
            f"{filename}: the text encoding could not be recognised "
            f"(byte {utf8_error.start} is not UTF-8); save the file as UTF-8 and try again"
        )
    return str(best)


def _detect_format(text: str, filename: str) -> Literal["json", "csv"]:
    lower = filename.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _json_records(text: str, filename: str) -> list[tuple[int, dict[str, Any] | None]]:
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        end = len(text.rstrip())
        hint = ""
        if exc.pos >= end - 1 or exc.msg.startswith("Unterminated"):
            last_line = text[:end].count("\n") + 1
            last_col = end - text[:end].rfind("\n")
            hint = f"; the file ends at line {last_line}, column {last_col} - it looks cut off"
        raise ExportRejected(
            f"{filename} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}){hint}",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if "orders" in doc and isinstance(doc["orders"], list):
            doc = doc["orders"]
        elif len(lists) == 1:
            doc = lists[0]
    if not isinstance(doc, list):
        raise ExportRejected(
            f"{filename}: expected a JSON list of order lines, found {type(doc).__name__}"
        )
    records: list[tuple[int, dict[str, Any] | None]] = []
    for index, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            records.append((index, None))
            continue
        record = {
            ours: item.get(theirs)
            for ours, theirs in JSON_KEYS.items()
            if theirs in item
        }
        if "order_date" not in record and "order_date_display" in record:
            record["order_date"] = record["order_date_display"]
        record["_ignored"] = item.get("ignoreExport") is True
        record["_unknown_keys"] = [k for k in item if k not in JSON_KEYS.values()]
        records.append((index, record))
    return records


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_CSV_KNOWN_HEADERS = {
    _header_key(a) for aliases in CSV_HEADER_ALIASES.values() for a in aliases
}


def _sniff_dialect(text: str) -> tuple[str, str]:
    """Delimiter and quote character. Try the header line first, then CleverCSV."""
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    for delimiter in (",", ";", "\t", "|"):
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if sum(_header_key(c) in _CSV_KNOWN_HEADERS for c in cells) >= 3:
            return delimiter, '"'
    try:
        import clevercsv

        dialect = clevercsv.Detector().detect(text[:65536])
    except Exception:  # noqa: BLE001 - detection is best effort
        dialect = None
    if dialect is not None and dialect.delimiter:
        return dialect.delimiter, dialect.quotechar or '"'
    return ",", '"'


def _csv_records(
    text: str, filename: str, column_mapping: dict[str, str] | None
) -> list[tuple[int, dict[str, Any] | None]]:
    delimiter, quotechar = _sniff_dialect(text)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar
    )
    try:
        table = list(reader)
    except csv.Error as exc:
        raise ExportRejected(
            f"{filename}: CSV error at line {reader.line_num}: {exc}",
            line=reader.line_num,
        ) from None
    while table and not any(c.strip() for c in table[0]):
        table.pop(0)
    if not table:
        raise ExportRejected(f"{filename}: no header row found")
    header = [h.strip() for h in table[0]]
    columns = _map_columns(header, column_mapping, filename)
    records: list[tuple[int, dict[str, Any] | None]] = []
    for offset, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        record: dict[str, Any] = {
            ours: cells[i] for ours, i in columns.items() if i < len(cells)
        }
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            record["_ragged"] = (
                f"row has {len(cells)} cells but the header has {len(header)}"
            )
        records.append((offset, record))
    return records


def _map_columns(
    header: list[str], column_mapping: dict[str, str] | None, filename: str
) -> dict[str, int]:
    by_key: dict[str, int] = {}
    for index, name in enumerate(header):
        by_key.setdefault(_header_key(name), index)
    columns: dict[str, int] = {}
    for ours, aliases in CSV_HEADER_ALIASES.items():
        for alias in aliases:
            if _header_key(alias) in by_key:
                columns[ours] = by_key[_header_key(alias)]
                break
    for ours, header_name in (column_mapping or {}).items():
        if ours not in CSV_HEADER_ALIASES:
            raise ValueError(
                f"unknown field {ours!r} in column_mapping; known: {', '.join(CSV_HEADER_ALIASES)}"
            )
        if header_name not in header:
            raise ExportRejected(
                f"{filename}: column {header_name!r} (mapped to {ours}) is not in the header; "
                f"the header has: {', '.join(header)}"
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


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_RE = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_MANGLED_ID_RE = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return value or None


def clean_title(raw: str) -> str:
    """Remove HTML tags (and the content of script/style elements), decode entities."""
    without = _SCRIPT_RE.sub(" ", raw)
    without = _TAG_RE.sub(" ", without)
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
        raise ValueError(
            f"{name} {text!r} was turned into a rounded number by a spreadsheet; export it again as text"
        )
    return text


def _parse_quantity(value: Any) -> int:
    if (
        isinstance(value, bool)
        or value is None
        or (isinstance(value, str) and not value.strip())
    ):
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


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
)


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
        raise ValueError(
            f"order date {text!r} is not a date this importer understands (use YYYY-MM-DD)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _validate(
    records: list[tuple[int, dict[str, Any] | None]],
    kind: Literal["json", "csv"],
    default_currency: str | None,
) -> ParsedExport:
    result = ParsedExport(rows=[], errors=[], format=kind)
    seen: dict[str, int] = {}
    for row_number, record in records:
        if record is None:
            result.errors.append(
                RowError(row_number, None, "row is not an object with order fields")
            )
            continue
        present = [f for f in REQUIRED_FIELDS if _text(record.get(f)) is not None]
        if not present:
            found = ", ".join(record.get("_unknown_keys") or []) or "nothing"
            result.errors.append(
                RowError(
                    row_number,
                    None,
                    f"row has none of the expected order fields (found: {found})",
                )
            )
            continue
        if record.get("_ignored"):
            result.warnings.append(
                RowWarning(
                    row_number,
                    None,
                    "skipped: marked 'ignore in export' by the exporter",
                )
            )
            continue
        line, errors, warnings = _build_line(row_number, record, default_currency)
        result.warnings.extend(warnings)
        if line is not None:
            first = seen.get(line.supplier_line_id)
            if first is not None:
                errors.append(
                    RowError(
                        row_number,
                        "supplier_line_id",
                        f"duplicate line {line.supplier_line_id} (same order, product and SKU as row {first})",
                    )
                )
            else:
                seen[line.supplier_line_id] = row_number
        if errors:
            result.errors.extend(errors)
        elif line is not None:
            result.rows.append(line)
    return result


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
    attempt(
        "supplier_order_id",
        lambda: _parse_id(record.get("supplier_order_id"), "order id"),
    )
    attempt(
        "supplier_product_id",
        lambda: _parse_id(record.get("supplier_product_id"), "product id"),
    )
    sku = record.get("supplier_sku_id")
    if _text(sku) is not None:
        attempt("supplier_sku_id", lambda: _parse_id(sku, "SKU id"))

    raw_title = _text(record.get("title")) or ""
    title = clean_title(raw_title)
    if not title:
        errors.append(RowError(row_number, "title", "title is empty"))
    else:
        if title != raw_title.strip() and _TAG_RE.search(raw_title):
            warnings.append(
                RowWarning(
                    row_number, "title", f"HTML removed from title {raw_title!r}"
                )
            )
        if title.startswith(FORMULA_PREFIXES):
            warnings.append(
                RowWarning(
                    row_number,
                    "title",
                    f"title starts with {title[0]!r} and would run as a formula in a spreadsheet",
                )
            )
    values["title"] = title

    column_currency = _text(record.get("currency"))
    column_currency = column_currency.upper() if column_currency else None
    money: Money | None = None
    raw_price = record.get("unit_price")
    try:
        money = parse_price(raw_price, column_currency or default_currency)
    except (ValueError, TypeError) as exc:
        errors.append(RowError(row_number, "unit_price", str(exc)))
    if money is not None:
        if money.amount < 0:
            errors.append(
                RowError(row_number, "unit_price", f"price {raw_price!r} is negative")
            )
        if column_currency and money.currency != column_currency:
            errors.append(
                RowError(
                    row_number,
                    "currency",
                    f"price {raw_price!r} is in {money.currency} but the currency column says {column_currency}",
                )
            )
    attempt("quantity", lambda: _parse_quantity(record.get("quantity")))
    attempt("order_date", lambda: _parse_date(record.get("order_date")))

    if errors or money is None:
        return None, errors, warnings

    attribute_text = _text(record.get("attribute_text"))
    line = SupplierLine(
        supplier=SUPPLIER,
        supplier_order_id=values["supplier_order_id"],
        supplier_line_id=_line_id(record, values),
        supplier_product_id=values["supplier_product_id"],
        supplier_sku_id=values.get("supplier_sku_id"),
        title=title,
        unit_price=money.amount,
        currency=money.currency,
        quantity=values["quantity"],
        order_date=values["order_date"],
        status=_text(record.get("status")),
        store=_text(record.get("store")),
        attributes=parse_attributes(attribute_text),
        attribute_text=attribute_text,
        image_url=_text(record.get("image_url")),
        row_number=row_number,
        store_url=_text(record.get("store_url")),
        product_url=_text(record.get("product_url")),
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
