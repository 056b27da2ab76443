"""Streaming records and rows: row numbers, ragged rows, limits."""

from __future__ import annotations

import csv
import io

import pytest

from app.formats.dialect import sniff
from app.formats.errors import CsvRejected, FieldTooLarge, TooManyColumns
from app.formats.rows import (
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    TableStats,
    check_width,
    header_problems,
    iter_rows,
    preview,
    read_records,
    stream,
)

KWARGS = {"delimiter": ",", "quotechar": '"', "strict": True}


def records(text: str, **kwargs):
    return list(read_records(io.StringIO(text, newline=""), KWARGS, **kwargs))


def test_records_keep_spreadsheet_row_numbers():
    text = 'notes\ntitle,description\nShirt,"one\ntwo"\n\nHat,plain\n'
    assert records(text, skip_lines=1) == [
        (2, ["title", "description"]),
        (3, ["Shirt", "one\ntwo"]),
        (4, []),
        (5, ["Hat", "plain"]),
    ]


def test_broken_quotes_name_the_row():
    with pytest.raises(CsvRejected) as info:
        records('title,mpn\nShirt,A1\n"Hat,B2\n')
    assert info.value.message.startswith('Row 3: a value starts with a double quote (")')


def test_a_value_over_the_field_limit_is_a_domain_error_with_its_row():
    text = "title,mpn\nShirt,A1\n" + "x" * (csv.field_size_limit() + 1) + ",B2\n"
    with pytest.raises(FieldTooLarge) as info:
        records(text)
    assert (info.value.row_number, info.value.limit) == (3, csv.field_size_limit())
    assert info.value.message.startswith(f"Row 3: a value is longer than {csv.field_size_limit()} characters.")


def test_a_line_without_breaks_is_refused_without_reading_it_whole():
    class Counting(io.StringIO):
        read_chars = 0

        def readline(self, size=-1):
            line = super().readline(size)
            Counting.read_chars += len(line)
            return line

    stream_ = Counting("title\nShirt\n" + "x" * (3 * MAX_LINE_CHARS), newline="")
    with pytest.raises(FieldTooLarge) as info:
        list(read_records(stream_, KWARGS))
    assert info.value.row_number == 3
    assert "a line is longer than 2,097,152 characters without a line break" in info.value.message
    assert Counting.read_chars <= MAX_LINE_CHARS + 20


def test_width_is_capped_with_the_count_and_the_limit():
    check_width(["a"] * MAX_COLUMNS, 1)
    with pytest.raises(TooManyColumns) as info:
        check_width(["a"] * 20_000, 4)
    assert (info.value.columns, info.value.limit, info.value.row_number) == (20_000, 500, 4)
    assert info.value.message.startswith("The file has 20,000 columns (row 4); at most 500 can be read.")


def test_ragged_rows_are_padded_or_cut_with_a_problem():
    data = b"a,b,c\n1,2\n1,2,3,4\n1,2,3,\n,,\n"
    stats = TableStats()
    rows = list(stream(data, sniff(data), stats))
    assert [r[1] for r in rows] == [{"a": "1", "b": "2", "c": ""}, {"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "2", "c": "3"}]
    short, long_, trailing = (r[2] for r in rows)
    assert (short[0].row_number, short[0].column) == (2, "c")
    assert "the extra value(s) '4' do not belong to any column" in long_[0].message
    assert trailing == []  # an empty extra value is not a problem
    assert (stats.header, stats.header_row, stats.blank_rows) == (["a", "b", "c"], 1, 1)


def test_header_problems_and_rows_without_a_header():
    fatal, warnings = header_problems(["Title", "", "title "], 1)
    assert fatal[0].startswith("Columns 1 and 3 are both named 'Title' (row 1).")
    assert warnings[0].column == "column_2" and warnings[0].severity == "warning"
    data = b"Shirt,M\nHat,L\n"
    assert list(iter_rows(data, sniff(data, has_header=False))) == [(1, ["Shirt", "M"], []), (2, ["Hat", "L"], [])]


def test_preview_refuses_a_table_wider_than_the_cap():
    data = (",".join(f"col{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + ",".join("1" * (MAX_COLUMNS + 1)) + "\n").encode()
    with pytest.raises(TooManyColumns, match="has 501 columns"):
        preview(data, sniff(data))
    pre = preview(b"a,b\n1,2\n3,4\n", sniff(b"a,b\n1,2\n3,4\n"), n=1)
    assert (pre.header, pre.rows, pre.total_rows_estimate, pre.total_is_exact) == (["a", "b"], [["1", "2"]], 2, True)
