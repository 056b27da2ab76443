"""Encoding detection, binary refusal and decoding errors."""

from __future__ import annotations

import codecs
import io
import os
import random
import zipfile

import pytest

from app.formats.encoding import (
    decode_error_message,
    decode_text,
    detect_encoding,
    encoding_label,
    file_encoding,
    refuse_binary,
    refuse_control_characters,
)
from app.formats.errors import CsvRejected, FormatRejected, NotText

TEXT = "title,size\nCaf\u00e9 \u201cmug\u201d,\u20ac5\n"


@pytest.mark.parametrize(
    ("data", "encoding", "confidence"),
    [
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8-sig", 1.0),
        (TEXT.encode("utf-16"), "utf-16", 1.0),
        (TEXT.encode("utf-16-le"), "utf-16-le", 0.9),
        (TEXT.encode("utf-16-be"), "utf-16-be", 0.9),
        (b"title,size\nShirt,M\n", "utf-8", 1.0),
        (TEXT.encode(), "utf-8", 0.99),
    ],
)
def test_detect_encoding(data, encoding, confidence):
    found = detect_encoding(data, is_whole=True)
    assert (found.encoding, found.confidence) == (encoding, confidence)
    assert found.notes[0].startswith(f"Encoding {encoding_label(encoding)}")


def test_code_page_is_windows_1252_unless_bytes_say_latin_1():
    assert detect_encoding(TEXT.encode("cp1252"), is_whole=True).encoding == "cp1252"
    data = b"title\nab\x81c\n\xe9\n"
    assert file_encoding(data, data, is_whole=True).encoding == "iso8859-1"


def test_a_late_non_utf8_byte_switches_to_a_code_page():
    data = b"title\n" + b"Shirt\n" * 50_000 + b"Caf\xe9\n"
    found = file_encoding(data, data[:65536], is_whole=False)
    assert found.encoding == "cp1252"
    assert found.notes[0].startswith(f"The first {len(data) - 2} bytes are plain ASCII")


def test_mixed_encodings_and_nul_characters_are_refused():
    data = "title\nZa\u017c\u00f3\u0142\u0107\n".encode() + b"Shirt\n" * 20_000 + b"Caf\xe9\n"
    with pytest.raises(CsvRejected, match="mixes text encodings"):
        file_encoding(data, data[:65536], is_whole=False)
    data = b"title,mpn\nShirt,\0A1\n"
    with pytest.raises(CsvRejected, match="NUL bytes at byte 16"):
        file_encoding(data, data, is_whole=True)
    utf16 = codecs.BOM_UTF16_LE + "a,b\n\0,1\n".encode("utf-16-le")
    with pytest.raises(CsvRejected, match="NUL bytes at byte 10"):
        file_encoding(utf16, utf16, is_whole=True)


def test_forced_encoding_is_kept_and_unknown_names_refused():
    assert file_encoding(b"a\n", b"a\n", is_whole=True, forced="latin-1").encoding == "iso8859-1"
    bom = codecs.BOM_UTF8 + b"a\n"
    assert file_encoding(bom, bom, is_whole=True, forced="utf-8").encoding == "utf-8-sig"
    with pytest.raises(CsvRejected, match="Unknown text encoding 'klingon'"):
        file_encoding(b"a\n", b"a\n", is_whole=True, forced="klingon")


def test_decode_error_message_names_byte_and_line():
    message = decode_error_message(b"a,b\n1,2\n\xa9\n", "utf-8")
    assert "cannot be read as UTF-8 at byte 8 (0xA9, line 3)" in message


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "a PDF document"),
        (_xlsx(), "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook is one)"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "a JPEG image"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "a WebP image"),
        (b"\x1f\x8b\x08\0\0\0", "a gzip archive"),
    ],
)
def test_known_binary_files_are_refused_by_their_first_bytes(head, kind):
    with pytest.raises(NotText) as info:
        refuse_binary(head)
    assert info.value.kind == kind
    assert info.value.message.startswith(f"The file is {kind}, not a text file.")


def test_text_that_starts_like_a_signature_is_not_refused():
    for head in (b"PKG,title\n", b"%PD,x\n", b"GIF8,x\n", b"title,mpn\n"):
        refuse_binary(head)


def test_control_characters_refuse_binary_read_as_text():
    random.seed(1)
    data = bytes(random.randrange(1, 256) for _ in range(20_000)).decode("latin-1")
    with pytest.raises(NotText, match="control characters"):
        refuse_control_characters(data)
    refuse_control_characters("a\tb\x0b\x0c\r\nc,\x1a\n")  # tab, VT, FF and a DOS end-of-file mark are fine


def test_decode_text_detects_like_the_csv_reader():
    assert decode_text(TEXT.encode("utf-16-le")) == TEXT
    assert decode_text(codecs.BOM_UTF8 + TEXT.encode()) == TEXT
    assert decode_text(TEXT.encode()) == TEXT
    polish = "Tytuł,Cena\nŁańcuszek złoty,129,46 zł\n" * 20
    assert decode_text(polish.encode("cp1250")) == polish  # any code page, not only Windows-1252


def test_decode_text_refusals():
    with pytest.raises(FormatRejected, match="starts with a utf-8-sig marker but byte"):
        decode_text(codecs.BOM_UTF8 + b"\xff\xfe\xfa")
    with pytest.raises(NotText, match="PDF document"):
        decode_text(b"%PDF-1.4\n" + os.urandom(100))
    with pytest.raises(NotText, match="control characters"):
        decode_text(bytes(range(0, 128)) * 100)
