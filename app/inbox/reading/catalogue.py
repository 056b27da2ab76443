"""The catalogue as the reader sees it, and the match of a customer's product words to one of its rows.

Titles and aliases are cut into words (singular, no accents) and size words ("45cm", "100pcs").
A customer's words are translated (app.inbox.reading.lexicon) and compared word by word
(app.inbox.reading.forms.likeness, so typos and plurals count), each word weighted by how rare
it is in the catalogue. A row wins when it holds the customer's words better than every other
row; rows that differ only by a size the customer did not give are a tie, and a tie is never
decided here: it goes to a person with the candidates.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product

from rapidfuzz import fuzz, process

from app.analysis.matching import CatalogueEntry
from app.inbox.reading import words
from app.inbox.reading.forms import likeness, normal, stems
from app.inbox.reading.lexicon import TRANSLATIONS
from app.inbox.reading.tokens import tokenize

NOT_PRODUCT = words.FILLER | words.OF | words.ARTICLES | words.AND | frozenset({"with", "for", "and"})
GENERIC = frozenset(part for meanings in TRANSLATIONS.values() for e in meanings for part in e.split())
TITLE_SMALL = words.OF | words.ARTICLES | words.AND | frozenset({"with", "for", "to", "in", "on", "by", "at", "from"})
MIN_SHARE = 0.5  # share of the customer's known words a row must hold to be named at all
TIE = 0.05
UNKNOWN_WORD = 21  # a word the catalogue does not know, inside the product words: enough to need a person
FAMILY = 6  # words that fit more rows than this, told apart by a size alone, are too thin for one click


@dataclass
class Row:
    entry: CatalogueEntry
    words: tuple[str, ...]
    sizes: frozenset[str]
    aliases: tuple[tuple[str, ...], ...]
    code: str


@dataclass
class ProductMatch:
    """What a line's product words name: one row (entry) or none, with the candidates a person may pick."""

    entry: CatalogueEntry | None
    confidence: int
    method: str
    candidates: list[dict] = field(default_factory=list)
    reason: str = ""
    unknown_words: list[str] = field(default_factory=list)


def _title_tokens(text: str) -> tuple[list[str], set[str]]:
    plain, sizes = [], set()
    tokens = tokenize(text)
    for n, token in enumerate(tokens):
        after = tokens[n + 1] if n + 1 < len(tokens) else None
        if token.kind == "size":
            sizes.add(str(token.value))
        elif token.kind == "num":
            pack = after is not None and after.kind == "unit" and after.start == token.end
            sizes.add(f"{token.norm}{after.norm}" if pack else token.norm)
        elif token.kind == "unit" and n and tokens[n - 1].kind == "num" and tokens[n - 1].end == token.start:
            continue
        elif token.kind in ("word", "sku", "unit") and token.norm not in TITLE_SMALL:
            plain.append(token.norm)
    return plain, sizes


class Catalogue:
    """Rows, their vocabulary and how rare each word is."""

    def __init__(self, entries: list[CatalogueEntry]):
        self.rows: list[Row] = []
        for entry in entries:
            plain, sizes = _title_tokens(entry.name)
            aliases = tuple(tuple(_title_tokens(a)[0]) for a in entry.aliases if a.strip())
            code = re.sub(r"[-_/.\s]", "", normal(entry.sku or ""))
            self.rows.append(Row(entry, tuple(plain), frozenset(sizes), aliases, code))
        counts: dict[str, int] = {}
        for row in self.rows:
            for word in set(row.words) | {w for alias in row.aliases for w in alias}:
                counts[word] = counts.get(word, 0) + 1
        n = max(1, len(self.rows))
        self.idf = {w: math.log(1 + n / c) for w, c in counts.items()}
        # words are matched one by one against titles only; an alias counts as a whole ("alphabet charms
        # small" must not make every "small" a product)
        self.vocabulary = tuple(sorted({w for row in self.rows for w in row.words}))
        self.alias_words = frozenset(w for row in self.rows for alias in row.aliases for w in alias
                                     if w not in self.vocabulary and w not in GENERIC)
        self.variants = frozenset(s for row in self.rows for s in row.sizes if not s.isdigit())
        # bare numbers that name products ("925" silver, a model number) are never quantities
        self.title_numbers = frozenset(s for row in self.rows for s in row.sizes if s.isdigit() and int(s) >= 100)
        self.bigrams = {(a, b) for row in self.rows for a, b in zip(row.words, row.words[1:])}

    @cached_property
    def by_code(self) -> dict[str, Row]:
        return {row.code: row for row in self.rows if row.code}

    def meanings(self, word: str) -> set[str]:
        """The catalogue words a customer's word may stand for (itself, its translations), by likeness."""
        found = {v for v in self.vocabulary if likeness(word, v) >= 0.8}
        # a translation is spelt right: only its own word or plural counts, not a near spelling
        return found | {v for v in self.vocabulary for e in _translate(word) for part in e.split()
                        if likeness(part, v) == 1.0}

    def parts(self, word: str) -> list[tuple[str, set[str]]]:
        """The word with its meanings, or a compound's two halves with theirs ("Schlangen" + "ketten")."""
        found = self.meanings(word)
        if not found and "-" in word.strip("-"):  # "double-loop", "Sternzeichen-Münzanhänger"
            return [p for piece in word.split("-") if piece for p in self.parts(piece)]
        if found or len(word) < 8 or not word.isalpha():
            return [(word, found)]
        for cut in range(4, len(word) - 3):
            head, tail = word[:cut], word[cut:]
            for joint in ("", "n", "s", "en", "e"):
                if joint and not head.endswith(joint):
                    continue
                stem = head[: len(head) - len(joint)] if joint else head
                left = self.meanings(stem) or (set() if joint else self.meanings(stem + "e"))  # Münz(e)anhänger
                right = self.meanings(tail) if left else set()
                if left and right:
                    return [(head, left), (tail, right)]
        return [(word, found)]

    def knows(self, word: str) -> bool:
        """A word close to a catalogue word (in any of the six languages) or a unit."""
        w = normal(word)
        if w in NOT_PRODUCT or len(w) < 3:
            return w in self.vocabulary
        return w in words.UNITS or w in self.alias_words or any(m for _, m in self.parts(w))


def _translate(word: str) -> tuple[str, ...]:
    forms = sorted(stems(word), key=len, reverse=True)
    # adjectives agree: "noires" -> "noir", "brancas" -> "branco", "nere" -> "nero"
    forms += [f[:-1] + ending for f in forms if f[-1:] in ("a", "e") and len(f) > 3 for ending in ("o", "")]
    for stem in forms:
        if stem in TRANSLATIONS:
            return TRANSLATIONS[stem]
    return ()


def phrase_words(catalogue: Catalogue, tokens: list[str]) -> list[tuple[str, set[str]]]:
    """Each customer word (or translated phrase) with the catalogue words it may mean; small words dropped."""
    out: list[tuple[str, set[str]]] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2):
            english = _phrase(tokens[i:i + size]) if i + size <= len(tokens) else ()
            if english:
                meant = {v for e in english for part in e.split() for v in catalogue.vocabulary
                         if likeness(part, v) == 1.0}
                out.append((" ".join(tokens[i:i + size]), meant))
                i += size
                break
        else:
            joined = tokens[i] + tokens[i + 1] if i + 1 < len(tokens) else ""
            if len(joined) >= 7 and any(likeness(joined, v) >= 0.9 for v in catalogue.vocabulary):
                out.append((f"{tokens[i]} {tokens[i + 1]}", catalogue.meanings(joined)))  # "hypo allergenic"
                i += 2
                continue
            if tokens[i] not in NOT_PRODUCT or tokens[i] in catalogue.idf:
                out.extend(catalogue.parts(tokens[i]))
            i += 1
    return out


def _phrase(tokens: list[str]) -> tuple[str, ...]:
    for combo in product(*(sorted(stems(t)) for t in tokens)):
        found = TRANSLATIONS.get(" ".join(combo))
        if found:
            return found
    return ()


@dataclass
class _Score:
    row: Row
    share: float  # of the customer's known words, weighted by rarity, held by the row (typos count less)
    sizes: int  # 1 the customer's sizes are the row's, 0 no size said, -1 the row has other sizes
    cover: float  # of the row's words, weighted, that the customer said


def _score(catalogue: Catalogue, row: Row, known: list[tuple[str, set[str]]], sizes: set[str]) -> _Score:
    total = held = 0.0
    said: set[str] = set()
    for word, meant in known:
        weight = max(catalogue.idf.get(m, 1.0) for m in meant)
        total += weight
        best = 0.0
        for m in meant:
            if m in row.words or any(m in alias for alias in row.aliases):
                best = max(best, _closeness(word, m))
                said.add(m)
        held += weight * best
    share = held / total if total else 0.0
    if sizes:
        agree = 1 if sizes <= row.sizes else -1
    else:
        agree = 0
    row_weight = sum(catalogue.idf.get(w, 1.0) for w in set(row.words)) or 1.0
    cover = sum(catalogue.idf.get(w, 1.0) for w in set(row.words) & said) / row_weight
    return _Score(row, share, agree, cover)


def _closeness(word: str, meant: str) -> float:
    direct = max((likeness(part, meant) for part in word.split()), default=0.0)
    return direct if direct >= 0.8 else 0.95  # reached through a translation


def candidates(catalogue: Catalogue, text: str, limit: int = 3) -> list[dict]:
    """The rows nearest to some words, by whole-string likeness: what a person may pick from."""
    choices = {n: row.entry.name for n, row in enumerate(catalogue.rows)}
    found = process.extract(text, choices, scorer=fuzz.WRatio, limit=limit)
    return [{"sku": catalogue.rows[key].entry.sku, "title": title, "score": round(score)}
            for title, score, key in found if score >= 40]


def match(catalogue: Catalogue, tokens: list[str], sizes: set[str], codes: list[str]) -> ProductMatch:
    """The row that a line's product words (normalised), size words and code-like words name."""
    for code in codes:
        row = catalogue.by_code.get(re.sub(r"[-_/.\s]", "", code))
        if row is not None:
            return ProductMatch(row.entry, 100, "sku")
    # a code that is no SKU may still be a word of a title ("A5 notebook")
    phrase = [t for t in tokens if t] + [c for c in codes if c in catalogue.idf]
    codes = [c for c in codes if c not in catalogue.idf]
    alias = _alias(catalogue, phrase)
    if alias is not None:
        return alias
    parts = phrase_words(catalogue, phrase)
    known = [(w, m) for w, m in parts if m]
    unknown = [w for w, m in parts if not m and not w.isdigit()]
    if not known:
        reason = "The product words match nothing in the catalogue." if phrase or codes else "No product named."
        text = " ".join(phrase + codes)
        return ProductMatch(None, 0, "none", candidates(catalogue, text) if text else [], reason, unknown)
    if len(unknown) >= len(known):  # "trois étoiles filantes dorées": one known word among strangers
        return ProductMatch(None, 0, "none", candidates(catalogue, " ".join(phrase)),
                            "Most of these words are not in the catalogue.", unknown)
    scores = sorted((_score(catalogue, row, known, sizes) for row in catalogue.rows),
                    key=lambda s: (-s.share, -s.sizes, -s.cover))
    return _decide(catalogue, scores, unknown, " ".join(phrase + sorted(sizes)))


def _alias(catalogue: Catalogue, phrase: list[str]) -> ProductMatch | None:
    if not phrase:
        return None
    hits = [row for row in catalogue.rows for alias in row.aliases
            if alias and len(alias) <= len(phrase) + 1
            and all(any(likeness(a, p) >= 0.9 for p in phrase) for a in alias)
            and sum(1 for p in phrase if any(likeness(a, p) >= 0.9 for a in alias)) >= len(phrase) - 1]
    keys = {id(row) for row in hits}
    if len(keys) == 1:
        return ProductMatch(hits[0].entry, 95, "alias")
    if len(keys) > 1:
        return ProductMatch(None, 0, "alias", [{"sku": r.entry.sku, "title": r.entry.name, "score": 95}
                                               for r in hits[:5]], "Several products have this name.")
    return None


def _decide(catalogue: Catalogue, scores: list[_Score], unknown: list[str], text: str) -> ProductMatch:
    best = scores[0]
    listed = [{"sku": s.row.entry.sku, "title": s.row.entry.name, "score": round(100 * s.share)}
              for s in scores[:5] if s.share > 0]
    if best.share < MIN_SHARE:
        return ProductMatch(None, 0, "none", listed[:3] or candidates(catalogue, text),
                            "No product holds enough of these words.", unknown)
    rivals = [s for s in scores[1:] if s.share >= best.share - TIE and s.sizes == best.sizes
              and s.cover >= best.cover - 0.2]
    if best.sizes < 0 or rivals:
        why = ("The size asked for is not in the catalogue." if best.sizes < 0
               else "Several products fit these words; a size or a detail is missing.")
        return ProductMatch(None, 0, "ambiguous", listed[:5], why, unknown)
    confidence = 100 * best.share - UNKNOWN_WORD * len(unknown)
    family = sum(1 for s in scores if s.share >= best.share - TIE)
    if family > FAMILY:
        confidence = min(confidence, 75)  # "earring 2mm": a generic word and a size, not a product name
    runner = scores[1] if len(scores) > 1 else None
    if runner is not None and best.share - runner.share < 0.15 and runner.sizes >= best.sizes \
            and runner.cover >= best.cover - 0.3:
        confidence -= 15
    return ProductMatch(best.row.entry, int(max(0, min(100, round(confidence)))), "words", listed[1:4],
                        "", unknown)
