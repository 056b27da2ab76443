"""Comparing two versions of a file: fields, JSON data key by key, and pixels."""
from __future__ import annotations

import json
from dataclasses import dataclass

from PIL import Image

from app.core import storage
from app.core.deferred import numpy as np  # loaded on first use: not in the web process
from app.core.errors import InvalidInput
from app.techfiles.models import TechFile
from app.techfiles.versions import load_file


@dataclass
class DiffRow:
    key: str
    status: str  # added, removed, changed, same
    old: object
    new: object


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or ({prefix: {}} if prefix else {})
    if isinstance(value, list) and not value and prefix:
        return {}  # an empty list next to a filled one reads better as its items added or removed
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def diff(old: dict | None, new: dict | None, include_same: bool = False) -> list[DiffRow]:
    """Key-by-key differences of two JSON documents (nested keys flattened to dotted paths)."""
    a, b = _flatten(old or {}), _flatten(new or {})
    rows = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            rows.append(DiffRow(key, "added", None, _show(b[key])))
        elif key not in b:
            rows.append(DiffRow(key, "removed", _show(a[key]), None))
        elif a[key] != b[key]:
            rows.append(DiffRow(key, "changed", _show(a[key]), _show(b[key])))
        elif include_same:
            rows.append(DiffRow(key, "same", _show(a[key]), _show(b[key])))
    return rows


COMPARED_FIELDS = ("version", "status", "generator", "model", "credits", "confidence", "quality", "width",
                   "height", "sha256", "batch_id")


def _field_values(f: TechFile) -> dict:
    values = {k: getattr(f, k) for k in COMPARED_FIELDS}
    values["status"] = f.status.value
    values["credits"] = str(f.credits)
    values["created_at"] = f.created_at.isoformat(timespec="seconds")
    values["created_by"] = f.created_by.display_name if f.created_by else None
    return values


def _pixel_difference(a: TechFile, b: TechFile) -> dict:
    if a.sha256 is None or b.sha256 is None:
        return {"note": "one of the versions has no image"}
    if a.sha256 == b.sha256:
        return {"identical": True, "mean_abs_diff": 0.0, "changed_share": 0.0}
    try:
        with Image.open(storage.open_path(a.sha256)) as ia, Image.open(storage.open_path(b.sha256)) as ib:
            if ia.size != ib.size:
                return {"identical": False, "note": f"sizes differ: {ia.size[0]}×{ia.size[1]} and "
                                                    f"{ib.size[0]}×{ib.size[1]}"}
            pa = np.asarray(ia.convert("L"), dtype=np.int16)
            pb = np.asarray(ib.convert("L"), dtype=np.int16)
    except FileNotFoundError:
        return {"note": "an image is missing from storage"}
    delta = np.abs(pa - pb)
    return {"identical": False, "mean_abs_diff": round(float(delta.mean()), 2),
            "changed_share": round(float((delta > 16).mean()), 4)}


@dataclass
class Comparison:
    a: TechFile
    b: TechFile
    fields: list[DiffRow]
    analysis: list[DiffRow]
    meta: list[DiffRow]
    parameters: list[DiffRow]
    pixels: dict

    @property
    def changes(self) -> int:
        return sum(1 for rows in (self.fields, self.analysis, self.meta, self.parameters)
                   for r in rows if r.status != "same")


def file_compare(*, org_id: int, a_id: int, b_id: int) -> Comparison:
    """Compare two versions of the same product side by side: fields, JSON data and pixels."""
    a, b = load_file(org_id, a_id), load_file(org_id, b_id)
    if a.product_id != b.product_id:
        raise InvalidInput("Only files of the same product can be compared.")
    if a.version > b.version or (a.version == b.version and a.id > b.id):
        a, b = b, a
    return Comparison(a, b, diff(_field_values(a), _field_values(b), include_same=True),
                      diff(a.analysis, b.analysis), diff(a.meta, b.meta), diff(a.parameters, b.parameters),
                      _pixel_difference(a, b))
