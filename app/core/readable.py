"""Stored JSON (phase results, log details, audit before/after) as labelled fields a person can read."""
from __future__ import annotations

import json
from typing import Any

NESTING = 3  # deeper objects are shown as one line of "Label: value" pairs


def label(key: Any) -> str:
    """`unit_cost` -> "Unit cost"."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_text(value: Any) -> str:
    """One value as words: lists joined, booleans as yes/no, nothing as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        separator = "; " if any(isinstance(v, dict | list) for v in value) else ", "
        return separator.join(value_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{label(k)}: {value_text(v)}" for k, v in value.items())
    return str(value)


def flat_fields(data: Any, prefix: str = "") -> dict[str, str]:
    """Labelled fields of a JSON object, nested objects flattened to "Outer › Inner" labels."""
    if not isinstance(data, dict):
        return {prefix or "Value": value_text(data)}
    fields: dict[str, str] = {}
    depth = prefix.count(" › ") + 1 if prefix else 0
    for key, value in data.items():
        name = f"{prefix} › {label(key)}" if prefix else label(key)
        if isinstance(value, dict) and value and depth < NESTING - 1:
            fields.update(flat_fields(value, name))
        else:
            fields[name] = value_text(value)
    return fields


def field_changes(before: Any, after: Any) -> list[tuple[str, str | None, str | None, bool]]:
    """(label, before, after, changed) for every field of either side, in the order they first appear."""
    old, new = flat_fields(before) if before else {}, flat_fields(after) if after else {}
    names = list(dict.fromkeys([*old, *new]))
    return [(name, old.get(name), new.get(name), old.get(name) != new.get(name)) for name in names]


def pretty_json(data: Any) -> str:
    """Indented JSON with characters as they are ("›", not "\\u203a"); the template escapes it for HTML."""
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)
