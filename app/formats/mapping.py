"""Column suggestions: which header name holds which field, by name.

A header name is normalised once (camelCase split, case folded, ``#`` read as "number", trailing
"no"/"nr"/"num" read as "number"), then scored against each field's names: an exact name
(1.0, minus 0.01 per place down the field's list), a keyword inside a longer name (0.8 minus 0.01
per word), or a close spelling (rapidfuzz ratio of at least 85, times 0.6). Each field's names are
normalised once per target set, so suggesting costs O(columns x fields) with a small constant
(difflib took 39 s for 20,000 columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

FUZZY_CUTOFF = 85.0


def normalise(name: str) -> str:
    """Lower-case words of a header name: ``"Mfr. Part #"`` -> ``"mfr part number"``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip())
    name = name.casefold().replace("#", " number ").replace("&", " and ")
    words = re.findall(r"[^\W_]+", name)
    words = ["number" if w in ("num", "nr", "no") and i == len(words) - 1 else w for i, w in enumerate(words)]
    return " ".join(words)


def compact(name: str) -> str:
    """The normalised name without spaces: ``"Order No."`` and ``"OrderNumber"`` give the same key."""
    return normalise(name).replace(" ", "")


@dataclass(frozen=True)
class Targets:
    """Fields to suggest columns for, with their names normalised once."""

    fields: tuple[str, ...]
    exact: Mapping[str, Mapping[str, float]]  # field -> {compact name: score}
    keywords: Mapping[str, tuple[str, ...]]  # field -> " keyword " padded for a whole-word test
    fuzzy: Mapping[str, tuple[str, ...]]  # field -> compact names long enough to compare by spelling


def targets(synonyms: Mapping[str, Iterable[str]], keywords: Mapping[str, Iterable[str]]) -> Targets:
    """Targets from each field's names (best first) and the words that name it inside longer headers."""
    exact: dict[str, dict[str, float]] = {}
    fuzzy: dict[str, tuple[str, ...]] = {}
    for fld, names in synonyms.items():
        scores: dict[str, float] = {}
        for rank, name in enumerate(names):
            scores.setdefault(compact(name), 1.0 - 0.01 * rank)
        exact[fld] = scores
        fuzzy[fld] = tuple(compact(n) for n in names if len(normalise(n)) >= 4)
    padded = {fld: tuple(f" {normalise(k)} " for k in words) for fld, words in keywords.items()}
    return Targets(tuple(synonyms), exact, padded, fuzzy)


def score(target: Targets, fld: str, norm: str) -> float:
    """How well a normalised header name fits a field, 0 (not at all) to 1 (its first name)."""
    if not norm:
        return 0.0
    key = norm.replace(" ", "")
    exact = target.exact[fld].get(key)
    if exact is not None:
        return exact
    padded = f" {norm} "
    if any(k in padded for k in target.keywords.get(fld, ())):
        return 0.8 - 0.01 * len(norm.split())
    best = process.extractOne(key, target.fuzzy[fld], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    return 0.6 * best[1] / 100 if best else 0.0


def suggest_mapping(header: Iterable[str], target: Targets) -> dict[str, str]:
    """Map fields to header names; each name is used once, best matches first, leftmost on ties.

    Fields without a plausible column are left out.
    """
    candidates = []
    for column, name in enumerate(header):
        norm = normalise(name)
        for fld in target.fields:
            value = score(target, fld, norm)
            if value > 0:
                candidates.append((value, -column, fld, name))
    candidates.sort(reverse=True)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _value, _column, fld, name in candidates:
        if fld not in mapping and name not in used:
            mapping[fld] = name
            used.add(name)
    return {fld: mapping[fld] for fld in target.fields if fld in mapping}


def match_names(header: list[str], names: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Column index of each field whose names (in order of preference) occur in the header exactly.

    Names are compared by :func:`compact` key; the first column with a key wins.
    """
    by_key: dict[str, int] = {}
    for index, name in enumerate(header):
        by_key.setdefault(compact(name), index)
    found: dict[str, int] = {}
    for fld, options in names.items():
        index = next((by_key[k] for k in map(compact, options) if k in by_key), None)
        if index is not None:
            found[fld] = index
    return found
