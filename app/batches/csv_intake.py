"""CSV intake for product batches: the batch's fields, column suggestions and row validation.

Managers upload spreadsheet exports of products (up to about 100 MB / 200,000 rows). Reading the
file (encoding, dialect, streaming rows with spreadsheet row numbers, ragged rows, bounded input)
is :mod:`app.formats`; this module adds what a product batch needs. Pure Python: no web framework
and no database.

Typical use::

    fmt = sniff(path)                      # encoding, delimiter, quoting, lines to skip
    pre = preview(path, fmt)               # header + first rows for the upload screen
    mapping = suggest_mapping(pre.header)  # {"title": "Product Name", ...}
    report = validate(path, fmt, mapping)  # per-row problems, capped list, full counts
    for row_number, row, problems in iter_rows(path, fmt):
        ...                                # one background job per row

Whole-file problems (empty or binary file, NUL bytes, wrong encoding, broken quoting, duplicate
column names, too many columns, ...) raise :class:`CsvRejected` whose message tells the user what
to fix. Row-level problems (ragged rows, missing required values) are reported as :class:`Problem`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.formats import mapping as column_mapping
from app.formats.dialect import CsvFormat, looks_like_data, sniff
from app.formats.encoding import Source
from app.formats.errors import CsvRejected
from app.formats.rows import Preview, Problem, Row, TableStats, iter_rows, names, preview, stream

__all__ = [
    "FIELDS",
    "CsvFormat",
    "CsvRejected",
    "Preview",
    "Problem",
    "ValidationReport",
    "iter_rows",
    "preview",
    "sniff",
    "suggest_mapping",
    "validate",
]

#: Product fields a row can be mapped to.
FIELDS = ("country", "product_type", "size", "mpn", "description", "title")
MAX_PROBLEMS = 1000

_PLACEHOLDERS = frozenset({"na", "n/a", "null", "none", "nan", "#n/a"})

# Names each field goes by in spreadsheet exports, best first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": (
        "title", "product title", "product name", "name", "item name", "item title", "item", "product",
        "listing title", "article name",
    ),
    "description": (
        "description", "desc", "product description", "long description", "details", "item description", "descr",
        "body", "body html", "full description",
    ),
    "mpn": (
        "mpn", "manufacturer part number", "mfr part number", "mfg part number", "manufacturer part no", "mfr part no",
        "part number", "part no", "mfr number", "manufacturer number", "manufacturer code", "part", "pn", "mfr pn",
    ),
    "product_type": (
        "product type", "producttype", "type", "category", "product category", "item type", "kind", "product kind",
        "categories",
    ),
    "size": ("size", "sizes", "product size", "item size", "dimensions", "dimension", "measurements", "ring size"),
    "country": (
        "country", "country of origin", "origin", "country code", "made in", "coo", "origin country", "country name",
        "manufacturing country",
    ),
}
# Words that identify a field even inside a longer header ("Product Title (EN)").
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "product name", "item name"),
    "description": ("description", "desc"),
    "mpn": ("mpn", "part number", "part no"),
    "product_type": ("product type", "category"),
    "size": ("size",),
    "country": ("country", "origin"),
}
_TARGETS = column_mapping.targets({f: _SYNONYMS[f] for f in FIELDS}, _KEYWORDS)


def suggest_mapping(header: Iterable[str]) -> dict[str, str]:
    """Map product fields to header names by normalised and fuzzy name matching.

    Each header name is used for at most one field, best matches first; fields without a
    plausible column are left out.
    """
    return column_mapping.suggest_mapping(header, _TARGETS)


@dataclass
class ValidationReport:
    """Every row checked: counts, and the first problems with their row numbers."""

    total_rows: int
    problems: list[Problem]
    truncated: bool
    problem_count: int = 0
    rows_with_problems: int = 0
    blank_rows: int = 0
    header: list[str] = field(default_factory=list)
    header_row: int = 1

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _missing_value(value: str | None) -> str | None:
    """None when the value is usable, else why it is not."""
    if value is None or not value.strip():
        return "is empty"
    if value.strip().casefold() in _PLACEHOLDERS:
        return f"is '{value.strip()}', a placeholder rather than a value"
    return None


def _mapping_checks(stats: TableStats, fmt: CsvFormat, mapping: dict[str, str], required: tuple[str, ...]) -> list[tuple[str, str | int]]:
    """Resolve mapped header names to row keys; refuse names the file does not have."""
    keys = stats.keys
    if fmt.has_header:
        lookup: dict[str, str | int] = {k: k for k in keys}
        lookup.update({k.strip(): k for k in keys})
    else:
        lookup = {k: i for i, k in enumerate(keys)}
    checks: list[tuple[str, str | int]] = []
    for fld, name in mapping.items():
        if not name:
            continue
        key = lookup.get(name, lookup.get(name.strip()))
        if key is None:
            hint = ""
            if fmt.has_header and looks_like_data(stats.header):
                hint = (
                    f" Row {stats.header_row} looks like data, not column names: add a header "
                    "row, or choose 'no header row' and map the columns by position."
                )
            raise CsvRejected(
                f"The column '{name}' chosen for {fld.replace('_', ' ')} is not in the file. "
                f"The header (row {stats.header_row or 1}) has: {names(stats.header)}.{hint} "
                "Choose one of these columns or fix the header."
            )
        if fld in required:
            checks.append((fld, key))
    return checks


def _row_problems(row_number: int, row: Row, checks: list[tuple[str, str | int]], mapping: dict[str, str]) -> list[Problem]:
    """Required fields of one row that are empty or placeholders."""
    found = []
    for fld, key in checks:
        value = row.get(key) if isinstance(row, dict) else row[key]  # type: ignore[arg-type,index]
        why = _missing_value(value)
        if why is not None:
            column, label = mapping[fld], fld.replace("_", " ")
            message = f"Row {row_number}: {label} {why} (column '{column}'); every product row needs a {label}."
            found.append(Problem(row_number, column, message))
    return found


def _no_rows(stats: TableStats, fmt: CsvFormat, mapping: dict[str, str], required: tuple[str, ...]) -> CsvRejected:
    if stats.header or stats.header_row:
        _mapping_checks(stats, fmt, mapping, required)
    blanks = f" ({stats.blank_rows} empty row(s) ignored)" if stats.blank_rows else ""
    return CsvRejected(
        f"The file has a header row (row {stats.header_row or 1}) but no product rows below "
        f"it{blanks}. Add one row per product under the header, then upload again."
    )


def _checked(rows: Iterator, stats: TableStats, fmt: CsvFormat, mapping: dict[str, str], required: tuple[str, ...]):
    """Each row's problems (the reader's and the required fields'), resolving the mapping once."""
    checks: list[tuple[str, str | int]] | None = None
    for row_number, row, row_problems in rows:
        if checks is None:
            checks = _mapping_checks(stats, fmt, mapping, required)
        yield list(row_problems) + _row_problems(row_number, row, checks, mapping)


def validate(
    path: Source,
    fmt: CsvFormat,
    mapping: dict[str, str],
    required: Iterable[str] = ("title",),
    *,
    max_problems: int = MAX_PROBLEMS,
) -> ValidationReport:
    """Check every row of the file against ``mapping`` ({field: header name}).

    Reports ragged rows and missing required values per row; blank rows are skipped and
    counted. Only the first ``max_problems`` problems are kept (``truncated`` is then True) but
    all are counted. Raises :class:`CsvRejected` for whole-file problems, including a mapping
    that names a column the file does not have and a file without product rows.
    """
    required = tuple(required)
    for fld in required:
        if not mapping.get(fld):
            raise CsvRejected(
                f"No column is chosen for the required field '{fld}'. Pick the column that holds "
                f"the {fld.replace('_', ' ')}, or add one to the file."
            )
    stats, warnings, problems = TableStats(), [], []
    total = problem_count = rows_with_problems = 0
    iterator = stream(path, fmt, stats, warnings)
    try:
        for found in _checked(iterator, stats, fmt, mapping, required):
            total += 1
            if found:
                rows_with_problems += 1
                problem_count += len(found)
                problems.extend(found[: max(0, max_problems - len(problems))])
    finally:
        iterator.close()
    if total == 0:
        raise _no_rows(stats, fmt, mapping, required)
    return ValidationReport(
        total_rows=total,
        problems=warnings + problems,
        truncated=problem_count > len(problems),
        problem_count=problem_count + len(warnings),
        rows_with_problems=rows_with_problems,
        blank_rows=stats.blank_rows,
        header=list(stats.header),
        header_row=stats.header_row,
    )
