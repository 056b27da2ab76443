"""Streaming the rows of a CSV file with the row numbers a spreadsheet shows.

The header is row 1 and the first data row 2; lines skipped above the header and blank lines still
count, and a quoted value spanning several lines stays one row. Short rows are padded with "" and
long rows cut to the header width, each with a :class:`Problem`. Memory does not grow with the
file: a line is read at most ``MAX_LINE_CHARS`` characters at a time, a value at most
``csv.field_size_limit()``, and a header wider than ``MAX_COLUMNS`` is refused before any row is
read (``TooManyColumns``), so later steps (mapping suggestions, previews) stay bounded too.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import TextIO

from app.formats.dialect import EMPTY_FILE, SAMPLE_BYTES, CsvFormat, looks_like_data, split_sample
from app.formats.encoding import GuardedRaw, Source, canonical, code_unit, decode_error_message, open_binary, source_size
from app.formats.errors import CsvRejected, FieldTooLarge, TooManyColumns

#: Widest table read; wider files are refused with the count and this limit.
MAX_COLUMNS = 500
#: Longest physical line read; a longer one is nearly always a file that is not CSV, or a stray quote.
MAX_LINE_CHARS = 1 << 21
EXACT_COUNT_BYTES = 2 * 1024 * 1024
READ_BUFFER = 1 << 16

Row = dict[str, str] | list[str]


@dataclass(frozen=True)
class Problem:
    """Something wrong with one row (or the header); ``severity`` is "error" or "warning"."""

    row_number: int | None
    column: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return self.message


@dataclass
class Preview:
    """The header and first rows of a file, for the upload screen."""

    header: list[str]
    rows: list[list[str]]
    total_rows_estimate: int
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 1
    row_numbers: list[int] = field(default_factory=list)
    total_is_exact: bool = False


class TableStats:
    """What a pass over the rows learnt about the table: header, its row, keys, blank rows."""

    __slots__ = ("blank_rows", "header", "header_row", "keys")

    def __init__(self) -> None:
        self.blank_rows = 0
        self.header: list[str] = []
        self.header_row = 0
        self.keys: list[str] = []


def names(keys: list[str]) -> str:
    """The first five names quoted, and how many more there are."""
    shown = ", ".join(f"'{k}'" for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def is_blank(cells: list[str]) -> bool:
    """True for a row with no value but whitespace (an empty spreadsheet row)."""
    return not any(cells) or not "".join(cells).strip()


# --------------------------------------------------------------------------------------------
# Records


class _LineTooLong(Exception):
    pass


def _bounded_lines(stream: TextIO) -> Iterator[str]:
    # readline(limit) stops at the limit, so a file without line breaks is never read whole.
    while line := stream.readline(MAX_LINE_CHARS):
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


def csv_error_message(row: int, exc: csv.Error) -> str:
    """What a CSV parser error at ``row`` means for the user."""
    detail = str(exc)
    if "field larger than field limit" in detail:
        return (
            f"Row {row}: a value is longer than {csv.field_size_limit()} characters. Usually a "
            'double quote (") opens a value and never closes it; check the quotes on row '
            f"{row} and re-export the file."
        )
    if "unexpected end of data" in detail:
        return (
            f'Row {row}: a value starts with a double quote (") that is never closed before the '
            "end of the file. Close the quote or remove it, then upload again."
        )
    return (
        f"Row {row} has broken quoting ({detail}). Values that contain the delimiter, quotes or "
        'line breaks must be wrapped in double quotes, with quotes inside doubled (""). Fix '
        f"row {row} or re-export the file."
    )


def read_records(stream: TextIO, kwargs: dict, *, skip_lines: int = 0) -> Iterator[tuple[int, list[str]]]:
    """Every record of a text stream after ``skip_lines`` lines, with its spreadsheet row number.

    Parser errors become :class:`CsvRejected` naming the row; a value or line over the limits
    becomes :class:`FieldTooLarge`.
    """
    row = 0
    lines = _bounded_lines(stream)
    try:
        for _ in range(skip_lines):
            if next(lines, None) is None:
                break
            row += 1
        for cells in csv.reader(lines, **kwargs):
            row += 1
            yield row, cells
    except _LineTooLong:
        message = (
            f"Row {row + 1}: a line is longer than {MAX_LINE_CHARS:,} characters without a line break. The file is "
            f'probably not a CSV, or a double quote (") opens a value and never closes it; check row {row + 1} '
            "and re-export the file."
        )
        raise FieldTooLarge(message, row_number=row + 1, limit=MAX_LINE_CHARS) from None
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FieldTooLarge(csv_error_message(row + 1, exc), row_number=row + 1, limit=csv.field_size_limit()) from None
        raise CsvRejected(csv_error_message(row + 1, exc)) from None


def records(src: Source, fmt: CsvFormat) -> Iterator[tuple[int, list[str]]]:
    """Every record of a file after ``fmt.skip_lines``; NUL characters and decoding errors refuse it."""
    encoding = canonical(fmt.encoding)
    raw = GuardedRaw(open_binary(src), code_unit(encoding))
    text = io.TextIOWrapper(io.BufferedReader(raw, READ_BUFFER), encoding=encoding, errors="strict", newline="")
    try:
        try:
            yield from read_records(text, fmt.reader_kwargs(), skip_lines=fmt.skip_lines)
        except UnicodeDecodeError:
            raise CsvRejected(decode_error_message(src, encoding)) from None
    finally:
        text.close()


def check_width(cells: list[str], row: int, limit: int = MAX_COLUMNS) -> None:
    """Refuse a header (or first row) wider than ``limit`` columns."""
    if len(cells) > limit:
        raise TooManyColumns(
            f"The file has {len(cells):,} columns (row {row}); at most {limit:,} can be read. Delete the columns "
            "you do not need, or split the file, and upload it again.",
            columns=len(cells),
            limit=limit,
            row_number=row,
        )


# --------------------------------------------------------------------------------------------
# Header and rows


def header_problems(header: list[str], header_row: int) -> tuple[list[str], list[Problem]]:
    """Fatal messages (duplicate names) and warnings (unnamed columns) about a header."""
    fatal: list[str] = []
    warnings: list[Problem] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        norm = name.strip().casefold()
        if not norm:
            warnings.append(
                Problem(
                    header_row,
                    f"column_{i}",
                    f"Column {i} has no name in the header (row {header_row}); its values are kept as "
                    f"'column_{i}'. Give it a name if you need it.",
                    "warning",
                )
            )
        elif norm in seen:
            j = seen[norm]
            fatal.append(
                f"Columns {j} and {i} are both named '{header[j - 1].strip()}' (row {header_row}). Rename one of "
                "them so every column has a unique name, then upload again."
            )
        else:
            seen[norm] = i
    return fatal, warnings


def _no_header_message(fmt: CsvFormat, size: int) -> str:
    if size == 0:
        return EMPTY_FILE
    skipped = f" after skipping {fmt.skip_lines} line(s)" if fmt.skip_lines else ""
    return (
        f"No header row found{skipped}: the file only contains blank lines. Put the column "
        "names (for example title,mpn,country) on the first line and one product per row below."
    )


def _take_header(
    first: tuple[int, list[str]], fmt: CsvFormat, stats: TableStats, header_warnings: list[Problem] | None, preview_mode: bool
) -> list[tuple[int, list[str]]]:
    """Record the header in ``stats``; return the rows still to yield (the first one, without a header)."""
    row, cells = first
    if cells and cells[0].startswith("\ufeff"):
        cells[0] = cells[0][1:]
    check_width(cells, row)
    if not fmt.has_header:
        stats.keys = [f"column_{i}" for i in range(1, len(cells) + 1)]
        stats.header, stats.header_row = list(stats.keys), 0
        return [first]
    stats.header, stats.header_row = cells, row
    fatal, warnings = header_problems(cells, row)
    if fatal and not preview_mode:
        raise CsvRejected(" ".join(fatal))
    if header_warnings is not None:
        header_warnings.extend([Problem(row, None, msg) for msg in fatal] + warnings)
    stats.keys = [name if name.strip() else f"column_{i}" for i, name in enumerate(cells, start=1)]
    return []


def _fit(row: int, cells: list[str], keys: list[str]) -> tuple[list[str], list[Problem]]:
    """Pad a short row or cut a long one to the header width, saying so."""
    n, width = len(cells), len(keys)
    if n < width:
        missing = keys[n:]
        message = (
            f"Row {row} has {n} value(s) but the header has {width} columns; {names(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} treated as empty. Check the row for a missing delimiter or a "
            "line break inside an unquoted value."
        )
        return cells + [""] * (width - n), [Problem(row, missing[0], message)]
    extra = cells[width:]
    if not any(v.strip() for v in extra):
        return cells[:width], []
    shown = ", ".join(repr(_shorten(v)) for v in extra[:3]) + (" ..." if len(extra) > 3 else "")
    message = (
        f"Row {row} has {n} values but the header has {width} columns; the extra value(s) {shown} do not belong "
        "to any column. Wrap values that contain the delimiter in double quotes, or add the missing column "
        "names to the header."
    )
    return cells[:width], [Problem(row, None, message)]


def stream(
    src: Source,
    fmt: CsvFormat,
    stats: TableStats,
    header_warnings: list[Problem] | None = None,
    *,
    preview_mode: bool = False,
) -> Iterator[tuple[int, Row, list[Problem]]]:
    """Rows as dicts (lists without a header, or in preview mode, which also tolerates
    duplicate column names and reports them as problems instead of refusing)."""
    source = records(src, fmt)
    try:
        first = next(((row, cells) for row, cells in source if not is_blank(cells)), None)
        if first is None:
            raise CsvRejected(_no_header_message(fmt, source_size(src)))
        pending = _take_header(first, fmt, stats, header_warnings, preview_mode)
        keys, width = stats.keys, len(stats.keys)
        as_dict = fmt.has_header and not preview_mode
        for row, cells in chain(pending, source):
            problems: list[Problem] = []
            if len(cells) == width and cells[0] and not cells[0].isspace():
                pass  # the common case: a full row with a first value, no blank check needed
            elif is_blank(cells):
                stats.blank_rows += 1
                continue
            elif len(cells) != width:
                cells, problems = _fit(row, cells, keys)
            yield row, (dict(zip(keys, cells)) if as_dict else cells), problems
    finally:
        source.close()


def iter_rows(path: Source, fmt: CsvFormat) -> Iterator[tuple[int, Row, list[Problem]]]:
    """Stream ``(row_number, row, problems)`` for every non-blank row below the header.

    ``row`` is a dict keyed by header name (unnamed columns become ``column_N``) when
    ``fmt.has_header``, else a list. Short rows are padded with "" and long rows cut to the
    header width; both come with a :class:`Problem`. Memory use does not grow with the file.
    Raises :class:`CsvRejected` for whole-file problems.
    """
    return stream(path, fmt, TableStats())


# --------------------------------------------------------------------------------------------
# Preview


def _estimate_total(src: Source, fmt: CsvFormat, size: int) -> int:
    with open_binary(src) as fh:
        raw = fh.read(SAMPLE_BYTES * 4)
    decoded = codecs.getincrementaldecoder(fmt.encoding)("replace").decode(raw, final=False)
    text = split_sample(decoded, False)
    if not text:
        return 0
    lines = io.StringIO(text, newline="")
    for _ in range(fmt.skip_lines):
        lines.readline()
    count = 0
    try:
        for cells in csv.reader(lines, **dict(fmt.reader_kwargs(), strict=False)):
            count += not is_blank(cells)
    except csv.Error:
        pass
    used_bytes = len(raw) * len(text) / max(1, len(decoded))
    if fmt.has_header:
        count -= 1
    return max(0, round(count * size / max(1.0, used_bytes)))


def preview(path: Source, fmt: CsvFormat, n: int = 20) -> Preview:
    """Header and the first ``n`` non-blank rows, with the problems found in them.

    ``total_rows_estimate`` is exact for files up to 2 MB and extrapolated from the first 256 KB
    otherwise. Raises :class:`CsvRejected` for problems that make the file unreadable; header
    problems (duplicate names, a header that looks like data) are returned as problems.
    """
    stats, warnings, problems = TableStats(), [], []
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    size = source_size(path)
    exact = size <= EXACT_COUNT_BYTES
    total = 0
    iterator = stream(path, fmt, stats, warnings, preview_mode=True)
    try:
        for row_number, row, row_problems in iterator:
            total += 1
            if len(rows) < n:
                rows.append(list(row.values()) if isinstance(row, dict) else list(row))
                row_numbers.append(row_number)
                problems.extend(row_problems)
            elif not exact:
                break
    finally:
        iterator.close()
    if fmt.has_header and looks_like_data(stats.header):
        message = (
            f"Row {stats.header_row} should hold the column names but looks like data "
            f"({names(stats.header)}). Add a header row, or choose 'no header row'."
        )
        problems.insert(0, Problem(stats.header_row, None, message))
    return Preview(
        header=list(stats.header),
        rows=rows,
        total_rows_estimate=total if exact else _estimate_total(path, fmt, size),
        problems=warnings + problems,
        header_row=stats.header_row or 1,
        row_numbers=row_numbers,
        total_is_exact=exact,
    )
