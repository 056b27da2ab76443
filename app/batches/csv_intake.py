"""CSV intake for product batches.

Managers upload spreadsheet exports of products (up to about 100 MB / 200,000 rows). This module
works out how a file is encoded and delimited, shows a preview, streams its rows with the row
numbers a spreadsheet shows, and validates it against a column mapping. Pure Python: no web
framework and no database.

Typical use::

    fmt = sniff(path)                      # encoding, delimiter, quoting, lines to skip
    pre = preview(path, fmt)               # header + first rows for the upload screen
    mapping = suggest_mapping(pre.header)  # {"title": "Product Name", ...}
    report = validate(path, fmt, mapping)  # per-row problems, capped list, full counts
    for row_number, row, problems in iter_rows(path, fmt):
        ...                                # one background job per row

Whole-file problems (empty file, NUL bytes, wrong encoding, broken quoting, duplicate column
names, ...) raise :class:`CsvRejected` whose message tells the user what to fix. Row-level
problems (ragged rows, missing required values) are reported as :class:`Problem` entries.

Row numbers are the row numbers the user sees when opening the file in a spreadsheet: the header
is row 1, the first product row 2. Lines skipped above the header and blank lines still count,
and a quoted value spanning several lines stays one row.

Leading-lines rule (``sniff``): blank lines above the header are always skipped. Other lines
above the table are detected when the body has a clear field count (at least 80% of the sampled
rows agree) and the first lines have far fewer fields (one field, or at least two fewer). Such
lines are skipped automatically only when they are clearly junk, i.e. they contain no delimiter
at all (a title such as ``Stock export March``) while the table has two or more columns. In every
other case the number is only suggested (``CsvFormat.suggested_skip_lines`` plus a note) and is
applied when the caller passes ``skip_lines``.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import charset_normalizer
import clevercsv

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

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
DETECT_CHARS = 32 * 1024
SCAN_CHUNK = 1 << 20
READ_BUFFER = 1 << 16
MAX_PROBLEMS = 1000
EXACT_COUNT_BYTES = 2 * 1024 * 1024

Source = str | os.PathLike | bytes | bytearray | memoryview

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
    "iso8859-1": "Latin-1",
}
_DELIMITER_LABELS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Bytes that Windows-1252 leaves undefined; a file containing them is read as Latin-1.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NUMERIC_CELL = re.compile(r"^[\s\d.,+\-/:%]*\d[\s\d.,+\-/:%]*$")
_PLACEHOLDERS = frozenset({"na", "n/a", "null", "none", "nan", "#n/a"})


class CsvRejected(ValueError):
    """The whole file cannot be used; ``message`` tells the user what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str
    quotechar: str | None
    escapechar: str | None
    has_header: bool
    skip_lines: int
    line_terminator_note: str
    confidence: float
    notes: tuple[str, ...] = ()
    suggested_skip_lines: int = 0
    doublequote: bool = True

    @property
    def encoding_label(self) -> str:
        return _encoding_label(self.encoding)

    @property
    def delimiter_label(self) -> str:
        return _DELIMITER_LABELS.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Problem:
    row_number: int | None
    column: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return self.message


@dataclass
class Preview:
    header: list[str]
    rows: list[list[str]]
    total_rows_estimate: int
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 1
    row_numbers: list[int] = field(default_factory=list)
    total_is_exact: bool = False


@dataclass
class ValidationReport:
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


# --------------------------------------------------------------------------------------------
# Byte-level helpers


def _open_binary(src: Source) -> BinaryIO:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(src))
    return open(src, "rb")


def _canonical(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise CsvRejected(
            f"Unknown text encoding '{encoding}'. Choose UTF-8, UTF-16, Windows-1252 or Latin-1."
        ) from None


def _encoding_label(encoding: str) -> str:
    return _ENCODING_LABELS.get(encoding, encoding)


def _code_unit(encoding: str) -> int:
    if encoding.startswith("utf-16"):
        return 2
    if encoding.startswith("utf-32"):
        return 4
    return 1


def _nul_message(offset: int) -> str:
    return (
        f"The file contains NUL bytes at byte {offset}; it is probably not a text CSV "
        "— re-export it as CSV UTF-8."
    )


class _NulScanner:
    """Finds the first NUL character in a byte stream fed chunk by chunk.

    For UTF-16/32 a NUL is a whole code unit of zero bytes at an aligned offset; for UTF-8 and
    the 8-bit code pages any zero byte is a NUL.
    """

    def __init__(self, unit: int) -> None:
        self.unit = unit
        self.zero = b"\0" * unit
        self.offset = 0  # file offset of self.carry[0]
        self.carry = b""

    def feed(self, chunk: bytes) -> int | None:
        if self.unit == 1:
            i = chunk.find(b"\0")
            found = None if i < 0 else self.offset + i
            self.offset += len(chunk)
            return found
        data = self.carry + chunk if self.carry else chunk
        usable = len(data) - len(data) % self.unit
        start = 0
        found = None
        while True:
            i = data.find(self.zero, start, usable)
            if i < 0:
                break
            if i % self.unit == 0:
                found = self.offset + i
                break
            start = i + 1
        self.carry = data[usable:]
        self.offset += usable
        return found


class _GuardedRaw(io.RawIOBase):
    """Raw reader that refuses the file as soon as a NUL character goes past."""

    def __init__(self, raw: BinaryIO, unit: int) -> None:
        self._raw = raw
        self._scanner = _NulScanner(unit)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        if n:
            at = self._scanner.feed(bytes(memoryview(buffer)[:n]))
            if at is not None:
                raise CsvRejected(_nul_message(at))
        return n or 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _first_decode_error(src: Source, encoding: str) -> tuple[int, bytes] | None:
    """Byte offset and the offending bytes of the first undecodable sequence, if any."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with _open_binary(src) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = exc.object
                return offset - pending + exc.start, bytes(data[exc.start : exc.end])
            if not chunk:
                return None
            offset += len(chunk)


def _line_of_offset(src: Source, offset: int) -> int:
    """1-based physical line (CR, LF or CRLF endings) holding the byte at ``offset``."""
    breaks = 0
    last = b""
    with _open_binary(src) as fh:
        remaining = offset
        while remaining > 0:
            chunk = fh.read(min(SCAN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            data = last + chunk
            breaks += chunk.count(b"\n") + chunk.count(b"\r") - data.count(b"\r\n")
            breaks += last.count(
                b"\r\n"
            )  # the pair inside ``last`` was subtracted again
            last = chunk[-1:]
    return breaks + 1


def _decode_error_message(src: Source, encoding: str) -> str:
    found = _first_decode_error(src, encoding)
    label = _encoding_label(encoding)
    where = ""
    if found is not None:
        offset, bad = found
        where = f" at byte {offset} (0x{bad[:4].hex(' ').upper()}"
        if _code_unit(encoding) == 1:
            where += f", line {_line_of_offset(src, offset)}"
        where += ")"
    other = "Windows-1252" if encoding.startswith("utf-8") else "UTF-8"
    return (
        f"The file cannot be read as {label}{where}. Re-export it as 'CSV UTF-8', or choose the "
        f"encoding it was saved in (for example {other})."
    )


# --------------------------------------------------------------------------------------------
# Detection


def _detect_encoding(sample: bytes, is_whole: bool) -> tuple[str, float, list[str]]:
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return (
                name,
                1.0,
                [f"Encoding {_encoding_label(name)}: the file starts with a BOM."],
            )

    utf16 = _utf16_without_bom(sample)
    if utf16:
        return (
            utf16,
            0.9,
            [
                f"Encoding {_encoding_label(utf16)}: no BOM, but every other byte is zero."
            ],
        )

    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=is_whole)
    except UnicodeDecodeError:
        pass
    else:
        if sample.isascii():
            return "utf-8", 1.0, ["Encoding UTF-8 (the sample is plain ASCII)."]
        return "utf-8", 0.99, ["Encoding UTF-8."]

    return _detect_8bit(sample)


def _detect_8bit(sample: bytes) -> tuple[str, float, list[str]]:
    best = charset_normalizer.from_bytes(
        sample, cp_isolation=["cp1252", "latin_1"]
    ).best()
    if best is not None:
        name = _canonical(best.encoding)
        confidence = max(0.5, 0.8 - best.chaos)
    else:
        name = "iso8859-1" if _CP1252_UNDEFINED.search(sample) else "cp1252"
        confidence = 0.5
    note = (
        f"Encoding {_encoding_label(name)} (the file is not UTF-8). If accented letters look "
        "wrong in the preview, re-export the file as 'CSV UTF-8' or choose its encoding."
    )
    return name, confidence, [note]


def _utf16_without_bom(sample: bytes) -> str | None:
    head = sample[:4096]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_zero = head[0 : pairs * 2 : 2].count(0)
    odd_zero = head[1 : pairs * 2 : 2].count(0)
    if odd_zero >= 0.4 * pairs and even_zero <= 0.05 * pairs:
        return "utf-16-le"
    if even_zero >= 0.4 * pairs and odd_zero <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _scan_whole_file(
    src: Source, encoding: str, check_encoding: bool
) -> tuple[int | None, tuple[int, bool] | None, bool]:
    """One streaming pass over the file.

    Returns the offset of the first NUL (or None), the first UTF-8 error as (offset, whether
    non-ASCII UTF-8 came before it) when ``encoding`` is UTF-8 and ``check_encoding``, and
    whether Windows-1252 undefined bytes occur (when ``encoding`` is cp1252).
    """
    scanner = _NulScanner(_code_unit(encoding))
    utf8 = check_encoding and encoding in ("utf-8", "utf-8-sig")
    cp1252 = check_encoding and encoding == "cp1252"
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if utf8 else None
    seen_non_ascii = False
    utf8_error = None
    undefined = False
    offset = 0
    with _open_binary(src) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            at = scanner.feed(chunk)
            if at is not None:
                return at, utf8_error, undefined
            if decoder is not None and utf8_error is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    before = exc.object[: exc.start]
                    utf8_error = (
                        offset - pending + exc.start,
                        seen_non_ascii or not before.isascii(),
                    )
                else:
                    seen_non_ascii = seen_non_ascii or not chunk.isascii()
            if cp1252 and not undefined and _CP1252_UNDEFINED.search(chunk):
                undefined = True
            if not chunk:
                return None, utf8_error, undefined
            offset += len(chunk)


def _split_sample(text: str, is_whole: bool) -> str:
    """Drop a partial last line of a sample that does not reach the end of the file."""
    if is_whole:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def _line_terminator_note(text: str) -> str:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    kinds = [
        (crlf, "CRLF (Windows)"),
        (lf, "LF (Unix)"),
        (cr, "CR only (classic Mac)"),
    ]
    present = [name for count, name in kinds if count]
    if not present:
        return "no line breaks (a single line)"
    if len(present) == 1:
        return present[0]
    return "mixed: " + ", ".join(f"{name} x{count}" for count, name in kinds if count)


def _reader_kwargs(
    delimiter: str,
    quotechar: str | None,
    escapechar: str | None,
    doublequote: bool = True,
) -> dict:
    kwargs: dict = {"delimiter": delimiter, "strict": True, "doublequote": doublequote}
    if quotechar:
        kwargs["quotechar"] = quotechar
    else:
        kwargs["quoting"] = csv.QUOTE_NONE
    if escapechar:
        kwargs["escapechar"] = escapechar
    return kwargs


def _detect_dialect(text: str) -> tuple[str, str | None, str | None, list[str]]:
    notes: list[str] = []
    body = text.lstrip("\r\n")
    if len(body) > DETECT_CHARS:
        body = _split_sample(body[:DETECT_CHARS], False)
    if not body.strip():
        return ",", '"', None, notes
    detected = None
    try:
        detected = clevercsv.Detector().detect(body, delimiters=list(DELIMITERS))
    except Exception:  # noqa: BLE001 - a detector failure only means we fall back
        detected = None
    if detected is not None and detected.delimiter in DELIMITERS:
        quote = detected.quotechar or '"'
        if quote != '"' and '"' in body:
            # On small or ragged samples the detector sometimes prefers another quote character;
            # spreadsheet exports quote with '"', so only trust it when no '"' occurs at all.
            quote = '"'
        elif quote != '"':
            notes.append(f"Values are quoted with {quote!r}.")
        escape = detected.escapechar or None
        return detected.delimiter, quote, escape, notes
    try:
        sniffed = csv.Sniffer().sniff(body, delimiters="".join(DELIMITERS))
    except csv.Error:
        sniffed = None
    if sniffed is not None and sniffed.delimiter in DELIMITERS:
        notes.append("Delimiter found by the standard-library sniffer.")
        return sniffed.delimiter, sniffed.quotechar or '"', None, notes
    delimiter = _count_delimiter(body)
    if delimiter is None:
        notes.append(
            "No delimiter found: the file seems to have a single column. If it should have "
            "several, choose the delimiter (comma, semicolon, tab or pipe)."
        )
        return ",", '"', None, notes
    notes.append("Delimiter chosen by counting characters per line.")
    return delimiter, '"', None, notes


def _count_delimiter(body: str) -> str | None:
    lines = [line for line in re.split(r"\r\n|\r|\n", body) if line.strip()][:200]
    best, best_score = None, 0.0
    for delim in DELIMITERS:
        counts = [line.count(delim) for line in lines]
        if not counts or not any(counts):
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        score = freq / len(counts) if mode else 0
        if score > best_score:
            best, best_score = delim, score
    return best


def _record_shapes(text: str, kwargs: dict, limit: int = 60) -> list[tuple[int, int]]:
    """(field count, physical lines consumed so far) of the first records of a sample."""
    loose = dict(kwargs, strict=False)
    reader = csv.reader(io.StringIO(text, newline=""), **loose)
    shapes = []
    try:
        for cells in reader:
            count = 0 if not any(c.strip() for c in cells) else len(cells)
            shapes.append((count, reader.line_num))
            if len(shapes) >= limit:
                break
    except csv.Error:
        pass
    return shapes


def _find_table_start(shapes: list[tuple[int, int]]) -> tuple[int, int, bool, int]:
    """Return (records above the header, lines above the header, clearly junk, body width)."""
    counts = [c for c, _ in shapes]
    first = next((i for i, c in enumerate(counts) if c), None)
    if first is None:
        return 0, 0, False, 0
    for k in range(first, min(first + 10, len(counts))):
        here = counts[k]
        if not here:
            continue
        body = [c for c in counts[k + 1 :] if c]
        if not body:
            break
        width, freq = Counter(body).most_common(1)[0]
        if freq / len(body) < 0.8:
            break
        if here == width:
            if k == first:
                break
            junk = [c for c in counts[:k] if c]
            clearly = width >= 2 and all(c <= 1 for c in junk)
            return k, shapes[k - 1][1], clearly, width
        if not (here <= 1 or here <= width - 2):
            break
    return 0, 0, False, 0


def _looks_like_data(header: list[str]) -> bool:
    cells = [c for c in header if c.strip()]
    return bool(cells) and all(_NUMERIC_CELL.match(c) for c in cells)


def sniff(
    path_or_bytes: Source,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    quotechar: str | None = None,
    skip_lines: int | None = None,
    has_header: bool = True,
) -> CsvFormat:
    """Detect how a CSV file is encoded and delimited.

    Every argument overrides the detected value. ``quotechar=""`` turns quoting off.
    ``skip_lines=None`` means: detect lines above the table (see the module docstring for the
    rule); pass a number to force it. Raises :class:`CsvRejected` for empty files, files with
    NUL bytes and files that mix encodings.
    """
    with _open_binary(path_or_bytes) as fh:
        sample = fh.read(SAMPLE_BYTES)
        is_whole = not fh.read(1)
    if not sample:
        raise CsvRejected(
            "The file is empty (0 bytes). Upload a CSV with a header row (for example "
            "title,mpn,country) and one row per product."
        )

    notes: list[str] = []
    if encoding is not None:
        enc = _canonical(encoding)
        if enc == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        enc_conf = 1.0
        notes.append(f"Encoding {_encoding_label(enc)} (chosen by you).")
    else:
        enc, enc_conf, enc_notes = _detect_encoding(sample, is_whole)
        notes.extend(enc_notes)

    nul_at, utf8_error, undefined = _scan_whole_file(
        path_or_bytes, enc, encoding is None
    )
    if nul_at is not None:
        raise CsvRejected(_nul_message(nul_at))
    if utf8_error is not None:
        offset, had_non_ascii = utf8_error
        if had_non_ascii:
            raise CsvRejected(
                f"The file mixes text encodings: it reads as UTF-8 up to byte {offset}, but the "
                "bytes there are not UTF-8. Re-export the whole file as 'CSV UTF-8', or choose "
                "its encoding explicitly."
            )
        with _open_binary(path_or_bytes) as fh:
            fh.seek(max(0, offset - SAMPLE_BYTES // 2))
            window = fh.read(SAMPLE_BYTES)
        enc, enc_conf, enc_notes = _detect_8bit(window)
        notes = [n for n in notes if not n.startswith("Encoding")]
        notes.append(
            f"The first {offset} bytes are plain ASCII but byte {offset} is not UTF-8; "
            "reading the file as " + _encoding_label(enc) + "."
        )
        notes.extend(enc_notes)
        if enc == "cp1252":
            undefined = _scan_whole_file(path_or_bytes, enc, True)[2]
    if undefined and enc == "cp1252":
        enc = "iso8859-1"
        notes.append(
            "Some bytes are undefined in Windows-1252; reading the file as Latin-1."
        )

    decoder = codecs.getincrementaldecoder(enc)("replace")
    text = decoder.decode(sample, final=is_whole)
    text = _split_sample(text.removeprefix("\ufeff"), is_whole)
    if not text.strip():
        raise CsvRejected(
            "The file only contains blank lines. Upload a CSV with a header row (for example "
            "title,mpn,country) and one row per product."
        )

    if delimiter is not None:
        if len(delimiter) != 1:
            raise CsvRejected(
                f"The delimiter must be a single character (got {delimiter!r}); use comma, "
                "semicolon, tab or pipe."
            )
        delim, quote, escape = delimiter, '"', None
        notes.append(
            f"Delimiter {_DELIMITER_LABELS.get(delim, repr(delim))} (chosen by you)."
        )
    else:
        delim, quote, escape, dialect_notes = _detect_dialect(text)
        notes.extend(dialect_notes)
        notes.append(f"Delimiter: {_DELIMITER_LABELS.get(delim, repr(delim))}.")
    if quotechar is not None:
        if len(quotechar) > 1:
            raise CsvRejected(
                f"The quote character must be a single character (got {quotechar!r})."
            )
        quote = quotechar or None

    kwargs = _reader_kwargs(delim, quote, escape)
    shapes = _record_shapes(text, kwargs)
    _, junk_lines, clearly_junk, width = _find_table_start(shapes)
    if skip_lines is not None:
        if skip_lines < 0:
            raise CsvRejected("The number of lines to skip cannot be negative.")
        skip = skip_lines
        if junk_lines and junk_lines != skip_lines:
            notes.append(
                f"The table seems to start after line {junk_lines}, but {skip_lines} lines are "
                "skipped as you asked."
            )
    elif junk_lines and clearly_junk:
        skip = junk_lines
        notes.append(
            f"Skipping the first {junk_lines} line(s): they contain no {_DELIMITER_LABELS.get(delim, 'delimiter')} "
            f"while the table has {width} columns."
        )
    else:
        skip = 0
        if junk_lines:
            notes.append(
                f"The first {junk_lines} line(s) look like notes above the table (they have "
                f"fewer fields than the {width} columns below). If the header is on line "
                f"{junk_lines + 1}, skip {junk_lines} line(s)."
            )

    # Dialect confidence: how many sampled rows below the header have the header's width.
    kept = [c for c, lines in shapes if c and lines > skip]
    consistency = 1.0
    if len(kept) >= 2:
        header_width = kept[0]
        same = sum(1 for c in kept[1:] if c == header_width)
        consistency = same / (len(kept) - 1)
        if consistency < 1.0:
            notes.append(
                f"Only {same} of {len(kept) - 1} sampled rows have as many values as the header "
                f"({header_width})."
            )
    if has_header and kept:
        first_cells = next(
            (cells for cells in _first_record_after(text, kwargs, skip)), []
        )
        if _looks_like_data(first_cells):
            notes.append(
                "The first row looks like data, not column names. Add a header row, or upload "
                "with 'no header row' and map the columns by position."
            )

    return CsvFormat(
        encoding=enc,
        delimiter=delim,
        quotechar=quote,
        escapechar=escape,
        has_header=has_header,
        skip_lines=skip,
        line_terminator_note=_line_terminator_note(text),
        confidence=round(min(enc_conf, consistency), 3),
        notes=tuple(notes),
        suggested_skip_lines=junk_lines,
    )


def _first_record_after(text: str, kwargs: dict, skip: int) -> Iterator[list[str]]:
    stream = io.StringIO(text, newline="")
    for _ in range(skip):
        stream.readline()
    reader = csv.reader(stream, **dict(kwargs, strict=False))
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield cells
                return
    except csv.Error:
        return


# --------------------------------------------------------------------------------------------
# Reading


class _Stats:
    __slots__ = ("blank_rows", "header", "header_row", "keys")

    def __init__(self) -> None:
        self.blank_rows = 0
        self.header: list[str] = []
        self.header_row = 0
        self.keys: list[str] = []


def _records(src: Source, fmt: CsvFormat) -> Iterator[tuple[int, list[str]]]:
    """Every record after ``fmt.skip_lines`` with its spreadsheet row number."""
    encoding = _canonical(fmt.encoding)
    raw = _GuardedRaw(_open_binary(src), _code_unit(encoding))
    text = io.TextIOWrapper(
        io.BufferedReader(raw, READ_BUFFER),
        encoding=encoding,
        errors="strict",
        newline="",
    )
    row = 0
    try:
        try:
            for _ in range(fmt.skip_lines):
                if not text.readline():
                    break
                row += 1
            reader = csv.reader(
                text,
                **_reader_kwargs(
                    fmt.delimiter, fmt.quotechar, fmt.escapechar, fmt.doublequote
                ),
            )
            for cells in reader:
                row += 1
                yield row, cells
        except UnicodeDecodeError:
            raise CsvRejected(_decode_error_message(src, encoding)) from None
        except csv.Error as exc:
            raise CsvRejected(_quote_error_message(row + 1, exc)) from None
    finally:
        text.close()


def _quote_error_message(row: int, exc: csv.Error) -> str:
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


def _is_blank(cells: list[str]) -> bool:
    return not any(cells) or not "".join(cells).strip()


def _header_problems(
    header: list[str], header_row: int
) -> tuple[list[str], list[Problem]]:
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
            continue
        if norm in seen:
            j = seen[norm]
            fatal.append(
                f"Columns {j} and {i} are both named '{header[j - 1].strip()}' (row "
                f"{header_row}). Rename one of them so every column has a unique name, then "
                "upload again."
            )
        else:
            seen[norm] = i
    return fatal, warnings


def _keys_for(header: list[str]) -> list[str]:
    return [
        name if name.strip() else f"column_{i}"
        for i, name in enumerate(header, start=1)
    ]


def _no_header_message(fmt: CsvFormat, path_size: int | None) -> str:
    if path_size == 0:
        return (
            "The file is empty (0 bytes). Upload a CSV with a header row (for example "
            "title,mpn,country) and one row per product."
        )
    skipped = f" after skipping {fmt.skip_lines} line(s)" if fmt.skip_lines else ""
    return (
        f"No header row found{skipped}: the file only contains blank lines. Put the column "
        "names (for example title,mpn,country) on the first line and one product per row below."
    )


def _source_size(src: Source) -> int:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return len(src)
    return os.path.getsize(src)


def _iter(
    src: Source,
    fmt: CsvFormat,
    stats: _Stats,
    header_warnings: list[Problem] | None = None,
    *,
    preview_mode: bool = False,
) -> Iterator[tuple[int, dict[str, str] | list[str], list[Problem]]]:
    """Rows as dicts (lists without a header, or in preview mode, which also tolerates
    duplicate column names and reports them as problems instead of refusing)."""
    records = _records(src, fmt)
    try:
        first = None
        for row, cells in records:
            if _is_blank(cells):
                continue
            first = (row, cells)
            break
        if first is None:
            raise CsvRejected(_no_header_message(fmt, _source_size(src)))
        row, cells = first
        if cells and cells[0].startswith("\ufeff"):
            cells[0] = cells[0][1:]

        if fmt.has_header:
            stats.header = cells
            stats.header_row = row
            fatal, warnings = _header_problems(cells, row)
            if fatal and not preview_mode:
                raise CsvRejected(" ".join(fatal))
            warnings = [Problem(row, None, msg) for msg in fatal] + warnings
            if header_warnings is not None:
                header_warnings.extend(warnings)
            keys = _keys_for(cells)
            pending: list[tuple[int, list[str]]] = []
        else:
            keys = [f"column_{i}" for i in range(1, len(cells) + 1)]
            stats.header = list(keys)
            stats.header_row = 0
            pending = [first]
        stats.keys = keys
        width = len(keys)
        as_dict = fmt.has_header and not preview_mode

        def rows() -> Iterator[tuple[int, list[str]]]:
            yield from pending
            yield from records

        for row, cells in rows():
            n = len(cells)
            if n == width:
                first_cell = cells[0]
                if (not first_cell or first_cell.isspace()) and _is_blank(cells):
                    stats.blank_rows += 1
                    continue
                yield row, (dict(zip(keys, cells)) if as_dict else cells), []
                continue
            if _is_blank(cells):
                stats.blank_rows += 1
                continue
            problems: list[Problem] = []
            if n < width:
                missing = keys[n:]
                problems.append(
                    Problem(
                        row,
                        missing[0],
                        f"Row {row} has {n} value(s) but the header has {width} columns; "
                        f"{_names(missing)} {'is' if len(missing) == 1 else 'are'} treated as "
                        "empty. Check the row for a missing delimiter or a line break inside an "
                        "unquoted value.",
                    )
                )
                cells = cells + [""] * (width - n)
            else:
                extra = cells[width:]
                if any(v.strip() for v in extra):
                    shown = ", ".join(repr(_shorten(v)) for v in extra[:3])
                    more = " ..." if len(extra) > 3 else ""
                    problems.append(
                        Problem(
                            row,
                            None,
                            f"Row {row} has {n} values but the header has {width} columns; the "
                            f"extra value(s) {shown}{more} do not belong to any column. Wrap "
                            "values that contain the delimiter in double quotes, or add the "
                            "missing column names to the header.",
                        )
                    )
                cells = cells[:width]
            yield row, (dict(zip(keys, cells)) if as_dict else cells), problems
    finally:
        records.close()


def _names(keys: list[str]) -> str:
    shown = ", ".join(f"'{k}'" for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def iter_rows(
    path: Source, fmt: CsvFormat
) -> Iterator[tuple[int, dict[str, str] | list[str], list[Problem]]]:
    """Stream ``(row_number, row, problems)`` for every non-blank row below the header.

    ``row`` is a dict keyed by header name (unnamed columns become ``column_N``) when
    ``fmt.has_header``, else a list. Short rows are padded with "" and long rows cut to the
    header width; both come with a :class:`Problem`. Memory use does not grow with the file.
    Raises :class:`CsvRejected` for whole-file problems.
    """
    return _iter(path, fmt, _Stats())


def _estimate_total(src: Source, fmt: CsvFormat, size: int) -> int:
    with _open_binary(src) as fh:
        raw = fh.read(SAMPLE_BYTES * 4)
    decoded = codecs.getincrementaldecoder(fmt.encoding)("replace").decode(
        raw, final=False
    )
    text = _split_sample(decoded, False)
    if not text:
        return 0
    kwargs = _reader_kwargs(
        fmt.delimiter, fmt.quotechar, fmt.escapechar, fmt.doublequote
    )
    stream = io.StringIO(text, newline="")
    for _ in range(fmt.skip_lines):
        stream.readline()
    count = 0
    try:
        for cells in csv.reader(stream, **dict(kwargs, strict=False)):
            if not _is_blank(cells):
                count += 1
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
    stats = _Stats()
    warnings: list[Problem] = []
    problems: list[Problem] = []
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    size = _source_size(path)
    exact = size <= EXACT_COUNT_BYTES
    total = 0
    iterator = _iter(path, fmt, stats, warnings, preview_mode=True)
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
    if fmt.has_header and _looks_like_data(stats.header):
        problems.insert(
            0,
            Problem(
                stats.header_row,
                None,
                f"Row {stats.header_row} should hold the column names but looks like data "
                f"({_names(stats.header)}). Add a header row, or choose 'no header row'.",
            ),
        )
    return Preview(
        header=list(stats.header),
        rows=rows,
        total_rows_estimate=total if exact else _estimate_total(path, fmt, size),
        problems=warnings + problems,
        header_row=stats.header_row or 1,
        row_numbers=row_numbers,
        total_is_exact=exact,
    )


def _missing_value(value: str | None) -> str | None:
    """None when the value is usable, else why it is not."""
    if value is None or not value.strip():
        return "is empty"
    if value.strip().casefold() in _PLACEHOLDERS:
        return f"is '{value.strip()}', a placeholder rather than a value"
    return None


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

    stats = _Stats()
    warnings: list[Problem] = []
    problems: list[Problem] = []
    total = 0
    problem_count = 0
    rows_with_problems = 0
    checks: list[tuple[str, str | int]] = []
    iterator = _iter(path, fmt, stats, warnings)
    try:
        for row_number, row, row_problems in iterator:
            if not checks:
                checks = _mapping_checks(stats, fmt, mapping, required)
            total += 1
            found = list(row_problems)
            for fld, key in checks:
                value = row.get(key) if isinstance(row, dict) else row[key]  # type: ignore[arg-type,index]
                why = _missing_value(value)
                if why is not None:
                    column = mapping[fld]
                    found.append(
                        Problem(
                            row_number,
                            column,
                            f"Row {row_number}: {fld.replace('_', ' ')} {why} (column "
                            f"'{column}'); every product row needs a {fld.replace('_', ' ')}.",
                        )
                    )
            if found:
                rows_with_problems += 1
                problem_count += len(found)
                room = max_problems - len(problems)
                if room > 0:
                    problems.extend(found[:room])
    finally:
        iterator.close()

    if total == 0:
        if stats.header or stats.header_row:
            _mapping_checks(stats, fmt, mapping, required)
        blanks = (
            f" ({stats.blank_rows} empty row(s) ignored)" if stats.blank_rows else ""
        )
        raise CsvRejected(
            f"The file has a header row (row {stats.header_row or 1}) but no product rows below "
            f"it{blanks}. Add one row per product under the header, then upload again."
        )
    all_problems = warnings + problems
    return ValidationReport(
        total_rows=total,
        problems=all_problems,
        truncated=problem_count > len(problems),
        problem_count=problem_count + len(warnings),
        rows_with_problems=rows_with_problems,
        blank_rows=stats.blank_rows,
        header=list(stats.header),
        header_row=stats.header_row,
    )


def _mapping_checks(
    stats: _Stats, fmt: CsvFormat, mapping: dict[str, str], required: tuple[str, ...]
) -> list[tuple[str, str | int]]:
    """Resolve mapped header names to row keys; refuse names the file does not have."""
    keys = stats.keys
    if fmt.has_header:
        lookup = {k: k for k in keys}
        lookup.update({k.strip(): k for k in keys})
    else:
        lookup = {k: i for i, k in enumerate(keys)}  # type: ignore[misc]
    checks: list[tuple[str, str | int]] = []
    for fld, name in mapping.items():
        if not name:
            continue
        key = lookup.get(name, lookup.get(name.strip()))
        if key is None:
            hint = ""
            if fmt.has_header and _looks_like_data(stats.header):
                hint = (
                    f" Row {stats.header_row} looks like data, not column names: add a header "
                    "row, or choose 'no header row' and map the columns by position."
                )
            raise CsvRejected(
                f"The column '{name}' chosen for {fld.replace('_', ' ')} is not in the file. "
                f"The header (row {stats.header_row or 1}) has: {_names(stats.header)}.{hint} "
                "Choose one of these columns or fix the header."
            )
        if fld in required:
            checks.append((fld, key))
    return checks


# --------------------------------------------------------------------------------------------
# Column mapping

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "product title",
        "product name",
        "name",
        "item name",
        "item title",
        "item",
        "product",
        "listing title",
        "article name",
    ),
    "description": (
        "description",
        "desc",
        "product description",
        "long description",
        "details",
        "item description",
        "descr",
        "body",
        "body html",
        "full description",
    ),
    "mpn": (
        "mpn",
        "manufacturer part number",
        "mfr part number",
        "mfg part number",
        "manufacturer part no",
        "mfr part no",
        "part number",
        "part no",
        "mfr number",
        "manufacturer number",
        "manufacturer code",
        "part",
        "pn",
        "mfr pn",
    ),
    "product_type": (
        "product type",
        "producttype",
        "type",
        "category",
        "product category",
        "item type",
        "kind",
        "product kind",
        "categories",
    ),
    "size": (
        "size",
        "sizes",
        "product size",
        "item size",
        "dimensions",
        "dimension",
        "measurements",
        "ring size",
    ),
    "country": (
        "country",
        "country of origin",
        "origin",
        "country code",
        "made in",
        "coo",
        "origin country",
        "country name",
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


def _normalise(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip())
    name = name.casefold().replace("#", " number ").replace("&", " and ")
    words = re.findall(r"[^\W_]+", name)
    words = [
        "number" if w in ("num", "nr", "no") and i == len(words) - 1 else w
        for i, w in enumerate(words)
    ]
    return " ".join(words)


def _score(field_name: str, norm: str) -> float:
    if not norm:
        return 0.0
    compact = norm.replace(" ", "")
    best = 0.0
    for rank, synonym in enumerate(_SYNONYMS[field_name]):
        syn = _normalise(synonym)
        if norm == syn or compact == syn.replace(" ", ""):
            best = max(best, 1.0 - 0.01 * rank)
    if best:
        return best
    padded = f" {norm} "
    for keyword in _KEYWORDS[field_name]:
        if f" {_normalise(keyword)} " in padded:
            best = max(best, 0.8 - 0.01 * len(norm.split()))
    if best:
        return best
    for synonym in _SYNONYMS[field_name]:
        syn = _normalise(synonym)
        if len(syn) >= 4:
            ratio = difflib.SequenceMatcher(None, compact, syn.replace(" ", "")).ratio()
            if ratio >= 0.85:
                best = max(best, 0.6 * ratio)
    return best


def suggest_mapping(header: Iterable[str]) -> dict[str, str]:
    """Map product fields to header names by normalised and fuzzy name matching.

    Each header name is used for at most one field, best matches first; fields without a
    plausible column are left out.
    """
    names = list(header)
    candidates = []
    for column, name in enumerate(names):
        norm = _normalise(name)
        for fld in FIELDS:
            score = _score(fld, norm)
            if score > 0:
                candidates.append((score, -column, fld, name))
    candidates.sort(reverse=True)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _score_value, _column, fld, name in candidates:
        if fld in mapping or name in used:
            continue
        mapping[fld] = name
        used.add(name)
    return {fld: mapping[fld] for fld in FIELDS if fld in mapping}
