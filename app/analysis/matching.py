"""Match barcodes and recognised text against a product catalogue, and categorise free text.

How `match_text` scores an entry (0..100, higher is better):
  * GTIN printed in the text and equal to the entry's GTIN (normalised)   -> 100
  * SKU or model equal to a whole query text (ignoring case, spaces, -_/.) -> 100
  * SKU or model appearing as a token inside a query text                  -> 95
  * name or alias: mean of rapidfuzz token_set_ratio and WRatio on
    lower-cased text, times a coverage factor: the share of the name's
    telling words (three letters or more, not a size, count or filler word)
    found in the text, spelt alike (ratio >= 80). token_set alone gives 100
    to any query that is a subset of the name ("95" in "Lidl cat food 95",
    "500g" in "Pasta 500g"); coverage keeps such crumbs from naming a product:
    factor = COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage              -> 0..100
  * brand: token_set_ratio scaled by 0.6, because a brand alone says little -> 0..60
The entry's score is its best field's score, plus 5 (capped at 100) when the brand also
appears in the text and the best field is the name or an alias. Entries below min_score
are dropped; ties keep catalogue order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from app.analysis.barcodes import normalise_gtin

BRAND_WEIGHT = 0.6
BRAND_BONUS = 5
COVERAGE_FLOOR = 0.5
_FILLER = {"the", "and", "with", "for", "set", "pcs", "pack", "new", "bulk", "size"}
_SIZE = re.compile(r"^\d+[a-z]{0,3}$")  # 95, 500g, 16cm, 10pcs
_CODE_JUNK = re.compile(r"[\s\-_/.]+")
_DIGIT_RUN = re.compile(r"\d[\d ]{6,16}\d")


@dataclass(frozen=True)
class CatalogueEntry:
    """A product as the matcher sees it; `key` is whatever the caller uses to find it again."""

    key: object
    name: str
    sku: str | None = None
    brand: str | None = None
    gtin: str | None = None
    category: str | None = None
    model: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A candidate entry, its score 0..100, and which field and text produced that score."""

    entry: CatalogueEntry
    score: float
    matched_field: str
    matched_text: str


@dataclass(frozen=True)
class KeywordRule:
    """Text containing any of `keywords` belongs to `category`."""

    category: str
    keywords: tuple[str, ...]


def match_gtin(gtin: str, entries: Iterable[CatalogueEntry]) -> list[CatalogueEntry]:
    """Return entries whose GTIN equals gtin once both are normalised to 13 digits."""
    wanted = normalise_gtin(gtin)
    if wanted is None:
        return []
    return [e for e in entries if e.gtin and normalise_gtin(e.gtin) == wanted]


def match_text(
    query_texts: list[str], entries: Iterable[CatalogueEntry], limit: int = 5, *, min_score: float = 60
) -> list[Match]:
    """Rank catalogue entries against text (OCR lines, a title); see the module doc for scoring."""
    queries = [q for q in (" ".join(t.split()) for t in query_texts) if q]
    if not queries:
        return []
    joined = " ".join(queries)
    gtins = _gtins_in(joined)
    words = sorted(set(default_process(joined).split()))
    matches = [m for m in (_score_entry(e, queries, joined, gtins, words) for e in entries) if m]
    matches = [m for m in matches if m.score >= min_score]
    matches.sort(key=lambda m: -m.score)  # stable sort keeps catalogue order for ties
    return matches[:limit]


def categorise(text: str, rules: Sequence[KeywordRule], *, fuzzy_threshold: float = 85) -> tuple[str | None, str]:
    """Return (category, reason) from whole-word keyword hits, else close spellings, else None."""
    exact = _exact_keyword(text, rules)
    if exact is not None:
        rule, keyword = exact
        return rule.category, f'keyword "{keyword}" found (rule {rule.category})'
    fuzzy = _fuzzy_keyword(text, rules, fuzzy_threshold)
    if fuzzy is not None:
        rule, keyword, words, score = fuzzy
        return rule.category, f'"{words}" is close to keyword "{keyword}" (score {score:.0f}, rule {rule.category})'
    return None, "no keyword matched"


def _score_entry(entry: CatalogueEntry, queries: list[str], joined: str, gtins: set[str],
                 words: list[str]) -> Match | None:
    candidates: list[tuple[float, str, str]] = []
    if entry.gtin and normalise_gtin(entry.gtin) in gtins:
        candidates.append((100.0, "gtin", entry.gtin))
    for field_name in ("sku", "model"):
        code = getattr(entry, field_name)
        if code:
            candidates.append((_code_score(code, queries, joined), field_name, code))
    for field_name, value in [("name", entry.name)] + [("alias", a) for a in entry.aliases]:
        if value:
            candidates.append((_name_score(value, queries) * _coverage_factor(value, words), field_name, value))
    brand_score = _brand_score(entry.brand, queries) if entry.brand else 0.0
    if entry.brand:
        candidates.append((brand_score * BRAND_WEIGHT, "brand", entry.brand))
    score, field_name, value = max(candidates, key=lambda c: c[0])
    if field_name in ("name", "alias") and brand_score >= 90:
        score = min(100.0, score + BRAND_BONUS)
    return Match(entry=entry, score=round(score, 1), matched_field=field_name, matched_text=value)


def _code_score(code: str, queries: list[str], joined: str) -> float:
    wanted = _CODE_JUNK.sub("", code).lower()
    if not wanted:
        return 0.0
    if any(_CODE_JUNK.sub("", q).lower() == wanted for q in queries):
        return 100.0
    # Whole-token containment: "SKU AB-123 blue" holds "AB-123", but "AB-1234" does not.
    if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", joined, re.IGNORECASE):
        return 95.0
    return 0.0


def _name_score(value: str, queries: list[str]) -> float:
    best = process.extractOne(value, queries, scorer=_blend, processor=default_process)
    return float(best[1]) if best else 0.0


def _coverage_factor(value: str, words: list[str]) -> float:
    """COVERAGE_FLOOR..1: how many of the name's telling words the text holds (see the module doc)."""
    telling = [t for t in default_process(value).split()
               if len(t) >= 3 and t not in _FILLER and not _SIZE.match(t)]
    if not telling:
        return 1.0
    found = sum(1 for t in telling if process.extractOne(t, words, scorer=fuzz.ratio, score_cutoff=80))
    return COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * found / len(telling)


def _blend(a: str, b: str, **kwargs) -> float:
    return (fuzz.token_set_ratio(a, b, **kwargs) + fuzz.WRatio(a, b, **kwargs)) / 2


def _brand_score(brand: str, queries: list[str]) -> float:
    best = process.extractOne(brand, queries, scorer=fuzz.token_set_ratio, processor=default_process)
    return float(best[1]) if best else 0.0


def _gtins_in(text: str) -> set[str]:
    found = set()
    for run in _DIGIT_RUN.findall(text):
        gtin = normalise_gtin(run.replace(" ", ""))
        if gtin:
            found.add(gtin)
    return found


@lru_cache(maxsize=4096)
def keyword_pattern(keyword: str) -> re.Pattern:
    """Whole words only ("ring" must not match "earring"); an optional plural s/es.

    Compiled once per process (the worker parent compiles the rules it finds at start, see
    app.warmup): compiling every rule's pattern again cost each analysis job about 10 ms."""
    return re.compile(rf"\b{re.escape(keyword.strip())}(?:s|es)?\b", re.IGNORECASE)


def _exact_keyword(text: str, rules: Sequence[KeywordRule]) -> tuple[KeywordRule, str] | None:
    best: tuple[KeywordRule, str] | None = None
    for rule in rules:
        for keyword in rule.keywords:
            # The longest hit wins: "bracelet chain" is more specific than "chain".
            if keyword_pattern(keyword).search(text) and (best is None or len(keyword) > len(best[1])):
                best = (rule, keyword)
    return best


def _fuzzy_keyword(
    text: str, rules: Sequence[KeywordRule], threshold: float
) -> tuple[KeywordRule, str, str, float] | None:
    words = re.findall(r"\w+", text.lower())
    best: tuple[KeywordRule, str, str, float] | None = None
    for rule in rules:
        for keyword in rule.keywords:
            size = len(keyword.split())
            # Short words are too easy to hit by accident ("cap" ~ "car"), so they need exact hits.
            if len(keyword) < 5:
                continue
            for i in range(len(words) - size + 1):
                window = " ".join(words[i : i + size])
                score = fuzz.ratio(keyword.lower(), window)
                if score >= threshold and (best is None or score > best[3]):
                    best = (rule, keyword, window, score)
    return best
