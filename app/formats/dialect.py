"""How a CSV file is delimited and quoted, and where its table starts: ``sniff`` -> ``CsvFormat``.

Detection runs on a sample: the first ``SAMPLE_BYTES`` of the file, of which CleverCSV sees at most
``DETECT_CHARS`` characters with long runs of letters and digits shortened, because its URL filter
takes time quadratic in the length of such a run (a hex dump took 20 s for 32 KB).

Leading-lines rule: blank lines above the header are always skipped. Other lines above the table
are detected when the body has a clear field count (at least 80% of the sampled rows agree) and the
first lines have far fewer fields (one field, or at least two fewer). Such lines are skipped
automatically only when they are clearly junk, i.e. they contain no delimiter at all (a title such
as ``Stock export March``) while the table has two or more columns. In every other case the number
is only suggested (``CsvFormat.suggested_skip_lines`` plus a note) and is applied when the caller
passes ``skip_lines``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

import clevercsv

from app.formats.encoding import Source, encoding_label, file_encoding, read_sample, refuse_binary, refuse_control_characters
from app.formats.errors import CsvRejected

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
DETECT_CHARS = 32 * 1024
#: Longest run of word characters CleverCSV is shown; longer runs are cut to this length.
RUN_LIMIT = 64
EMPTY_FILE = (
    "The file is empty (0 bytes). Upload a CSV with a header row (for example title,mpn,country) and one row per product."
)

DELIMITER_LABELS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_LONG_RUN = re.compile(rf"[\w.\-]{{{RUN_LIMIT + 1},}}")
_NUMERIC_CELL = re.compile(r"^[\s\d.,+\-/:%]*\d[\s\d.,+\-/:%]*$")


@dataclass(frozen=True)
class CsvFormat:
    """How to read a CSV file: encoding, dialect, lines above the header, and what was noticed."""

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
        return encoding_label(self.encoding)

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_LABELS.get(self.delimiter, repr(self.delimiter))

    def reader_kwargs(self) -> dict:
        """Arguments for :func:`csv.reader` that read this format strictly."""
        return reader_kwargs(self.delimiter, self.quotechar, self.escapechar, self.doublequote)


@dataclass(frozen=True)
class Dialect:
    """Delimiter, quote and escape characters found in a sample, with notes for the user."""

    delimiter: str
    quotechar: str | None
    escapechar: str | None
    notes: tuple[str, ...] = ()


def split_sample(text: str, is_whole: bool) -> str:
    """Drop a partial last line of a sample that does not reach the end of the file."""
    if is_whole:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def line_terminator_note(text: str) -> str:
    """Which line endings a sample uses, in words."""
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    kinds = [(crlf, "CRLF (Windows)"), (lf, "LF (Unix)"), (cr, "CR only (classic Mac)")]
    present = [name for count, name in kinds if count]
    if not present:
        return "no line breaks (a single line)"
    if len(present) == 1:
        return present[0]
    return "mixed: " + ", ".join(f"{name} x{count}" for count, name in kinds if count)


def reader_kwargs(delimiter: str, quotechar: str | None, escapechar: str | None, doublequote: bool = True) -> dict:
    """Arguments for a strict :func:`csv.reader`; no quote character means no quoting."""
    kwargs: dict = {"delimiter": delimiter, "strict": True, "doublequote": doublequote}
    if quotechar:
        kwargs["quotechar"] = quotechar
    else:
        kwargs["quoting"] = csv.QUOTE_NONE
    if escapechar:
        kwargs["escapechar"] = escapechar
    return kwargs


def looks_like_data(cells: list[str]) -> bool:
    """True when every non-empty cell is a number or date: a header row that is really data."""
    cells = [c for c in cells if c.strip()]
    return bool(cells) and all(_NUMERIC_CELL.match(c) for c in cells)


# --------------------------------------------------------------------------------------------
# Dialect


def _detection_text(text: str) -> str:
    body = text.lstrip("\r\n")
    if len(body) > DETECT_CHARS:
        body = split_sample(body[:DETECT_CHARS], False)
    return _LONG_RUN.sub(lambda m: m.group()[:RUN_LIMIT], body)


def _clevercsv(body: str, delimiters: tuple[str, ...]) -> Dialect | None:
    try:
        detected = clevercsv.Detector().detect(body, delimiters=list(delimiters))
    except Exception:  # noqa: BLE001 - a detector failure only means we fall back
        return None
    if detected is None or detected.delimiter not in delimiters:
        return None
    quote, notes = detected.quotechar or '"', ()
    if quote != '"' and '"' in body:
        # On small or ragged samples the detector sometimes prefers another quote character;
        # spreadsheet exports quote with '"', so only trust it when no '"' occurs at all.
        quote = '"'
    elif quote != '"':
        notes = (f"Values are quoted with {quote!r}.",)
    return Dialect(detected.delimiter, quote, detected.escapechar or None, notes)


def count_delimiter(body: str, delimiters: tuple[str, ...] = DELIMITERS) -> str | None:
    """The delimiter whose count per line is most often the same, over the first 200 lines."""
    lines = [line for line in re.split(r"\r\n|\r|\n", body) if line.strip()][:200]
    best, best_score = None, 0.0
    for delim in delimiters:
        counts = [line.count(delim) for line in lines]
        if not counts or not any(counts):
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        score = freq / len(counts) if mode else 0
        if score > best_score:
            best, best_score = delim, score
    return best


def detect_dialect(text: str, delimiters: tuple[str, ...] = DELIMITERS) -> Dialect:
    """Delimiter and quoting of a text sample: CleverCSV, then the standard sniffer, then counting."""
    body = _detection_text(text)
    if not body.strip():
        return Dialect(",", '"', None)
    found = _clevercsv(body, delimiters)
    if found is not None:
        return found
    try:
        sniffed = csv.Sniffer().sniff(body, delimiters="".join(delimiters))
    except csv.Error:
        sniffed = None
    if sniffed is not None and sniffed.delimiter in delimiters:
        return Dialect(sniffed.delimiter, sniffed.quotechar or '"', None, ("Delimiter found by the standard-library sniffer.",))
    delimiter = count_delimiter(body, delimiters)
    if delimiter is None:
        note = (
            "No delimiter found: the file seems to have a single column. If it should have "
            "several, choose the delimiter (comma, semicolon, tab or pipe)."
        )
        return Dialect(",", '"', None, (note,))
    return Dialect(delimiter, '"', None, ("Delimiter chosen by counting characters per line.",))


# --------------------------------------------------------------------------------------------
# Where the table starts


def record_shapes(text: str, kwargs: dict, limit: int = 60) -> list[tuple[int, int]]:
    """(field count, physical lines consumed so far) of the first records of a sample."""
    reader = csv.reader(io.StringIO(text, newline=""), **dict(kwargs, strict=False))
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


def find_table_start(shapes: list[tuple[int, int]]) -> tuple[int, int, bool, int]:
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


def _first_record_after(text: str, kwargs: dict, skip: int) -> list[str]:
    stream = io.StringIO(text, newline="")
    for _ in range(skip):
        stream.readline()
    try:
        return next((cells for cells in csv.reader(stream, **dict(kwargs, strict=False)) if any(c.strip() for c in cells)), [])
    except csv.Error:
        return []


# --------------------------------------------------------------------------------------------
# sniff


def _sample_text(sample: bytes, encoding: str, is_whole: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)("replace").decode(sample, final=is_whole)
    text = split_sample(text.removeprefix("\ufeff"), is_whole)
    if not text.strip():
        raise CsvRejected(
            "The file only contains blank lines. Upload a CSV with a header row (for example "
            "title,mpn,country) and one row per product."
        )
    refuse_control_characters(text)
    return text


def _choose_dialect(text: str, delimiter: str | None, quotechar: str | None, notes: list[str]) -> Dialect:
    if delimiter is not None:
        if len(delimiter) != 1:
            raise CsvRejected(f"The delimiter must be a single character (got {delimiter!r}); use comma, semicolon, tab or pipe.")
        found = Dialect(delimiter, '"', None)
        notes.append(f"Delimiter {DELIMITER_LABELS.get(delimiter, repr(delimiter))} (chosen by you).")
    else:
        found = detect_dialect(text)
        notes.extend(found.notes)
        notes.append(f"Delimiter: {DELIMITER_LABELS.get(found.delimiter, repr(found.delimiter))}.")
    if quotechar is not None:
        if len(quotechar) > 1:
            raise CsvRejected(f"The quote character must be a single character (got {quotechar!r}).")
        found = Dialect(found.delimiter, quotechar or None, found.escapechar)
    return found


def _choose_skip(shapes: list[tuple[int, int]], skip_lines: int | None, delim: str, notes: list[str]) -> tuple[int, int]:
    """Lines to skip above the header and the number detected (see the module docstring)."""
    _, junk_lines, clearly_junk, width = find_table_start(shapes)
    if skip_lines is not None:
        if skip_lines < 0:
            raise CsvRejected("The number of lines to skip cannot be negative.")
        if junk_lines and junk_lines != skip_lines:
            notes.append(f"The table seems to start after line {junk_lines}, but {skip_lines} lines are skipped as you asked.")
        return skip_lines, junk_lines
    if junk_lines and clearly_junk:
        notes.append(
            f"Skipping the first {junk_lines} line(s): they contain no {DELIMITER_LABELS.get(delim, 'delimiter')} "
            f"while the table has {width} columns."
        )
        return junk_lines, junk_lines
    if junk_lines:
        notes.append(
            f"The first {junk_lines} line(s) look like notes above the table (they have "
            f"fewer fields than the {width} columns below). If the header is on line "
            f"{junk_lines + 1}, skip {junk_lines} line(s)."
        )
    return 0, junk_lines


def _consistency(text: str, kwargs: dict, shapes: list[tuple[int, int]], skip: int, has_header: bool, notes: list[str]) -> float:
    """Share of sampled rows below the header that have the header's width."""
    kept = [c for c, lines in shapes if c and lines > skip]
    consistency = 1.0
    if len(kept) >= 2:
        header_width = kept[0]
        same = sum(1 for c in kept[1:] if c == header_width)
        consistency = same / (len(kept) - 1)
        if consistency < 1.0:
            notes.append(f"Only {same} of {len(kept) - 1} sampled rows have as many values as the header ({header_width}).")
    if has_header and kept and looks_like_data(_first_record_after(text, kwargs, skip)):
        notes.append(
            "The first row looks like data, not column names. Add a header row, or upload "
            "with 'no header row' and map the columns by position."
        )
    return consistency


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
    rule); pass a number to force it. Raises :class:`CsvRejected` for empty and binary files,
    files with NUL bytes and files that mix encodings.
    """
    sample, is_whole = read_sample(path_or_bytes, SAMPLE_BYTES)
    if not sample:
        raise CsvRejected(EMPTY_FILE)
    refuse_binary(sample)
    found = file_encoding(path_or_bytes, sample, is_whole=is_whole, forced=encoding)
    notes = list(found.notes)
    text = _sample_text(sample, found.encoding, is_whole)
    dialect = _choose_dialect(text, delimiter, quotechar, notes)
    kwargs = reader_kwargs(dialect.delimiter, dialect.quotechar, dialect.escapechar)
    shapes = record_shapes(text, kwargs)
    skip, junk_lines = _choose_skip(shapes, skip_lines, dialect.delimiter, notes)
    consistency = _consistency(text, kwargs, shapes, skip, has_header, notes)
    return CsvFormat(
        encoding=found.encoding,
        delimiter=dialect.delimiter,
        quotechar=dialect.quotechar,
        escapechar=dialect.escapechar,
        has_header=has_header,
        skip_lines=skip,
        line_terminator_note=line_terminator_note(text),
        confidence=round(min(found.confidence, consistency), 3),
        notes=tuple(notes),
        suggested_skip_lines=junk_lines,
    )

