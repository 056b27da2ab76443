"""Read one message: its kind, its order lines, and every part that could not be turned into a line.

The one-click rule lives here, so the inbox, the command line and the bench share it: a message
is offered for one click only when it is an order, every line names one catalogue row with a
quantity at or above the threshold, nothing is left in "not understood", no "usual order" needs
proposing, and there are at least as many lines as quantities written in it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.inbox.reading import words
from app.inbox.reading.catalogue import Catalogue
from app.inbox.reading.cleaning import clean
from app.inbox.reading.forms import fold
from app.inbox.reading.kinds import has, message_kind, question_at, sentence_kind
from app.inbox.reading.reader import Line, Part, Piece, _is_anchor, pair, pieces, product_of, quantities
from app.inbox.reading.roles import assign
from app.inbox.reading.tokens import Token, tokenize

SENTENCE_REASONS = {"question": "A question inside the message: answer it before ordering.",
                    "complaint": "A complaint inside the message: a person should read it.",
                    "cancellation": "The customer cancels something: a person must decide.",
                    "usual": "The customer asks for their usual order."}


@dataclass
class Reading:
    kind: str
    lines: list[Line]
    parts: list[Part]
    usual: str = ""
    quantities: int = 0
    sentence_kinds: list[str] = field(default_factory=list)
    cleaned: str = ""

    @property
    def confidence(self) -> int:
        return min((line.product.confidence for line in self.lines), default=0)

    def blocking(self) -> list[str]:
        """Why this reading may not skip a person (empty when nothing stands in the way)."""
        why = []
        if self.kind != "order":
            why.append(f"Not an order: {self.kind}.")
        if self.usual:
            why.append("“The usual”: the customer's last order is proposed; a person must check it.")
        if not self.lines and self.kind == "order" and not self.usual:
            why.append("No order lines recognised.")
        if self.parts:
            why.append(f"{len(self.parts)} part(s) of the message not understood.")
        if len(self.lines) < self.quantities:
            why.append(f"{self.quantities} quantities written but only {len(self.lines)} line(s) read.")
        return why

    def one_click(self, threshold: int) -> bool:
        return bool(self.lines) and not self.blocking() and self.confidence >= threshold


def _sentences(tokens: list[Token]) -> list[list[Token]]:
    out, current = [], []
    for token in tokens:
        current.append(token)
        if token.kind == "stop":
            out.append(current)
            current = []
    if current:
        out.append(current)
    return [s for s in out if any(t.kind != "stop" for t in s)]


def _clauses(sentence: list[Token]) -> list[tuple[list[Token], bool]]:
    """Clauses of a sentence, each with whether an "or" stands at its edge."""
    out: list[tuple[list[Token], bool]] = []
    current: list[Token] = []
    or_next = False
    for token in sentence:
        if token.kind in ("sep", "and", "or", "stop"):
            if current:
                out.append((current, or_next or token.kind == "or"))
            or_next = token.kind == "or"
            current = []
            continue
        if token.kind != "paren":
            current.append(token)
    if current:
        out.append((current, or_next))
    return out


def _join_sizes(items: list[Piece]) -> list[Piece]:
    """"snake chain, 45cm, x3": a clause of sizes alone belongs to the product words before it."""
    out: list[Piece] = []
    for piece in items:
        if out and piece.quantity is None and piece.tokens and all(t.kind == "size" for t in piece.tokens) \
                and out[-1].tokens:
            out[-1].tokens = out[-1].tokens + piece.tokens
            out[-1].clause = out[-1].clause + piece.clause
            continue
        out.append(piece)
    return out


def _span(text: str, tokens: list[Token]) -> tuple[str, int, int]:
    start, end = min(t.start for t in tokens), max(t.end for t in tokens)
    return text[start:end], start, end


def _settle(catalogue: Catalogue, text: str, piece: Piece) -> Line | Part | None:
    """A piece becomes a line (one row, a quantity), a part not understood, or nothing (no content)."""
    q = piece.quantity
    q_tokens = q.tokens if q is not None else []
    shown = _span(text, [*q_tokens, *piece.tokens] or piece.clause)
    if q is None and not any(_is_anchor(catalogue, t) for t in piece.tokens):
        return None
    if q is None:
        found = product_of(catalogue, piece.tokens)
        why = "The quantity is not clear." if piece.vague else "No quantity given for this product."
        return Part(*shown, why, candidates=_choices(found))
    if not piece.tokens:
        return Part(*shown, "A quantity with no product named.", q.value, q.unit)
    found = product_of(catalogue, piece.tokens)
    words = _span(text, piece.tokens)[0]
    if piece.after_or:
        return Part(*shown, "The customer offers alternatives (“or”): a person must choose.", q.value, q.unit,
                    _choices(found), words)
    if found.entry is None:
        return Part(*shown, found.reason or "No catalogue product fits.", q.value, q.unit, found.candidates, words)
    return Line(q.value, q.unit, found, words, shown[1], shown[2], q.approx)


def _choices(found) -> list[dict]:
    if found.entry is not None:
        return [{"sku": found.entry.sku, "title": found.entry.name, "score": found.confidence}] + found.candidates[:2]
    return found.candidates


def _other_sentence(catalogue: Catalogue, text: str, sentence: list[Token], kind: str) -> Part | None:
    """A question, complaint or cancellation inside an order: always for a person ("could you gift wrap them?")."""
    if kind not in SENTENCE_REASONS:
        return None
    content = [t for t in sentence if t.kind != "stop"] or sentence
    return Part(*_span(text, content), SENTENCE_REASONS[kind])


def read(text: str, catalogue: Catalogue) -> Reading:
    """The reading of one message against a catalogue."""
    cleaned, _ = clean(text or "", catalogue.knows)
    tokens = assign(tokenize(cleaned, catalogue.variants), catalogue.bigrams, catalogue.idf.keys())
    for token in tokens:
        if token.kind == "num" and token.norm in catalogue.title_numbers:
            token.kind, token.value = "size", token.norm  # "the 925 rolo chains"
    kinds: list[str] = []
    items: list[Piece] = []
    others: list[tuple[list[Token], str]] = []
    usual = ""
    count = 0
    wants = False
    outside: list[Part] = []
    for sentence in _sentences(tokens):
        kind, ordered, rest, rest_kind = _sentence(catalogue, cleaned, sentence)
        kinds.append(kind)
        if kind == "usual":
            usual = _span(text, [t for t in sentence if t.kind != "stop"] or sentence)[0]
        if rest:
            others.append((rest, rest_kind))
        for clause, near_or in ordered:
            count += len(quantities(catalogue, clause))
            items.extend(pieces(catalogue, clause, near_or))
            if has(fold(cleaned[clause[0].start:clause[-1].end]), words.OUTSIDE_CUES):
                outside.append(Part(*_span(text, clause), "The customer refers to something not written here."))
        wants = wants or bool(ordered) and has(fold(cleaned[sentence[0].start:sentence[-1].end]), words.ORDER_INTENT)
    items = _join_sizes(pair(_join_sizes(items)))
    lines, parts = _settle_all(catalogue, text, _inherit(items))
    parts += outside
    named = any(p.vague or wants and p.quantity is None and any(_is_anchor(catalogue, t) for t in p.tokens)
                for p in items)
    kind = message_kind(kinds, bool(lines), count > 0 or named)
    if kind == "cancellation":
        parts += [Part(line.text, line.start, line.end, SENTENCE_REASONS["cancellation"], line.quantity, line.unit)
                  for line in lines]
        lines = []
    if kind == "order":
        parts += [p for p in (_other_sentence(catalogue, text, s, k) for s, k in others) if p is not None]
    parts.sort(key=lambda p: p.start)
    return Reading(kind, lines, parts, usual, count, kinds, cleaned)


def _sentence(catalogue: Catalogue, cleaned: str, sentence: list[Token]):
    """(kind, the clauses that order, the tokens left as a question / complaint / cancellation, their kind)."""
    start = sentence[0].start
    said = cleaned[start:sentence[-1].end]
    kind = sentence_kind(said)
    clauses = _clauses(sentence)
    if kind == "ask":  # a question mark on an order: "Can I get ten paperclip chains 45cm?"
        named = [c for c, _ in clauses if any(_is_anchor(catalogue, t) for t in c)]
        orders = any(quantities(catalogue, c) for c in named) or named and has(fold(said), words.ORDER_INTENT)
        if not orders:
            return "question", [], sentence, "question"
        return _asked_after(catalogue, sentence, clauses)
    if kind in ("order", "usual"):
        return kind, clauses, [], kind
    if kind != "question":
        return kind, [], sentence, kind
    cut = start + question_at(said)
    before = [(c, o) for c, o in clauses if c[-1].end <= cut and quantities(catalogue, c)]
    if not before:
        return kind, [], sentence, kind
    rest = [t for t in sentence if t.start >= cut]
    return "order", before, rest, kind


def _asked_after(catalogue: Catalogue, sentence: list[Token], clauses):
    """"2 satellite chains 45cm, and could you gift wrap them?": the order, then a question for a person."""
    last = max((n for n, (c, _) in enumerate(clauses) if quantities(catalogue, c)), default=len(clauses) - 1)
    trailing = [c for c, _ in clauses[last + 1:] if any(t.kind in ("word", "sku") for t in c)]
    if not trailing:
        return "order", clauses, [], "order"
    cut = trailing[0][0].start
    return "order", clauses[:last + 1], [t for t in sentence if t.start >= cut], "question"


def _inherit(items: list[Piece]) -> list[Piece]:
    """"2 chaînes trombone 20cm et 1 en 60cm": a quantity with only a size takes the product words before it."""
    lender: Piece | None = None
    lent: set[int] = set()
    for piece in items:
        product_words = [t for t in piece.tokens if t.kind in ("word", "sku")]
        if product_words:
            lender = piece
        elif piece.quantity is not None and piece.tokens and lender is not None:
            piece.tokens = [t for t in lender.tokens if t.kind in ("word", "sku", "of")] + piece.tokens
            lent.add(id(lender))
    return [p for p in items if not (id(p) in lent and p.quantity is None)]


def _settle_all(catalogue: Catalogue, text: str, items: list[Piece]) -> tuple[list[Line], list[Part]]:
    lines: list[Line] = []
    parts: list[Part] = []
    for piece in items:
        settled = _settle(catalogue, text, piece)
        if isinstance(settled, Line):
            lines.append(settled)
        elif settled is not None:
            parts.append(settled)
    return lines, parts
