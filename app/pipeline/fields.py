"""Apply an identification to a product: a person's words win, a weak guess is only a suggestion.

Every identified field (name, brand, model, category, gtin) has a source in
`Product.field_sources`: "upload" (typed by the uploader), "person" (set or confirmed in review),
or the machine path that wrote it ("catalogue GTIN", "reference GTIN", "text match").

* A field from a person is never changed by analysis; a different machine value for it becomes
  a suggestion beside it.
* At or above the organisation's threshold, the machine fills the other fields (and replaces
  what an earlier analysis wrote).
* Below it, the machine writes nothing: every value it found is a suggestion with its evidence,
  and the product waits for review with the reasons.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.pipeline.identify import Identification

FIELDS = ("name", "brand", "model", "category", "gtin")
PERSON_SOURCES = ("upload", "person")


@dataclass
class Applied:
    values: dict
    sources: dict
    suggestions: list = field(default_factory=list)
    review_reasons: list = field(default_factory=list)
    passes: bool = False


def apply_identification(*, values: dict, sources: dict, found: Identification, threshold: int) -> Applied:
    """The product's fields, their sources, suggestions and review reasons after `found`."""
    passes = found.confidence >= threshold
    new_values, new_sources, suggestions = dict(values), dict(sources), []
    for name in FIELDS:
        machine = found.fields.get(name)
        if sources.get(name) in PERSON_SOURCES:
            if machine and not _same(machine, values.get(name)):
                suggestions.append(_from_identity(name, machine, found))
            continue
        if passes:
            new_values[name] = machine or None
            new_sources[name] = found.path if machine else None
        else:
            new_values[name], new_sources[name] = None, None
            if machine:
                suggestions.append(_from_identity(name, machine, found))
    suggestions += found.suggestions
    reasons = [] if passes else list(dict.fromkeys(["below_threshold", *found.review_reasons]))
    return Applied(values=new_values, sources={k: v for k, v in new_sources.items() if v},
                   suggestions=_dedupe(suggestions, new_values), review_reasons=reasons, passes=passes)


def _from_identity(name: str, value: str, found: Identification) -> dict:
    return {"field": name, "value": value, "source": found.path, "score": found.confidence,
            "why": f"{found.path}: {found.evidence.get('reason', '')}".strip(": ")}


def _same(a, b) -> bool:
    return " ".join(str(a or "").split()).casefold() == " ".join(str(b or "").split()).casefold()


def _dedupe(suggestions: list[dict], values: dict) -> list[dict]:
    out, seen = [], set()
    for s in suggestions:
        key = (s["field"], " ".join(str(s["value"]).split()).casefold())
        if key in seen or _same(s["value"], values.get(s["field"])):
            continue
        seen.add(key)
        out.append(s)
    return out
