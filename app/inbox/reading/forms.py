"""Word forms: one spelling for comparison, the singular candidates of a word, and word likeness.

Likeness is an edit distance on single words (rapidfuzz's optimal string alignment, so a swapped
pair of letters costs one), allowed to grow with the word: none under 4 letters, one up to 7,
two from 8. Two words are alike when any of their singular forms are.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from rapidfuzz.distance import OSA

_FOLD = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae", "ø": "o", "’": "'", "‘": "'", "`": "'", "ł": "l"})


@lru_cache(maxsize=20000)
def normal(word: str) -> str:
    """Lower case, no accents: 'Chaînes' -> 'chaines', 'Größe' -> 'grosse'."""
    folded = word.lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


_ENDINGS = (("ies", ("y",)), ("oes", ("ao", "o")), ("aes", ("ao", "a")), ("ais", ("al",)), ("eis", ("el",)),
            ("ves", ("f", "fe")), ("es", ("", "e")), ("en", ("", "e")), ("er", ("",)), ("s", ("",)), ("x", ("",)),
            ("n", ("",)), ("e", ("", "a")), ("i", ("o", "e", "")), ("he", ("a",)), ("chi", ("co", "ca")),
            ("ghi", ("go",)), ("ci", ("cio",)), ("gi", ("gio",)))


@lru_cache(maxsize=20000)
def stems(word: str) -> frozenset[str]:
    """The word and the singulars it may be a plural of, in any of the six languages."""
    out = {word}
    if len(word) < 4 or not word.isalpha():
        return frozenset(out)
    for ending, replacements in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            out.update(word[: -len(ending)] + r for r in replacements)
    return frozenset(out)


def allowed_edits(word: str) -> int:
    """How many edits a misspelt word of this length may carry and still count as the same word."""
    if len(word) < 4 or not word.isalpha():
        return 0
    return 1 if len(word) < 8 else 2


@lru_cache(maxsize=200000)
def likeness(a: str, b: str) -> float:
    """1.0 for the same word (or plural), 0.9 / 0.8 for one / two edits within the allowance, else 0."""
    if a == b:
        return 1.0
    sa, sb = stems(a), stems(b)
    if sa & sb:
        return 1.0
    if not a.isalpha() or not b.isalpha():
        return 0.0
    limit = min(allowed_edits(a), allowed_edits(b))
    if limit == 0 or a[0] != b[0] and limit < 2:
        return 0.0
    best = min(OSA.distance(x, y, score_cutoff=limit + 1) for x in sa for y in sb)
    if best > limit:
        return 0.0
    return 0.9 if best == 1 else 0.8


def fold(text: str) -> str:
    """`normal()` one character at a time, so positions in the result are positions in the text."""
    out = []
    for c in text:
        n = normal(c)
        out.append(n if len(n) == 1 else (n[:1] or c))
    return "".join(out)
