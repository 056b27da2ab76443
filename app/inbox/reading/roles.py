"""The role of each word token: number word, unit, "of", "and", filler, vague amount, or product word.

Phrases are looked up longest first ("half a dozen" before "a"), on words as `normal()` leaves them.
A unit word that is also part of a catalogue name ("box chain", "bag charm") stays a product word
when the next word continues that name.
"""
from __future__ import annotations

from app.inbox.reading import words
from app.inbox.reading.forms import likeness
from app.inbox.reading.tokens import Token

_PHRASES: dict[str, tuple[str, object]] = {}
for _table, _kind in ((words.NUMBERS, "numword"), (words.WEAK_NUMBERS, "weak")):
    for _phrase, _value in _table.items():
        _PHRASES.setdefault(_phrase, (_kind, _value))
for _set, _kind in ((words.VAGUE, "vague"), (words.APPROX, "approx"), (words.QTY_MARK, "qtymark"),
                    (words.OR, "or"), (words.AND, "and"), (words.OF, "of"), (words.FILLER, "filler")):
    for _phrase in _set:
        _PHRASES.setdefault(_phrase, (_kind, None))
for _word, _unit in words.UNITS.items():
    if _PHRASES.get(_word, ("", None))[0] in ("", "filler", "of"):
        _PHRASES[_word] = ("unit", _unit)
_PHRASES["x"] = ("mult", "x")
_PHRASES["by"] = ("filler", None)
_GOLD_BEFORE = {"plaque", "plaquee", "plaques", "plaquees", "en", "d", "dore", "jaune", "rose", "blanc"}
_LONGEST = max(len(p.split()) for p in _PHRASES)


# Words that only their accent tells from a small word: French "thé", Italian "tè" are tea, not "the" / "te".
ACCENTED = {"thé": "tea", "tè": "tea", "té": "tea", "chá": "tea", "café": "coffee", "caffè": "coffee"}


def assign(tokens: list[Token], bigrams: set[tuple[str, str]] = frozenset(),
           vocabulary: frozenset[str] | set[str] = frozenset()) -> list[Token]:
    """Give every word token its role; several words of one phrase become one token."""
    for token in tokens:
        if token.kind == "word" and token.text.lower() in ACCENTED:
            token.norm = ACCENTED[token.text.lower()]
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind != "word":
            out.append(token)
            i += 1
            continue
        found = _longest(tokens, i)
        if found is None:
            out.append(token)
            i += 1
            continue
        size, (kind, value) = found
        if kind == "filler" and size == 1 and token.norm in vocabulary:
            kind, value = "word", None  # "shipping labels": a catalogue word first
        last = tokens[i + size - 1]
        out.append(Token(" ".join(t.text for t in tokens[i:i + size]), token.start, last.end, kind,
                         " ".join(t.norm for t in tokens[i:i + size]), value))
        i += size
    return _product_units(out, bigrams)


def _longest(tokens: list[Token], i: int) -> tuple[int, tuple[str, object]] | None:
    for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
        group = tokens[i:i + size]
        if any(t.kind != "word" for t in group):
            continue
        found = _PHRASES.get(" ".join(t.norm for t in group))
        if found is not None:
            return size, found
    word = tokens[i].norm
    if word.endswith("s") and words.NUMBERS.get(word[:-1]):  # "quatres", "cincos": a number, plural by mistake
        return 1, ("numword", words.NUMBERS[word[:-1]])
    return None


def _product_units(tokens: list[Token], bigrams) -> list[Token]:
    for n, token in enumerate(tokens):
        if token.kind == "or" and token.norm == "or" and n and tokens[n - 1].norm in _GOLD_BEFORE:
            token.kind = "word"  # French gold: "plaqué or", "en or"
    for n, token in enumerate(tokens[:-1]):
        following = tokens[n + 1]
        if token.kind in ("unit", "of") and following.kind == "word" \
                and any(a == token.norm and likeness(b, following.norm) >= 0.9 for a, b in bigrams):
            token.kind, token.value = "word", None
    return tokens
