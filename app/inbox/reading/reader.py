"""From a cleaned message to order lines and the parts not understood.

Sentences are classified first (app.inbox.reading.kinds); only order sentences give lines. Each
sentence is cut into clauses at commas, "and"/"et"/"y"/"und"/"e", "or", colons and dashes. In a
clause each quantity ("3", "trois", "a dozen", "2x", "x3", "qty 6", "about 3", "6 pcs of") takes
the product words on its side: after it when the clause starts with a quantity, before it when
the product words come first. A clause with a quantity and no product words pairs with a
neighbouring clause that has product words and no quantity ("snake chain 45cm: 3").

Whatever carries a quantity, a unit, a code or a catalogue word and did not become a matched
line is returned as a part not understood, with the reason and the nearest products.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.inbox.reading.catalogue import Catalogue, ProductMatch, match
from app.inbox.reading.tokens import Token

MAX_QUANTITY = 10_000
PRODUCT_KINDS = ("word", "sku", "size", "of")


@dataclass
class Quantity:
    value: int
    unit: str
    first: int  # token index where the quantity phrase starts
    last: int  # index after it ends
    approx: bool = False
    tokens: list[Token] = field(default_factory=list)


@dataclass
class Piece:
    """A clause's quantity and the product tokens given to it (either may be missing)."""

    quantity: Quantity | None
    tokens: list[Token]
    clause: list[Token]
    vague: bool = False
    after_or: bool = False


@dataclass
class Line:
    quantity: int
    unit: str
    product: ProductMatch
    text: str
    start: int
    end: int
    approx: bool = False


@dataclass
class Part:
    """A part of the message not turned into a line, and why."""

    text: str
    start: int
    end: int
    reason: str
    quantity: int | None = None
    unit: str = ""
    candidates: list[dict] = field(default_factory=list)
    words: str = ""  # the product words alone, without the quantity

    def as_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "reason": self.reason,
                "quantity": self.quantity, "unit": self.unit, "candidates": self.candidates, "words": self.words}


def _is_anchor(catalogue: Catalogue, token: Token) -> bool:
    return token.kind in ("sku", "size") or token.kind == "word" and catalogue.knows(token.norm)


def quantities(catalogue: Catalogue, clause: list[Token]) -> list[Quantity]:
    """The quantity phrases of a clause, in order."""
    found: list[Quantity] = []
    strong = any(t.kind in ("num", "numword") for t in clause)
    i = 0
    while i < len(clause):
        token = clause[i]
        if token.kind in ("num", "numword") or token.kind == "weak" and not strong \
                and _weak_counts(catalogue, clause, i):
            q = _quantity_at(clause, i)
            if q is not None:
                found.append(q)
                _pack_size(catalogue, clause, q)
                i = q.last
                continue
        i += 1
    if len(found) > 1:  # "1 Beutel Karabiner 6mm 100 Stück": the pack the catalogue sells, not a second line
        for q in [q for q in found if q.unit == "pcs" and f"{q.value}pcs" in catalogue.variants]:
            number = q.tokens[-2] if len(q.tokens) > 1 else q.tokens[0]
            number.kind, number.value, number.norm = "size", f"{q.value}pcs", f"{q.value}pcs"
            found.remove(q)
    return found


def _pack_size(catalogue: Catalogue, clause: list[Token], q: Quantity) -> None:
    """"2 packs of 10": the number after "packs of" is the pack the catalogue sells ("10pcs"), not a quantity."""
    if not q.unit or q.last >= len(clause) or clause[q.last - 1].kind != "of":
        return
    after = clause[q.last]
    size = f"{after.norm}pcs"
    if after.kind == "num" and size in catalogue.variants:
        after.kind, after.value, after.norm = "size", size, size


def _weak_counts(catalogue: Catalogue, clause: list[Token], i: int) -> bool:
    for token in clause[i + 1:i + 6]:
        if token.kind in ("unit", "of", "filler"):
            continue
        # a title word, not a word of an alias alone ("a small order" is no quantity)
        return token.kind in ("unit", "sku", "size") or token.kind == "word" and any(
            m for _, m in catalogue.parts(token.norm))
    return False


def _quantity_at(clause: list[Token], i: int) -> Quantity | None:
    value, first, j, approx = int(clause[i].value), i, i + 1, False
    while first > 0 and clause[first - 1].kind in ("mult", "approx", "qtymark"):
        approx = approx or clause[first - 1].kind == "approx"
        first -= 1
    if j < len(clause) and clause[j].kind == "numword" and clause[j].value == 12 and clause[i].kind == "num":
        value, j = value * 12, j + 1
    if j < len(clause) and clause[j].kind == "mult":
        j += 1
    unit = ""
    if j < len(clause) and clause[j].kind == "unit":
        unit, j = str(clause[j].value), j + 1
    if j < len(clause) and clause[j].kind == "of":
        j += 1
    if not 1 <= value <= MAX_QUANTITY:
        return None
    return Quantity(value, unit, first, j, approx, clause[first:j])


def pieces(catalogue: Catalogue, clause: list[Token], after_or: bool) -> list[Piece]:
    """A clause cut into pieces, each a quantity with its product tokens (either may be missing)."""
    found = quantities(catalogue, clause)
    product_at = [n for n, t in enumerate(clause) if t.kind in PRODUCT_KINDS
                  and not any(q.first <= n < q.last for q in found)]
    vague = any(t.kind == "vague" for t in clause)
    if not found:
        return [Piece(None, [clause[n] for n in product_at], clause, vague, after_or)] if product_at else []
    anchors = [n for n in product_at if _is_anchor(catalogue, clause[n])]
    prefix = not anchors or found[0].first <= anchors[0]
    out: list[Piece] = []
    for k, q in enumerate(found):
        if len(found) == 1:
            lo, hi = 0, len(clause)
        elif prefix:
            lo, hi = q.last, found[k + 1].first if k + 1 < len(found) else len(clause)
        else:
            lo, hi = found[k - 1].last if k else 0, q.first
        at = [n for n in product_at if lo <= n < hi]
        out.append(Piece(q, _phrase(catalogue, clause, at, q), clause, False, after_or))
    used = {id(t) for p in out for t in p.tokens}
    rest = [clause[n] for n in product_at if id(clause[n]) not in used and _is_anchor(catalogue, clause[n])]
    if rest:
        out.append(Piece(None, rest, clause, vague, after_or))
    return out


def _phrase(catalogue: Catalogue, clause: list[Token], at: list[int], q: Quantity) -> list[Token]:
    """The product words of a quantity: from the quantity to the last known word after it (or from the first
    known word before it), so unknown words between ("3 étoiles filantes dorées") stay in the phrase."""
    anchors = [n for n in at if _is_anchor(catalogue, clause[n])]
    if not anchors:
        return [clause[n] for n in at if clause[n].kind != "of"]
    after = [n for n in anchors if n >= q.last]
    if after:
        return [clause[n] for n in at if q.last <= n <= after[-1]]
    return [clause[n] for n in at if anchors[0] <= n < q.first]


def pair(items: list[Piece]) -> list[Piece]:
    """Join a quantity standing alone with the product words standing alone next to it."""
    out: list[Piece] = []
    i = 0
    while i < len(items):
        piece = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if nxt is not None and not nxt.after_or and _lonely(piece) and _lonely(nxt) \
                and (piece.quantity is None) != (nxt.quantity is None):
            q = piece.quantity or nxt.quantity
            words = piece.tokens or nxt.tokens
            out.append(Piece(q, words, piece.clause + nxt.clause, piece.vague or nxt.vague, piece.after_or))
            i += 2
            continue
        out.append(piece)
        i += 1
    return out


def _lonely(piece: Piece) -> bool:
    return piece.quantity is None and bool(piece.tokens) or piece.quantity is not None and not piece.tokens


def product_of(catalogue: Catalogue, tokens: list[Token]) -> ProductMatch:
    """Match a piece's product tokens: words, size words and codes."""
    words = [t.norm for t in tokens if t.kind in ("word", "of")]
    sizes = {str(t.value) for t in tokens if t.kind == "size"}
    codes = [t.norm for t in tokens if t.kind == "sku"]
    return match(catalogue, words, sizes, codes)
