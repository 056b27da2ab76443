"""How bytes become text: BOMs, UTF-16 without BOM, UTF-8 and 8-bit code pages; binary refusal.

Detection looks at a sample (``DETECT_BYTES`` at most for charset-normalizer); the checks that must
see every byte (NUL characters, a UTF-8 error after megabytes of ASCII) stream the file in
``SCAN_CHUNK`` pieces, so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from dataclasses import dataclass
from typing import BinaryIO

import charset_normalizer

from app.formats.errors import CsvRejected, FormatRejected, NotText

SCAN_CHUNK = 1 << 20
#: The most bytes charset-normalizer is given: enough to tell code pages apart, bounded in time.
DETECT_BYTES = 256 * 1024
# Bytes around a late UTF-8 error that decide which code page the file is in.
_WINDOW = 64 * 1024
#: Code pages a spreadsheet export in an 8-bit encoding is read as, unless a caller widens the list.
CODE_PAGES = ("cp1252", "latin_1")

Source = str | os.PathLike | bytes | bytearray | memoryview

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
    "iso8859-1": "Latin-1",
}
# Bytes that Windows-1252 leaves undefined; a file containing them is read as Latin-1.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# Files people upload by mistake. Only signatures no text file starts with, so a CSV never matches.
_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or Word (.doc) file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b\x08", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
)
# Control characters text files do not contain (tab, line breaks, VT and FF are left alone).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_SHARE = 0.01
_CONTROL_MIN = 8


@dataclass(frozen=True)
class Detected:
    """An encoding with how sure the detection is and notes for the user."""

    encoding: str
    confidence: float
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Sources and names


def open_binary(src: Source) -> BinaryIO:
    """A binary file object for a path or for bytes already in memory."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(src))
    return open(src, "rb")


def source_size(src: Source) -> int:
    """Size in bytes of a path or of bytes in memory."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return len(src)
    return os.path.getsize(src)


def read_sample(src: Source, size: int) -> tuple[bytes, bool]:
    """The first ``size`` bytes and whether they are the whole file."""
    with open_binary(src) as fh:
        sample = fh.read(size)
        return sample, not fh.read(1)


def canonical(encoding: str) -> str:
    """Python's name for an encoding; refuses names Python does not know."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise CsvRejected(f"Unknown text encoding '{encoding}'. Choose UTF-8, UTF-16, Windows-1252 or Latin-1.") from None


def encoding_label(encoding: str) -> str:
    """The name users know an encoding by."""
    return _LABELS.get(encoding, encoding)


def code_unit(encoding: str) -> int:
    """Bytes per code unit: 2 for UTF-16, 4 for UTF-32, else 1."""
    if encoding.startswith("utf-16"):
        return 2
    if encoding.startswith("utf-32"):
        return 4
    return 1


# --------------------------------------------------------------------------------------------
# Binary files


def refuse_binary(head: bytes) -> None:
    """Refuse a file whose first bytes say it is a document, image or archive rather than text."""
    kind = next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
    if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "a WebP image"
    if kind is None and head[4:8] == b"ftyp":
        kind = "a HEIC image or a video"
    if kind is not None:
        raise NotText(
            f"The file is {kind}, not a text file. Open it in the program that made it, export or save it as "
            "'CSV UTF-8', and upload that file.",
            kind=kind,
        )


def refuse_control_characters(text: str) -> None:
    """Refuse decoded text in which control characters are common: binary data read as text."""
    found = len(_CONTROL.findall(text))
    if found >= _CONTROL_MIN and found > _CONTROL_SHARE * len(text):
        raise NotText(
            f"The file does not look like text: {found} of its first {len(text)} characters are control "
            "characters. It is probably a binary file; export the data as 'CSV UTF-8' and upload that.",
            kind="binary data",
        )


def nul_message(offset: int) -> str:
    """Why a file with a NUL character is refused."""
    return f"The file contains NUL bytes at byte {offset}; it is probably not a text CSV — re-export it as CSV UTF-8."


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


class GuardedRaw(io.RawIOBase):
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
                raise CsvRejected(nul_message(at))
        return n or 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


# --------------------------------------------------------------------------------------------
# Decoding errors


def _first_decode_error(src: Source, encoding: str) -> tuple[int, bytes] | None:
    """Byte offset and the offending bytes of the first undecodable sequence, if any."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open_binary(src) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start, bytes(exc.object[exc.start : exc.end])
            if not chunk:
                return None
            offset += len(chunk)


def _line_of_offset(src: Source, offset: int) -> int:
    """1-based physical line (CR, LF or CRLF endings) holding the byte at ``offset``."""
    breaks = 0
    last = b""
    with open_binary(src) as fh:
        remaining = offset
        while remaining > 0:
            chunk = fh.read(min(SCAN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            data = last + chunk
            breaks += chunk.count(b"\n") + chunk.count(b"\r") - data.count(b"\r\n")
            breaks += last.count(b"\r\n")  # the pair inside ``last`` was subtracted again
            last = chunk[-1:]
    return breaks + 1


def decode_error_message(src: Source, encoding: str) -> str:
    """Where the file stops being ``encoding`` (byte, bytes, line) and what to do about it."""
    found = _first_decode_error(src, encoding)
    label = encoding_label(encoding)
    where = ""
    if found is not None:
        offset, bad = found
        where = f" at byte {offset} (0x{bad[:4].hex(' ').upper()}"
        if code_unit(encoding) == 1:
            where += f", line {_line_of_offset(src, offset)}"
        where += ")"
    other = "Windows-1252" if encoding.startswith("utf-8") else "UTF-8"
    return (
        f"The file cannot be read as {label}{where}. Re-export it as 'CSV UTF-8', or choose the "
        f"encoding it was saved in (for example {other})."
    )


# --------------------------------------------------------------------------------------------
# Detection on a sample


def _bom(data: bytes) -> str | None:
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


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


def _guess_code_page(sample: bytes, code_pages: tuple[str, ...] | None) -> tuple[str, float] | None:
    """charset-normalizer's best code page for a sample (``None``: any it knows) and its confidence."""
    best = charset_normalizer.from_bytes(sample[:DETECT_BYTES], cp_isolation=list(code_pages) if code_pages else None).best()
    if best is None:
        return None
    return canonical(best.encoding), max(0.5, 0.8 - best.chaos)


def detect_8bit(sample: bytes, code_pages: tuple[str, ...] = CODE_PAGES) -> Detected:
    """The 8-bit code page of a sample that is not UTF-8 (Windows-1252 unless bytes say otherwise)."""
    guess = _guess_code_page(sample, code_pages)
    if guess is None:
        guess = ("iso8859-1" if _CP1252_UNDEFINED.search(sample) else "cp1252", 0.5)
    name, confidence = guess
    note = (
        f"Encoding {encoding_label(name)} (the file is not UTF-8). If accented letters look "
        "wrong in the preview, re-export the file as 'CSV UTF-8' or choose its encoding."
    )
    return Detected(name, confidence, (note,))


def detect_encoding(sample: bytes, *, is_whole: bool, code_pages: tuple[str, ...] = CODE_PAGES) -> Detected:
    """Encoding of a sample: BOM, UTF-16 without BOM, UTF-8, else an 8-bit code page."""
    bom = _bom(sample)
    if bom:
        return Detected(bom, 1.0, (f"Encoding {encoding_label(bom)}: the file starts with a BOM.",))
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Detected(utf16, 0.9, (f"Encoding {encoding_label(utf16)}: no BOM, but every other byte is zero.",))
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=is_whole)
    except UnicodeDecodeError:
        return detect_8bit(sample, code_pages)
    if sample.isascii():
        return Detected("utf-8", 1.0, ("Encoding UTF-8 (the sample is plain ASCII).",))
    return Detected("utf-8", 0.99, ("Encoding UTF-8.",))


# --------------------------------------------------------------------------------------------
# Whole files


@dataclass(frozen=True)
class _Scan:
    nul_at: int | None
    utf8_error_at: int | None
    non_ascii_before_error: bool
    cp1252_undefined: bool


def _scan_whole_file(src: Source, encoding: str, check_encoding: bool) -> _Scan:
    """One streaming pass: the first NUL, the first UTF-8 error and Windows-1252 undefined bytes."""
    scanner = _NulScanner(code_unit(encoding))
    utf8 = check_encoding and encoding in ("utf-8", "utf-8-sig")
    cp1252 = check_encoding and encoding == "cp1252"
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if utf8 else None
    seen_non_ascii, error_at, error_after_non_ascii, undefined = False, None, False, False
    offset = 0
    with open_binary(src) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            at = scanner.feed(chunk)
            if at is not None:
                return _Scan(at, error_at, error_after_non_ascii, undefined)
            if decoder is not None and error_at is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    error_at = offset - pending + exc.start
                    error_after_non_ascii = seen_non_ascii or not exc.object[: exc.start].isascii()
                else:
                    seen_non_ascii = seen_non_ascii or not chunk.isascii()
            undefined = undefined or bool(cp1252 and _CP1252_UNDEFINED.search(chunk))
            if not chunk:
                return _Scan(None, error_at, error_after_non_ascii, undefined)
            offset += len(chunk)


def _forced(encoding: str, sample: bytes) -> Detected:
    name = canonical(encoding)
    if name == "utf-8" and sample.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    return Detected(name, 1.0, (f"Encoding {encoding_label(name)} (chosen by you).",))


def _not_utf8_after_ascii(src: Source, offset: int) -> Detected:
    """Plain ASCII up to ``offset``, then a byte that is not UTF-8: the file is in a code page."""
    with open_binary(src) as fh:
        fh.seek(max(0, offset - _WINDOW // 2))
        window = fh.read(_WINDOW)
    found = detect_8bit(window)
    note = (
        f"The first {offset} bytes are plain ASCII but byte {offset} is not UTF-8; "
        f"reading the file as {encoding_label(found.encoding)}."
    )
    return Detected(found.encoding, found.confidence, (note, *found.notes))


def file_encoding(src: Source, sample: bytes, *, is_whole: bool, forced: str | None = None) -> Detected:
    """Encoding of a whole file from its sample, checked against every byte of it.

    Refuses files with NUL characters and files that are UTF-8 in one place and not in another.
    """
    found = _forced(forced, sample) if forced is not None else detect_encoding(sample, is_whole=is_whole)
    scan = _scan_whole_file(src, found.encoding, forced is None)
    if scan.nul_at is not None:
        raise CsvRejected(nul_message(scan.nul_at))
    undefined = scan.cp1252_undefined
    if scan.utf8_error_at is not None:
        if scan.non_ascii_before_error:
            raise CsvRejected(
                f"The file mixes text encodings: it reads as UTF-8 up to byte {scan.utf8_error_at}, but the "
                "bytes there are not UTF-8. Re-export the whole file as 'CSV UTF-8', or choose "
                "its encoding explicitly."
            )
        found = _not_utf8_after_ascii(src, scan.utf8_error_at)
        if found.encoding == "cp1252":
            undefined = _scan_whole_file(src, "cp1252", True).cp1252_undefined
    if undefined and found.encoding == "cp1252":
        note = "Some bytes are undefined in Windows-1252; reading the file as Latin-1."
        found = Detected("iso8859-1", found.confidence, (*found.notes, note))
    return found


def decode_text(data: bytes, *, code_pages: tuple[str, ...] | None = None) -> str:
    """All of ``data`` as text, detected as in :func:`detect_encoding` (any code page by default).

    Refuses binary files (:class:`NotText`, a sentence) and undecodable ones (:class:`FormatRejected`,
    a lower-case fragment meant to follow the file's name).
    """
    refuse_binary(data[:16])
    bom = _bom(data)
    if bom:
        try:
            text = data.decode(bom)
        except UnicodeDecodeError as exc:
            raise FormatRejected(f"starts with a {bom} marker but byte {exc.start} is not valid {bom}") from None
    else:
        text = _decode_without_bom(data, code_pages)
    refuse_control_characters(text[:DETECT_BYTES])
    return text.removeprefix("\ufeff")


def _decode_without_bom(data: bytes, code_pages: tuple[str, ...] | None) -> str:
    utf16 = _utf16_without_bom(data[:4096])
    try:
        if utf16:
            return data.decode(utf16)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    guess = _guess_code_page(data, code_pages)
    try:
        if guess is not None:
            return data.decode(guess[0])
    except UnicodeDecodeError:
        pass
    raise FormatRejected(
        f"the text encoding could not be recognised (byte {utf8_error} is not UTF-8); save the file as UTF-8 and try again"
    )
