"""What a sentence is: an order, a question, a cancellation, a complaint, "the usual", or a greeting.

Cues are matched as whole words on the sentence as `fold()` leaves it. A question that asks us to
send something ("Could you send me 3 …?") is an order; one about prices is a question whatever
else it says; stock and opening-hours words make a question only with a question mark or a
question opening.
"""
from __future__ import annotations

import re
from functools import lru_cache

from app.inbox.reading import words
from app.inbox.reading.forms import fold

PRICE_CUES = ("price", "prices", "pricing", "cost", "costs", "how much", "quote", "prix", "tarif", "tarifs", "combien",
              "coute", "coutent", "precio", "precios", "cuanto cuesta", "cuanto cuestan", "cuanto vale", "cuesta",
              "cuestan", "preis", "preise", "kostet", "kosten", "was kostet", "wie viel kostet", "wie teuer",
              "prezzo", "prezzi", "quanto costa", "quanto costano", "costano", "preco", "precos", "quanto custa",
              "custa", "custam")
COMPLAINTS = tuple(c for c in words.COMPLAINT_CUES if c not in ("arrived", "falta", "faltan", "manque", "manca",
                                                                 "mancano", "fehlt", "fehlen", "falsch", "faltam",
                                                                 "faltou"))


@lru_cache(maxsize=64)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
                      + r")(?![\w])")


def has(text: str, cues: tuple[str, ...]) -> bool:
    """Whether any cue stands in the text as whole words."""
    return bool(_cue_pattern(tuple(cues)).search(text))


def sentence_kind(sentence: str) -> str:
    """order, question, ask (a question without price, stock or opening-hours words: an order when it names
    products with a quantity or a request), cancellation, complaint, usual or greeting."""
    text = " ".join(fold(sentence).split())
    if not text.strip(" .!?¿¡,;:-"):
        return "greeting"
    if has(text, words.USUAL_CUES):
        return "usual"
    if has(text, words.CANCEL_CUES):
        return "cancellation"
    if has(text, COMPLAINTS):
        return "complaint"
    asks = "?" in text or text.startswith("¿") or text.startswith(words.QUESTION_START)
    if has(text, PRICE_CUES) or asks and has(text, words.QUESTION_CUES):
        return "question"
    if asks:
        return "ask"
    plain = re.findall(r"[^\W\d_]+", text)
    if plain and all(w in words.GREETING_ONLY or w in words.FILLER for w in plain) and not re.search(r"\d", text):
        return "greeting"
    return "order"


def question_at(sentence: str) -> int:
    """Where the question part of a sentence begins (its first question word or cue)."""
    text = fold(sentence)
    found = [m.start() for cues in (PRICE_CUES, words.QUESTION_CUES) for m in [_cue_pattern(tuple(cues)).search(text)]
             if m]
    starts = [m.start() for m in re.finditer(r"(?:^|[,;]\s*|\b(?:also|and|et|y|und|e)\s+)(" + "|".join(
        re.escape(q.strip()) for q in words.QUESTION_START) + r")\b", text)]
    return min(found + starts, default=0)


def message_kind(sentence_kinds: list[str], has_lines: bool, has_quantities: bool) -> str:
    """The kind shown in the inbox: order, question, cancellation or other."""
    if "cancellation" in sentence_kinds:
        return "cancellation"
    if has_lines or has_quantities or "usual" in sentence_kinds:
        return "order"
    if "question" in sentence_kinds:
        return "question"
    return "other"
