"""Dialect detection, lines above the table and sniff as a whole."""

from __future__ import annotations

import random
import time

import pytest

from app.formats.dialect import (
    DELIMITERS,
    CsvFormat,
    detect_dialect,
    find_table_start,
    line_terminator_note,
    looks_like_data,
    reader_kwargs,
    record_shapes,
    sniff,
)
from app.formats.errors import CsvRejected, NotText


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_detect_dialect_finds_each_delimiter(delimiter):
    text = "\n".join(delimiter.join(row) for row in [("title", "mpn", "size"), ("Shirt", "A1", "M"), ("Hat", "B2", "L")]) + "\n"
    assert detect_dialect(text).delimiter == delimiter


def test_detect_dialect_keeps_double_quotes_and_says_when_nothing_splits():
    assert detect_dialect('title,mpn\n"Shirt, blue",A1\n"Hat",B2\n').quotechar == '"'
    single = detect_dialect("title\nShirt\nHat\n")
    assert single.delimiter == ","
    assert any("single column" in note for note in single.notes)


def test_long_runs_of_letters_do_not_make_detection_slow():
    random.seed(2)
    hex_dump = "".join(random.choice("0123456789abcdef") for _ in range(200_000))
    started = time.process_time()
    found = detect_dialect(hex_dump)
    assert time.process_time() - started < 3  # 20 s when CleverCSV saw the whole run
    assert found.delimiter in DELIMITERS
    long_cells = "title;description\n" + "".join(f"Shirt {i};{'x' * 5000}\n" for i in range(5))
    assert detect_dialect(long_cells).delimiter == ";"


def test_table_start_and_line_endings():
    kwargs = reader_kwargs(",", '"', None)
    shapes = record_shapes("Stock export\nWarehouse 3\ntitle,mpn,size\nShirt,A1,M\nHat,B2,L\nCap,C3,S\n", kwargs)
    assert find_table_start(shapes) == (2, 2, True, 3)
    shapes = record_shapes("Shop:,Acme\ntitle,mpn,size,country\nShirt,A1,M,PL\nHat,B2,L,DE\nCap,C3,S,FR\n", kwargs)
    assert find_table_start(shapes) == (1, 1, False, 4)
    assert line_terminator_note("a\r\nb\r\n") == "CRLF (Windows)"
    assert line_terminator_note("a\rb\nc") == "mixed: LF (Unix) x1, CR only (classic Mac) x1"
    assert looks_like_data(["1", "2.5", "2024-01-02"]) and not looks_like_data(["title", "1"])


def test_sniff_returns_a_format_with_notes():
    fmt = sniff(b"title;mpn\nShirt;A1\nHat;B2\n")
    assert isinstance(fmt, CsvFormat)
    assert (fmt.encoding_label, fmt.delimiter_label, fmt.skip_lines, fmt.confidence) == ("UTF-8", "semicolon", 0, 1.0)
    assert fmt.reader_kwargs()["delimiter"] == ";"
    assert "Delimiter: semicolon." in fmt.notes


def test_sniff_refusals():
    with pytest.raises(CsvRejected, match=r"The file is empty \(0 bytes\)"):
        sniff(b"")
    with pytest.raises(CsvRejected, match="only contains blank lines"):
        sniff(b"\n\r\n  \n")
    with pytest.raises(CsvRejected, match="cannot be negative"):
        sniff(b"a\n1\n", skip_lines=-1)
    with pytest.raises(NotText, match="PDF document"):
        sniff(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def test_sniff_refuses_binary_without_nul_bytes_quickly():
    random.seed(3)
    data = bytes(random.randrange(1, 256) for _ in range(2_000_000))
    started = time.process_time()
    with pytest.raises(NotText, match="does not look like text"):
        sniff(data)
    assert time.process_time() - started < 3
