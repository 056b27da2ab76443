"""JSON documents within depth and size limits, with errors that say where the file is broken."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from app.formats.errors import JsonRejected, JsonSyntaxError

#: Deepest nesting accepted; exports are a few levels deep, and Python's parser recurses per level.
MAX_DEPTH = 32
#: Most characters parsed (about 20 MB of text).
MAX_CHARS = 20 * 1024 * 1024


def _too_deep(limit: int) -> JsonRejected:
    return JsonRejected(
        f"The JSON is nested more than {limit} levels deep (an export is a few levels deep); check that this is the right file."
    )


def _syntax_detail(text: str, exc: json.JSONDecodeError) -> str:
    end = len(text.rstrip())
    hint = ""
    if exc.pos >= end - 1 or exc.msg.startswith("Unterminated"):
        last_line = text[:end].count("\n") + 1
        last_col = end - text[:end].rfind("\n")
        hint = f"; the file ends at line {last_line}, column {last_col} - it looks cut off"
    return f"{exc.msg} (line {exc.lineno}, column {exc.colno}){hint}"


def depth(doc: Any, limit: int | None = None) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), stopping once it passes ``limit``."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if limit is not None and deepest > limit:
            break
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def load_json(text: str, *, max_depth: int = MAX_DEPTH, max_chars: int = MAX_CHARS) -> Any:
    """Parse JSON text with numbers that have a fraction as ``Decimal``.

    Raises :class:`JsonSyntaxError` with the line and column of a syntax error, and
    :class:`JsonRejected` for a document that is too large or too deeply nested.
    """
    if len(text) > max_chars:
        raise JsonRejected(f"The file has more than {max_chars:,} characters; split it into smaller files.")
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(_syntax_detail(text, exc), line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        # The C parser recurses once per level and stops at the interpreter's limit (about 1,000).
        raise _too_deep(max_depth) from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise JsonRejected(f"The file holds a value that cannot be read ({exc}).") from None
    if depth(doc, max_depth) > max_depth:
        raise _too_deep(max_depth)
    return doc
