"""How well the reader reads a labelled set of messages: the figures `bench/inbox.py` prints.

A label is {"text", "kind", "lines": [{"sku", "quantity"}], "review": bool}. A message is read
exactly right when its kind is right, its lines are exactly the labelled ones (product and
quantity, in any order), and a message labelled for review was not offered for one click. A
one-click offer is wrong when any of that fails: the figure that must stay at zero.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

BANDS = ((95, 101), (90, 95), (85, 90), (80, 85), (70, 80), (50, 70), (0, 50))


@dataclass
class Outcome:
    label: dict
    answer: dict
    exact: bool
    lines_right: int
    one_click: bool
    wrong_one_click: bool


@dataclass
class Figures:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return len(self.outcomes)

    @property
    def exact(self) -> int:
        return sum(o.exact for o in self.outcomes)

    @property
    def lines_expected(self) -> int:
        return sum(len(o.label["lines"]) for o in self.outcomes)

    @property
    def lines_right(self) -> int:
        return sum(o.lines_right for o in self.outcomes)

    @property
    def lines_read(self) -> int:
        return sum(len(o.answer["lines"]) for o in self.outcomes)

    @property
    def one_click(self) -> int:
        return sum(o.one_click for o in self.outcomes)

    @property
    def wrong_one_click(self) -> int:
        return sum(o.wrong_one_click for o in self.outcomes)

    def bands(self) -> list[dict]:
        """Per confidence band: messages, how many read exactly right, one-click offers and wrong ones."""
        rows = []
        for low, high in BANDS:
            inside = [o for o in self.outcomes if low <= o.answer["confidence"] < high and o.answer["lines"]]
            rows.append({"band": f"{low}-{min(high, 100)}", "messages": len(inside),
                         "exact": sum(o.exact for o in inside), "one_click": sum(o.one_click for o in inside),
                         "wrong_one_click": sum(o.wrong_one_click for o in inside)})
        return rows


def judge(label: dict, answer: dict) -> Outcome:
    """Compare one reading (the command's JSON line) with its label."""
    wanted = Counter((x["sku"], int(x["quantity"])) for x in label["lines"])
    got = Counter((x["sku"], int(x["quantity"])) for x in answer["lines"])
    lines_right = sum((wanted & got).values())
    same = wanted == got and label["kind"] == answer["kind"]
    exact = same and not (label.get("review") and answer["one_click"])
    return Outcome(label, answer, exact, lines_right, answer["one_click"], answer["one_click"] and not exact)


def evaluate(labels: list[dict], read) -> Figures:
    """`read(text) -> answer dict`; every label judged."""
    return Figures([judge(label, read(label["text"])) for label in labels])
