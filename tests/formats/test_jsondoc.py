"""JSON within depth and size limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.formats.errors import JsonRejected, JsonSyntaxError
from app.formats.jsondoc import MAX_DEPTH, depth, load_json


def test_numbers_with_a_fraction_are_decimal():
    assert load_json('{"price": 2.91, "qty": 2}') == {"price": Decimal("2.91"), "qty": 2}


def test_syntax_errors_say_where_and_whether_the_file_is_cut_off():
    with pytest.raises(JsonSyntaxError) as info:
        load_json('[{"a": 1}, {"b": ')
    assert (info.value.line, info.value.column) == (1, 18)
    assert "it looks cut off" in info.value.detail
    assert info.value.message.startswith("The file is not valid JSON: Expecting value (line 1, column 18)")


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(levels):
    with pytest.raises(JsonRejected, match=f"nested more than {MAX_DEPTH} levels deep"):
        load_json("[" * levels + "]" * levels)


def test_depth_and_size_limits():
    assert depth(load_json('{"orders": [{"a": [1]}]}')) == 4
    assert depth(3) == 0
    load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(JsonRejected, match="more than 10 characters"):
        load_json("[1, 2, 3, 4, 5]", max_chars=10)
    with pytest.raises(JsonRejected, match="cannot be read"):
        load_json("1" * 5000)  # more digits than Python turns into an int
