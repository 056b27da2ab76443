"""CSV that is safe to open in a spreadsheet: cells that would run as a formula are defused.

A cell starting with =, +, -, @, a tab or a carriage return is prefixed with an apostrophe, so a
title such as "=HYPERLINK(...)" typed by a customer or a supplier shows as text. Every export
of the product (listings, batches, inventory, orders) writes its cells through `neutralise`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell as text that no spreadsheet will evaluate as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[dict], columns: list[str]) -> str:
    """A CSV document (header row, CRLF line ends) of these rows, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])
    return out.getvalue()
