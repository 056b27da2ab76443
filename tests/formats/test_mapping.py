"""Column suggestions and exact name matching."""

from __future__ import annotations

import time

from app.formats.mapping import compact, match_names, normalise, suggest_mapping, targets

TARGETS = targets(
    {"title": ("title", "product name", "name"), "mpn": ("mpn", "part number", "part no"), "size": ("size", "dimensions")},
    {"title": ("title",), "mpn": ("part number",), "size": ("size",)},
)


def test_normalise_and_compact():
    assert normalise("Mfr. Part #") == "mfr part number"
    assert normalise("productType") == "product type"
    assert normalise("Part No.") == "part number"
    assert compact("Order No.") == compact("OrderNumber") == "ordernumber"


def test_suggestions_prefer_exact_names_then_keywords_then_spelling():
    assert suggest_mapping(["Name", "Title", "Part #", "Notes"], TARGETS) == {"title": "Title", "mpn": "Part #"}
    assert suggest_mapping(["Product Title (EN)", "Dimensoins"], TARGETS) == {"title": "Product Title (EN)", "size": "Dimensoins"}
    assert suggest_mapping(["foo", "bar"], TARGETS) == {}


def test_each_column_is_used_once_leftmost_on_ties():
    assert suggest_mapping(["title", "title"], TARGETS) == {"title": "title"}
    assert suggest_mapping(["Size", "size"], TARGETS) == {"size": "Size"}


def test_suggestions_cost_grows_with_columns_times_fields():
    header = [f"Attribute {i}" for i in range(20_000)] + ["Product Name"]
    started = time.process_time()
    assert suggest_mapping(header, TARGETS) == {"title": "Product Name"}
    assert time.process_time() - started < 10  # difflib took 39 s for 20,000 columns


def test_match_names_takes_the_first_name_found():
    header = ["Date", "Order No.", "Order Date"]
    assert match_names(header, {"order_date": ("Order Date", "Date"), "order_id": ("Order ID", "Order Number")}) == {
        "order_date": 2,
        "order_id": 1,
    }
