"""The measured reliability of identification, per confidence band (made by bench/identify.py).

`calibration.json` next to this module holds, for the labelled evaluation set, each case's
confidence and whether identification was right. The settings page shows the table, and how
often products at or above a threshold were right, so an admin chooses a threshold on figures.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def load() -> dict:
    """{"made", "cases", "bands": [{"band", "cases", "right", "share"}], "points": [[confidence, right], …]}."""
    try:
        return json.loads(PATH.read_text())
    except (OSError, ValueError):
        return {"cases": 0, "bands": [], "points": []}


def at_or_above(threshold: int) -> tuple[int, int]:
    """(right, cases) among labelled cases whose confidence is at or above `threshold`."""
    points = [(c, r) for c, r in load()["points"] if c >= threshold]
    return sum(1 for _c, r in points if r), len(points)
