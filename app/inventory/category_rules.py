"""Keyword rules that put supplier products into a category tree.

Rules are plain data (``{"path": ..., "keywords": [...], "priority": int}``) so they can be
stored per organisation and edited by users. :data:`DEFAULT_RULES` is the starting set for a
jewellery-supplies shop. Pure Python: no Flask, no database.

Matching, in order:

1. Keywords are matched on whole words, case- and accent-insensitively, with simple plurals
   folded ("Charms" matches ``charm``, "Earring Hooks" matches ``earring hook``).
   When several rules match, the highest ``priority`` wins; between equal priorities the
   longest keyword (most words, then most letters) wins; then the rule listed first.
2. Otherwise a fuzzy comparison (rapidfuzz) of each keyword with the same number of words
   in the title catches misspellings ("Braclet Chain"); the best score at or above the
   threshold wins, priority breaking ties.
3. Otherwise the decision has ``path=None`` and reason ``"no rule matched"``.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

PATH_SEPARATOR = " › "
DEFAULT_FUZZY_THRESHOLD = 85.0
NO_MATCH_REASON = "no rule matched"
_MIN_FUZZY_KEYWORD_LENGTH = 5

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "path": "Accessories › Bag Accessories",
        "keywords": [
            "bag charm",
            "bag pendant",
            "bag accessory",
            "bag chain",
            "bag strap",
            "bag decoration",
            "purse strap",
            "purse chain",
            "purse",
            "handbag",
            "keychain",
            "key chain",
            "key ring",
            "keyring",
        ],
        "priority": 90,
    },
    {
        "path": "Findings › Carabiners",
        "keywords": [
            "carabiner",
            "lobster clasp",
            "lobster claw",
            "snap hook",
            "trigger clasp",
        ],
        "priority": 80,
    },
    {
        "path": "Findings › Connectors",
        "keywords": ["connector", "double loop connector", "link connector"],
        "priority": 80,
    },
    {
        "path": "Earrings › Components",
        "keywords": [
            "earring hook",
            "ear hook",
            "ear wire",
            "french hook",
            "earring post",
            "ear stud",
            "earring back",
            "ear nut",
            "lever back",
            "leverback",
            "huggie",
            "hoop earring",
            "earring finding",
            "earring component",
            "earring",
        ],
        "priority": 70,
    },
    {
        "path": "Chains › Necklace Chains",
        "keywords": [
            "necklace chain",
            "chain necklace",
            "chain for necklace",
            "necklace",
            "choker",
        ],
        "priority": 60,
    },
    {
        "path": "Chains › Bracelet Chains",
        "keywords": [
            "bracelet chain",
            "chain bracelet",
            "chain for bracelet",
            "bracelet",
            "anklet",
        ],
        "priority": 60,
    },
    {
        "path": "Charms › Pendants",
        "keywords": [
            "charm pendant",
            "pendant charm",
            "drop charm",
            "letter charm",
            "charm",
            "pendant",
        ],
        "priority": 50,
    },
    {
        "path": "Components › Miscellaneous",
        "keywords": [
            "jump ring",
            "split ring",
            "spacer bead",
            "crimp bead",
            "crimp",
            "bead cap",
            "end cap",
            "head pin",
            "headpin",
            "eye pin",
            "jewelry making",
            "jewellery making",
            "bead",
        ],
        "priority": 40,
    },
]


def default_rule_dicts() -> list[dict[str, Any]]:
    """A fresh copy of :data:`DEFAULT_RULES`, e.g. to seed an organisation's rules."""
    return copy.deepcopy(DEFAULT_RULES)


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith("ss") or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    return word[:-1]


def tokenize(text: str) -> tuple[str, ...]:
    """Lower-case words without accents, plurals folded: ``"Earring Hooks"`` -> ``("earring", "hook")``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_singular(w) for w in re.findall(r"[^\W_]+", stripped))


def normalize_path(path: str) -> str:
    """``"Chains > Bracelet Chains"`` or ``"Chains›Bracelet Chains"`` -> ``"Chains › Bracelet Chains"``."""
    parts = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"[›>]", path)]
    if not parts or not all(parts):
        raise ValueError(f"category path {path!r} has an empty level")
    return PATH_SEPARATOR.join(parts)


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRule:
    path: str
    keywords: tuple[str, ...]
    priority: int = 0
    _tokens: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tokens", tuple(tokenize(k) for k in self.keywords))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "keywords": list(self.keywords),
            "priority": self.priority,
        }


@dataclass(frozen=True)
class CategoryDecision:
    path: str | None
    reason: str
    score: float  # 1.0 for a keyword match, rapidfuzz ratio / 100 for a fuzzy one, 0.0 for none


def rules_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[CategoryRule]:
    """Validate rule dicts (as stored or edited by users) and build :class:`CategoryRule` objects.

    ``keywords`` may be a list or a comma-separated string; ``priority`` defaults to 0; other
    keys (an ``id`` from the database...) are ignored. Raises ``ValueError`` naming the rule.
    """
    rules: list[CategoryRule] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise TypeError(
                f"rule {index}: expected a mapping, got {type(item).__name__}"
            )
        path = item.get("path")
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f"rule {index}: 'path' must be a non-empty text")
        try:
            path = normalize_path(path)
        except ValueError as exc:
            raise ValueError(f"rule {index}: {exc}") from None
        raw_keywords = item.get("keywords")
        if isinstance(raw_keywords, str):
            raw_keywords = raw_keywords.split(",")
        if not isinstance(raw_keywords, (list, tuple)) or not all(
            isinstance(k, str) for k in raw_keywords
        ):
            raise ValueError(
                f"rule {index} ({path}): 'keywords' must be a list of texts"
            )
        keywords: list[str] = []
        for keyword in raw_keywords:
            keyword = re.sub(r"\s+", " ", keyword).strip()
            if keyword and tokenize(keyword) and keyword not in keywords:
                keywords.append(keyword)
        if not keywords:
            raise ValueError(f"rule {index} ({path}): needs at least one keyword")
        raw_priority = item.get("priority", 0)
        try:
            if isinstance(raw_priority, (bool, float)):
                raise TypeError
            priority = int(raw_priority)
        except (TypeError, ValueError):
            message = f"rule {index} ({path}): 'priority' must be a whole number"
            raise ValueError(message) from None
        rules.append(
            CategoryRule(path=path, keywords=tuple(keywords), priority=priority)
        )
    return rules


def _as_rules(
    rules: Iterable[CategoryRule | Mapping[str, Any]] | None,
) -> list[CategoryRule]:
    if rules is None:
        return _DEFAULT_COMPILED
    rules = list(rules)
    if all(isinstance(r, CategoryRule) for r in rules):
        return rules  # type: ignore[return-value]
    return [
        r if isinstance(r, CategoryRule) else rules_from_dicts([r])[0] for r in rules
    ]


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def assign_category(
    title: str,
    rules: Iterable[CategoryRule | Mapping[str, Any]] | None = None,
    *,
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
) -> CategoryDecision:
    """Choose a category path for a product title (``rules`` defaults to :data:`DEFAULT_RULES`)."""
    compiled = _as_rules(rules)
    words = tokenize(title or "")
    if not words:
        return CategoryDecision(None, NO_MATCH_REASON, 0.0)

    best: tuple[Any, ...] | None = None
    for order, rule in enumerate(compiled):
        for keyword, tokens in zip(rule.keywords, rule._tokens):
            if tokens and _contains(words, tokens):
                key = (rule.priority, len(tokens), len("".join(tokens)), -order)
                if best is None or key > best[0]:
                    best = (key, rule, keyword)
    if best is not None:
        _, rule, keyword = best
        return CategoryDecision(
            rule.path, f"keyword {keyword!r} (priority {rule.priority})", 1.0
        )

    fuzzy: tuple[Any, ...] | None = None
    for order, rule in enumerate(compiled):
        for keyword, tokens in zip(rule.keywords, rule._tokens):
            target = " ".join(tokens)
            n = len(tokens)
            if len(target) < _MIN_FUZZY_KEYWORD_LENGTH or n > len(words):
                continue
            for i in range(len(words) - n + 1):
                window = " ".join(words[i : i + n])
                score = fuzz.ratio(window, target, score_cutoff=fuzzy_threshold)
                if score:
                    key = (score, rule.priority, -order)
                    if fuzzy is None or key > fuzzy[0]:
                        fuzzy = (key, rule, keyword, window)
    if fuzzy is not None:
        (score, _, _), rule, keyword, window = fuzzy
        return CategoryDecision(
            rule.path,
            f"similar to keyword {keyword!r}: {window!r} ({score:.0f}%, priority {rule.priority})",
            round(score / 100, 3),
        )
    return CategoryDecision(None, NO_MATCH_REASON, 0.0)


_DEFAULT_COMPILED = rules_from_dicts(DEFAULT_RULES)
