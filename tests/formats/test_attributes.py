"""Attribute text of a product variant."""

from __future__ import annotations

from app.formats.attributes import parse_attributes


def test_attributes():
    assert parse_attributes("Color: Gold, Silver; Size: 12cm") == {"color": "Gold, Silver", "size": "12cm"}
    assert parse_attributes("Ratio: 1:12") == {"ratio": "1:12"}
    assert parse_attributes(None) == {}
