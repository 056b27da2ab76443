"""Tests for CSV intake: every awkward fixture either loads correctly or is refused clearly."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from app.batches.csv_intake import (
    CsvFormat,
    CsvRejected,
    iter_rows,
    preview,
    sniff,
    suggest_mapping,
    validate,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv_edge"


def load(name: str, **overrides):
    path = FIXTURES / name
    fmt = sniff(path, **overrides)
    return path, fmt, preview(path, fmt), list(iter_rows(path, fmt))


# --- one check per fixture -------------------------------------------------------------------


def check_bad(name: str) -> None:
    path, fmt, pre, rows = load(name)
    # bad_skip_lines.csv has three blank lines above the header.
    offset = 3 if name == "bad_skip_lines.csv" else 0
    assert fmt.delimiter == ","
    assert fmt.quotechar == '"'
    assert fmt.confidence < 0.5  # only one of three rows has the header's width
    assert pre.header == ["column_a", "column_b", "column_c"]
    assert pre.header_row == 1 + offset
    assert [r[0] for r in rows] == [2 + offset, 3 + offset, 4 + offset]
    # Long row: cut to the header width, the extra value is named in the problem.
    number, row, problems = rows[0]
    assert row == {"column_a": "1", "column_b": "27", "column_c": ""}
    assert len(problems) == 1
    assert (
        f"Row {number} has 4 values but the header has 3 columns" in problems[0].message
    )
    assert "I'm too long!" in problems[0].message
    # Short row: padded, the missing column is named.
    number, row, problems = rows[1]
    assert row == {"column_a": "", "column_b": "I'm too short!", "column_c": ""}
    assert problems[0].row_number == number
    assert problems[0].column == "column_c"
    assert (
        f"Row {number} has 2 value(s) but the header has 3 columns"
        in problems[0].message
    )
    # A well-formed row.
    assert rows[2][1:] == (
        {"column_a": "0", "column_b": "mixed types.... uh oh", "column_c": "17"},
        [],
    )

    report = validate(path, fmt, {"title": "column_b"})
    assert report.total_rows == 3
    assert report.problem_count == 2
    assert [(p.row_number, p.column) for p in report.problems] == [
        (2 + offset, None),
        (3 + offset, "column_c"),
    ]
    assert not report.ok
    # Mapping the title to column_a also flags the row whose column_a is empty.
    report = validate(path, fmt, {"title": "column_a"})
    assert report.problem_count == 3
    assert any(
        p.row_number == 3 + offset
        and p.column == "column_a"
        and "title is empty" in p.message
        for p in report.problems
    )


def check_blanks(name: str) -> None:
    path, fmt, pre, rows = load(name)
    assert pre.header == list("abcdef")
    assert rows == [
        (2, {"a": "", "b": "NA", "c": "N/A", "d": "NONE", "e": "NULL", "f": "."}, [])
    ]
    # Values are kept as they are, but placeholders do not count as a title.
    report = validate(path, fmt, {"title": "c"})
    assert report.problem_count == 1
    assert "'N/A', a placeholder" in report.problems[0].message
    assert validate(path, fmt, {"title": "f"}).problem_count == 0


def check_dummy_tsv(name: str) -> None:
    _, fmt, pre, rows = load(name)
    assert fmt.delimiter == "\t"
    assert pre.header == ["a", "b", "c"]
    assert rows == [(2, {"a": "1", "b": "2", "c": "3"}, [])]


def check_mac_newlines(name: str) -> None:
    path, fmt, pre, rows = load(name)
    assert fmt.line_terminator_note == "CR only (classic Mac)"
    assert pre.header == ["a", "b", "c"]
    assert pre.total_rows_estimate == 2
    assert rows == [
        (2, {"a": "1", "b": "2", "c": "3"}, []),
        (3, {"a": "Once upon\ra time", "b": "5", "c": "6"}, []),
    ]
    assert validate(path, fmt, {"title": "a"}).total_rows == 2


def check_null_byte(name: str) -> None:
    path = FIXTURES / name
    with pytest.raises(CsvRejected) as exc:
        sniff(path)
    assert exc.value.message == (
        "The file contains NUL bytes at byte 6; it is probably not a text CSV "
        "— re-export it as CSV UTF-8."
    )
    # The same refusal when the format is given without sniffing.
    fmt = CsvFormat("utf-8", ",", '"', None, True, 0, "LF (Unix)", 1.0)
    for call in (
        lambda: list(iter_rows(path, fmt)),
        lambda: preview(path, fmt),
        lambda: validate(path, fmt, {"title": "a"}),
    ):
        with pytest.raises(CsvRejected, match="NUL bytes at byte 6"):
            call()


def check_sniff_limit(name: str) -> None:
    _, fmt, pre, rows = load(name)
    assert fmt.delimiter == ";"
    assert pre.header == ["a", "b", "c"]
    assert rows == [(2, {"a": "1", "b": "2", "c": "3"}, [])]


def check_empty_columns(name: str) -> None:
    # The only data row is all delimiters (",,," or ","): an empty spreadsheet row.
    path, fmt, pre, rows = load(name)
    assert pre.header == ["a", "b", "c"]
    assert pre.rows == []
    assert rows == []
    with pytest.raises(CsvRejected) as exc:
        validate(path, fmt, {"title": "a"})
    assert "no product rows" in exc.value.message
    assert "1 empty row(s) ignored" in exc.value.message
    assert "Add one row per product" in exc.value.message


def check_header_newline(name: str) -> None:
    _, fmt, pre, rows = load(name)
    first = "\t\n\x0b\x0c\r start \t\n\x0b\x0c\r end \t\n\x0b\x0c\r"
    assert fmt.delimiter == ","
    assert pre.header == [first, "b", "c"]
    assert rows == [(2, {first: "d", "b": "e", "c": "f"}, [])]


def check_latin1(name: str) -> None:
    _, fmt, pre, rows = load(name)
    assert fmt.encoding in ("cp1252", "iso8859-1")
    assert pre.header == ["a", "b", "c"]
    assert rows[-1] == (3, {"a": "4", "b": "5", "c": "\u00a9"}, [])
    assert len(rows) == 2


def check_locale(name: str) -> None:
    _, fmt, _, rows = load(name)
    assert fmt.delimiter == ","
    # Locale-formatted numbers stay text; the quoted comma does not split the value.
    assert rows == [(2, {"a": "1,7", "b": "200.000.000", "c": ""}, [])]


def check_no_leading_zeroes(name: str) -> None:
    _, _, pre, rows = load(name)
    assert pre.rows == [["01", "00.11", "0.1"]]
    assert rows[0][1]["a"] == "01"  # leading zeros (MPNs, barcodes) survive


def check_skip_lines(name: str) -> None:
    path, _, pre, rows = load(name)
    assert pre.header == ["a", "b", "c"]
    assert pre.header_row == 4  # three blank lines above the header
    assert rows == [(5, {"a": "1", "b": "2", "c": "3"}, [])]
    fmt3 = sniff(path, skip_lines=3)
    assert fmt3.skip_lines == 3
    assert list(iter_rows(path, fmt3)) == rows
    report = validate(path, fmt3, {"title": "a"})
    assert (report.total_rows, report.header_row, report.problems) == (1, 4, [])


def check_utf16(name: str) -> None:
    _, fmt, pre, rows = load(name)
    assert fmt.encoding == "utf-16"
    assert pre.header == ["a", "b", "c"]
    assert rows == [
        (2, {"a": "1", "b": "2", "c": "3"}, []),
        (3, {"a": "4", "b": "5", "c": "\u02a4"}, []),
    ]


def check_utf8(name: str) -> None:
    path, fmt, pre, rows = load(name)
    expected = "utf-8-sig" if "bom" in name else "utf-8"
    assert fmt.encoding == expected
    assert pre.header == ["foo", "bar", "baz"]  # no BOM glued to "foo"
    assert rows[-1] == (3, {"foo": "4", "bar": "5", "baz": "\u02a4"}, [])
    assert validate(path, fmt, {"title": "foo"}).total_rows == 2


EXPECTATIONS = {
    "bad.csv": check_bad,
    "bad_skip_lines.csv": check_bad,
    "blanks.csv": check_blanks,
    "dummy.tsv": check_dummy_tsv,
    "mac_newlines.csv": check_mac_newlines,
    "null_byte.csv": check_null_byte,
    "sniff_limit.csv": check_sniff_limit,
    "test_empty_columns_long_row.csv": check_empty_columns,
    "test_empty_columns_short_row.csv": check_empty_columns,
    "test_header_newline.csv": check_header_newline,
    "test_latin1.csv": check_latin1,
    "test_locale.csv": check_locale,
    "test_no_leading_zeroes.csv": check_no_leading_zeroes,
    "test_skip_lines.csv": check_skip_lines,
    "test_utf16_big.csv": check_utf16,
    "test_utf16_little.csv": check_utf16,
    "test_utf8.csv": check_utf8,
    "test_utf8_bom.csv": check_utf8,
}


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_fixture(name):
    EXPECTATIONS[name](name)


# --- overrides -------------------------------------------------------------------------------


def test_forced_delimiter_overrides_detection():
    path = FIXTURES / "dummy.tsv"
    fmt = sniff(path, delimiter=",")
    assert fmt.delimiter == ","
    assert preview(path, fmt).header == ["a\tb\tc"]
    assert sniff(FIXTURES / "sniff_limit.csv", delimiter="\t").delimiter == "\t"


def test_forced_encoding_overrides_detection():
    path = FIXTURES / "test_utf8.csv"
    fmt = sniff(path, encoding="latin-1")
    assert fmt.encoding == "iso8859-1"
    # Mojibake, as asked for.
    assert list(iter_rows(path, fmt))[-1][1]["baz"] == "\u00ca\u00a4"


def test_forced_wrong_encoding_is_refused_with_the_byte():
    path = FIXTURES / "test_latin1.csv"
    fmt = sniff(path, encoding="utf-8")
    with pytest.raises(CsvRejected) as exc:
        list(iter_rows(path, fmt))
    assert "cannot be read as UTF-8 at byte 16 (0xA9, line 3)" in exc.value.message
    assert "Re-export it as 'CSV UTF-8'" in exc.value.message


def test_forced_utf8_still_drops_the_bom():
    fmt = sniff(FIXTURES / "test_utf8_bom.csv", encoding="utf-8")
    assert fmt.encoding == "utf-8-sig"
    assert preview(FIXTURES / "test_utf8_bom.csv", fmt).header == ["foo", "bar", "baz"]


def test_unknown_encoding_and_bad_delimiter_are_refused():
    with pytest.raises(CsvRejected, match="Unknown text encoding"):
        sniff(b"a,b\n1,2\n", encoding="klingon")
    with pytest.raises(CsvRejected, match="single character"):
        sniff(b"a,b\n1,2\n", delimiter=",,")


def test_no_quoting_override():
    data = b'title,mpn\n"Shirt",1\n'
    fmt = sniff(data, quotechar="")
    assert fmt.quotechar is None
    assert list(iter_rows(data, fmt)) == [(2, {"title": '"Shirt"', "mpn": "1"}, [])]


def test_has_header_false_yields_lists_and_maps_by_position():
    data = b"Shirt,M,PL\nHat,L,DE\n"
    fmt = sniff(data, has_header=False)
    rows = list(iter_rows(data, fmt))
    assert rows == [(1, ["Shirt", "M", "PL"], []), (2, ["Hat", "L", "DE"], [])]
    report = validate(data, fmt, {"title": "column_1", "size": "column_2"})
    assert (report.total_rows, report.problems) == (2, [])


# --- detection -------------------------------------------------------------------------------


def test_junk_lines_without_delimiter_are_skipped_automatically():
    data = (
        b"Stock export\nWarehouse 3\ntitle,mpn,size\nShirt,A1,M\nHat,B2,L\nCap,C3,S\n"
    )
    fmt = sniff(data)
    assert (fmt.skip_lines, fmt.suggested_skip_lines) == (2, 2)
    rows = list(iter_rows(data, fmt))
    assert rows[0] == (4, {"title": "Shirt", "mpn": "A1", "size": "M"}, [])


def test_junk_lines_with_delimiters_are_only_suggested():
    data = (
        b"Shop:,Acme\ntitle,mpn,size,country\nShirt,A1,M,PL\nHat,B2,L,DE\nCap,C3,S,FR\n"
    )
    fmt = sniff(data)
    assert (fmt.skip_lines, fmt.suggested_skip_lines) == (0, 1)
    assert any("skip 1 line(s)" in note for note in fmt.notes)
    assert preview(data, sniff(data, skip_lines=1)).header == [
        "title",
        "mpn",
        "size",
        "country",
    ]


def test_utf16_without_bom_and_windows_1252():
    text = "title,size\nCaf\u00e9 \u201cmug\u201d,\u20ac5\n"
    fmt = sniff(text.encode("utf-16-le"))
    assert fmt.encoding == "utf-16-le"
    first = next(iter_rows(text.encode("utf-16-le"), fmt))
    assert first[1]["title"] == "Caf\u00e9 \u201cmug\u201d"
    data = text.encode("cp1252")
    fmt = sniff(data)
    assert fmt.encoding == "cp1252"
    first = next(iter_rows(data, fmt))
    assert first[1] == {"title": "Caf\u00e9 \u201cmug\u201d", "size": "\u20ac5"}


def test_non_utf8_byte_after_a_long_ascii_prefix_switches_encoding():
    data = b"title,size\n" + b"Shirt,M\n" * 20000 + b"Caf\xe9,L\n"
    fmt = sniff(data)
    assert fmt.encoding == "cp1252"
    assert list(iter_rows(data, fmt))[-1][1] == {"title": "Caf\u00e9", "size": "L"}


def test_mixed_encodings_are_refused():
    data = (
        "title\nZa\u017c\u00f3\u0142\u0107\n".encode()
        + b"Shirt\n" * 20000
        + b"Caf\xe9\n"
    )
    with pytest.raises(CsvRejected, match="mixes text encodings"):
        sniff(data)


def test_utf16_nul_character_is_refused():
    data = codecs.BOM_UTF16_LE + "a,b\n\0,1\n".encode("utf-16-le")
    with pytest.raises(CsvRejected, match="NUL bytes at byte 10"):
        sniff(data)


# --- whole-file refusals ---------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CsvRejected, match=r"The file is empty \(0 bytes\)"):
        sniff(path)
    fmt = CsvFormat("utf-8", ",", '"', None, True, 0, "LF (Unix)", 1.0)
    with pytest.raises(CsvRejected, match="empty"):
        validate(path, fmt, {"title": "title"})


def test_blank_only_file_is_refused():
    with pytest.raises(CsvRejected, match="only contains blank lines"):
        sniff(b"\n\r\n  \n")


def test_duplicate_header_names_are_refused():
    data = b"Title,MPN,title\nShirt,A1,Hat\n"
    fmt = sniff(data)
    with pytest.raises(CsvRejected) as exc:
        validate(data, fmt, {"title": "Title"})
    assert exc.value.message.startswith(
        "Columns 1 and 3 are both named 'Title' (row 1)."
    )
    assert "Rename one of them" in exc.value.message
    # The preview still shows the table and reports the clash.
    pre = preview(data, fmt)
    assert pre.rows == [["Shirt", "A1", "Hat"]]
    assert "both named" in pre.problems[0].message


def test_header_that_looks_like_data():
    data = b"1,2,3\n4,5,6\n"
    fmt = sniff(data)
    assert any("looks like data" in note for note in fmt.notes)
    assert "looks like data" in preview(data, fmt).problems[0].message
    with pytest.raises(CsvRejected) as exc:
        validate(data, fmt, {"title": "Title"})
    assert "The column 'Title' chosen for title is not in the file" in exc.value.message
    assert "choose 'no header row'" in exc.value.message


def test_unmapped_required_field_is_refused():
    with pytest.raises(CsvRejected, match="required field 'title'"):
        validate(b"a\n1\n", sniff(b"a\n1\n"), {"mpn": "a"})


def test_unclosed_quote_is_refused_with_row():
    data = b'title,mpn\nShirt,A1\n"Hat,B2\nCap,C3\n'
    with pytest.raises(CsvRejected) as exc:
        list(iter_rows(data, sniff(data)))
    assert exc.value.message.startswith("Row 3: a value starts with a double quote")


def test_unnamed_column_is_a_warning():
    data = b"title,,size\nShirt,x,M\n"
    fmt = sniff(data)
    rows = list(iter_rows(data, fmt))
    assert rows == [(2, {"title": "Shirt", "column_2": "x", "size": "M"}, [])]
    report = validate(data, fmt, {"title": "title"})
    assert report.ok
    assert report.problems[0].severity == "warning"


# --- validation ------------------------------------------------------------------------------


def test_problem_list_is_capped_but_counts_everything():
    data = b"title,mpn\n" + b",A1\n" * 1500 + b"\n\n" + b"Shirt,B2\n"
    fmt = sniff(data)
    report = validate(data, fmt, {"title": "title", "mpn": "mpn"}, max_problems=1000)
    assert report.total_rows == 1501
    assert report.blank_rows == 2
    assert report.problem_count == 1500
    assert report.rows_with_problems == 1500
    assert len(report.problems) == 1000
    assert report.truncated
    assert report.problems[0].row_number == 2
    assert report.problems[-1].row_number == 1001


def test_quoted_newlines_keep_spreadsheet_row_numbers():
    data = b'title,description\r\nShirt,"line one\r\nline two"\r\n\r\nHat,plain\r\n'
    fmt = sniff(data)
    assert fmt.line_terminator_note == "CRLF (Windows)"
    rows = list(iter_rows(data, fmt))
    assert rows == [
        (2, {"title": "Shirt", "description": "line one\r\nline two"}, []),
        (4, {"title": "Hat", "description": "plain"}, []),
    ]


def test_large_file_streams_fast(tmp_path):
    path = tmp_path / "big.csv"
    line = 'PL,shirt,M,MPN-{0},"Cotton shirt, blue",Shirt {0},EAN{0},12.50\n'
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("country,product_type,size,mpn,description,title,ean,price\n")
        fh.writelines(line.format(i) for i in range(100_000))
    started = time.process_time()
    fmt = sniff(path)
    mapping = suggest_mapping(preview(path, fmt).header)
    report = validate(path, fmt, mapping, required=("title", "mpn"))
    elapsed = time.process_time() - started
    assert report.total_rows == 100_000
    assert report.problem_count == 0
    assert elapsed < 10  # typically well under a second
    assert abs(preview(path, fmt).total_rows_estimate - 100_000) < 10_000


# --- mapping ---------------------------------------------------------------------------------


def test_suggest_mapping_common_names():
    header = [
        "Product Type",
        "Country of Origin",
        "Size",
        "Manufacturer Part Number",
        "Desc",
        "Product Name",
        "Price",
    ]
    assert suggest_mapping(header) == {
        "country": "Country of Origin",
        "product_type": "Product Type",
        "size": "Size",
        "mpn": "Manufacturer Part Number",
        "description": "Desc",
        "title": "Product Name",
    }


@pytest.mark.parametrize(
    ("header", "field", "expected"),
    [
        (["product-type"], "product_type", "product-type"),
        (["productType"], "product_type", "productType"),
        (["MPN"], "mpn", "MPN"),
        (["Mfr. Part #"], "mpn", "Mfr. Part #"),
        (["Part No."], "mpn", "Part No."),
        (["TITLE "], "title", "TITLE "),
        (["Product Title (EN)"], "title", "Product Title (EN)"),
        (["Discription"], "description", "Discription"),
        (["country_code"], "country", "country_code"),
    ],
)
def test_suggest_mapping_variants(header, field, expected):
    assert suggest_mapping(header).get(field) == expected


def test_suggest_mapping_uses_each_column_once_and_prefers_exact_names():
    mapping = suggest_mapping(["Product", "Title", "Type", "Notes"])
    assert mapping == {"product_type": "Type", "title": "Title"}
    assert suggest_mapping(["foo", "bar"]) == {}


# --- bounded input ---------------------------------------------------------------------------


def _wide(columns: int) -> bytes:
    return (",".join(f"col{i}" for i in range(columns)) + "\n" + ",".join(str(i) for i in range(columns)) + "\n").encode()


def test_a_very_wide_file_is_refused_quickly_with_its_column_count():
    data = _wide(20_000)
    started = time.process_time()
    with pytest.raises(CsvRejected) as exc:
        preview(data, sniff(data), n=5)
    assert time.process_time() - started < 3
    assert exc.value.message.startswith("The file has 20,000 columns (row 1); at most 500 can be read.")


def test_suggest_mapping_is_fast_for_many_columns():
    header = [f"Attribute {i}" for i in range(20_000)] + ["Product Name"]
    started = time.process_time()
    assert suggest_mapping(header) == {"title": "Product Name"}
    assert time.process_time() - started < 10  # 39 s with difflib


def test_binary_files_are_refused_quickly():
    started = time.process_time()
    with pytest.raises(CsvRejected, match="The file is a PNG image, not a text file"):
        sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(1000))
    no_nul = bytes((i * 7919) % 255 + 1 for i in range(2_000_000))  # binary without a NUL byte
    with pytest.raises(CsvRejected, match="does not look like text"):
        sniff(no_nul)
    assert time.process_time() - started < 3


def test_text_without_delimiters_or_line_breaks_is_sniffed_quickly():
    data = ("0123456789abcdef" * 20_000).encode()  # a hex dump: one 320 KB "value"
    started = time.process_time()
    fmt = sniff(data)
    assert time.process_time() - started < 3  # CleverCSV took 20 s on its 32 KB sample
    with pytest.raises(CsvRejected, match="Row 1: a value is longer than"):
        preview(data, fmt)


def test_a_line_without_breaks_is_refused_with_its_row():
    data = b"title,mpn\nShirt,1\n" + b"x" * 5_000_000
    with pytest.raises(CsvRejected) as exc:
        list(iter_rows(data, sniff(data)))
    assert exc.value.row_number == 3
    assert exc.value.message.startswith("Row 3: a line is longer than 2,097,152 characters without a line break.")
