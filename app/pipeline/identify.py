"""Identify a product from what the analysers read, say how sure we are, and show why.

One order of evidence, each step recorded with what it saw:

1. **Catalogue GTIN.** A code read from the photo (decoded bars, or printed digits) equals the
   GTIN of the organisation's own catalogue rows (inventory items, earlier completed products):
   the rows agree on one product → CATALOGUE; the photo text or the uploader's words also name
   that row → + CORROBORATED; the rows disagree → CATALOGUE_CONFLICT (the rows are listed).
2. **Reference GTIN.** The code is in the shared reference data (an imported export, or the
   online look-up): REFERENCE, below the catalogue path (it is someone else's description of
   the product) and above the text path (a GTIN is an identity, words are not).
3. **Text match.** The photo text, the uploader's words and the vision model's answer are
   matched against catalogue names, SKUs, models and brands (`app.analysis.matching`), score s:
   round(TEXT_WEIGHT × s), minus AMBIGUITY_PENALTY when another row scores within
   AMBIGUITY_MARGIN.
4. **Nothing** → 0, with the photo's own text offered as suggestions.

Adjustments, each recorded in `evidence["confidence_parts"]`:
  * a code read only from printed digits (the bars did not decode) costs PRINTED_ONLY_PENALTY;
  * an in-store number (GS1 prefix 02/04/2x) is never looked up in the reference data;
  * when the uploader typed a name or model that does not fit the identified product, the
    result is capped at HINT_CONFLICT_CAP: the person's words and the machine's disagree, so a
    person decides.

The constants were chosen from `bench/identify.py` (a labelled set of 150+ cases covering every
path): at or above the default threshold (80) the identification is right at least 99 % of the
time. The table is in the README and on the organisation's settings page.

This module only decides; `app.pipeline.fields` applies the decision to a product, where a
person's words always win and a result below the threshold is a suggestion, never a value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from app.analysis.barcodes import normalise_gtin
from app.analysis.gs1 import gs1_prefix
from app.analysis.matching import CatalogueEntry, KeywordRule, categorise, match_gtin, match_text
from app.pipeline.photo_text import brand_suggestions, title_suggestions

CATALOGUE = 96
CORROBORATED = 3
CATALOGUE_CONFLICT = 70
REFERENCE = 90
PRINTED_ONLY_PENALTY = 8
TEXT_WEIGHT = 0.85
AMBIGUITY_MARGIN = 5
AMBIGUITY_PENALTY = 15
HINT_CONFLICT_CAP = 60
HINT_AGREES = 60  # fuzzy score (0–100) from which the uploader's words fit the identified product
CORROBORATION_SCORE = 80
TEXT_SUGGESTION_MIN = 60

# Why a product waits for a person (shown and filterable in the review queue).
REVIEW_REASONS = {
    "below_threshold": "confidence below the organisation's threshold",
    "nothing_found": "no barcode, catalogue row or reference product identified it",
    "catalogue_conflict": "one GTIN, several catalogue rows with different names",
    "ambiguous_text": "two catalogue rows fit the text about equally",
    "hint_conflict": "the name or model typed at upload does not fit what was identified",
    "printed_only": "the GTIN was read only from printed digits",
    "near_duplicate": "looks like an earlier product",
}


@dataclass(frozen=True)
class Reference:
    """A reference-data row as identification needs it (see app.refdata.lookup.ReferenceEntry)."""

    gtin: str
    name: str | None
    brand: str | None
    quantity: str | None
    categories: str | None
    source: str
    fetched_at: str


@dataclass
class Inputs:
    """Everything identification looks at, as plain values."""

    codes: list[dict] = field(default_factory=list)  # {format, text, source, printed_digits_agree, why, image}
    ocr: list[dict] = field(default_factory=list)  # {text, confidence, box, image, width, height}
    hint_name: str | None = None
    hint_model: str | None = None
    vision: list[dict] = field(default_factory=list)  # {text, source}
    catalogue: list[CatalogueEntry] = field(default_factory=list)
    reference: dict[str, Reference] = field(default_factory=dict)
    known_brands: dict[str, str] = field(default_factory=dict)  # case-folded brand → how it is written
    rules: list[KeywordRule] = field(default_factory=list)


@dataclass
class Identification:
    """The machine's reading: candidate fields, a confidence, the path, evidence, suggestions."""

    fields: dict = field(default_factory=dict)  # name, brand, model, category, gtin: only what was found
    confidence: int = 0
    path: str = "nothing"
    evidence: dict = field(default_factory=dict)
    suggestions: list[dict] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    matched: str | None = None  # the row claimed: a catalogue key, "reference:<gtin>", or None

    def part(self, label: str, points: int) -> None:
        """Add points to the confidence, with the reason shown in the evidence."""
        self.confidence += points
        self.evidence.setdefault("confidence_parts", []).append({"why": label, "points": points})


def identify(inputs: Inputs) -> Identification:
    """Run the identification order (see the module doc) and return the reading."""
    result = Identification()
    ev = result.evidence
    codes = _usable_codes(inputs.codes, ev)
    texts = _texts(inputs)
    ev["texts_used"] = texts
    query = [t["text"] for t in texts]
    if not (_by_catalogue_gtin(result, codes, inputs, query) or _by_reference_gtin(result, codes, inputs)
            or _by_text(result, query, inputs.catalogue)):
        _nothing(result, codes, query)
    _check_hints(result, inputs)
    _categorise(result, inputs, query)
    result.confidence = max(0, min(100, int(result.confidence)))
    _suggest_from_photo(result, inputs)
    return result


def _usable_codes(codes: list[dict], ev: dict) -> list[dict]:
    usable = []
    for code in codes:
        gtin = normalise_gtin(str(code.get("text", "")))
        if gtin is None or gtin in (c["gtin"] for c in usable):
            continue
        prefix = gs1_prefix(gtin)
        usable.append(code | {"gtin": gtin, "gs1": prefix.describe(), "identifies_product": prefix.identifies_product})
    ev["codes"] = usable
    return usable


def _texts(inputs: Inputs) -> list[dict]:
    texts = [{"text": t["text"], "source": "ocr", "image": t.get("image")} for t in inputs.ocr if t.get("text")]
    texts += [{"text": t, "source": "hint"} for t in (inputs.hint_name, inputs.hint_model) if t]
    return texts + [t for t in inputs.vision if t.get("text")]


def _printed_only(code: dict) -> bool:
    return code.get("source") == "printed digits"


def _code_part(result: Identification, code: dict) -> None:
    if _printed_only(code):
        result.part("the GTIN was read only from the printed digits (the bars did not decode)", -PRINTED_ONLY_PENALTY)
        result.review_reasons.append("printed_only")


def _by_catalogue_gtin(result: Identification, codes: list[dict], inputs: Inputs, query: list[str]) -> bool:
    ev = result.evidence
    for code in codes:
        rows = match_gtin(code["gtin"], inputs.catalogue)
        if not rows:
            continue
        result.path = "catalogue GTIN"
        ev["gtin_match"] = {"gtin": code["gtin"], "code": code, "rows": [_entry_json(r) for r in rows]}
        if len({r.name.strip().casefold() for r in rows}) > 1:
            result.part(f"GTIN {code['gtin']} is on {len(rows)} catalogue rows with different names",
                        CATALOGUE_CONFLICT)
            result.review_reasons.append("catalogue_conflict")
            result.fields = {"gtin": code["gtin"]}
            ev["reason"] = f"GTIN {code['gtin']} matches {len(rows)} catalogue rows with different names"
            for row in rows:
                result.suggestions.append(_suggestion("name", row.name, "catalogue", None,
                                                      f"catalogue row {row.key} has GTIN {code['gtin']}"))
            return True
        entry = rows[0]
        result.matched = str(entry.key)
        result.fields = _fields_from(entry) | {"gtin": code["gtin"]}
        result.part(f"GTIN {code['gtin']} is catalogue row {entry.key} “{entry.name}”", CATALOGUE)
        _code_part(result, code)
        ev["reason"] = f"{code.get('format', 'barcode')} {code['gtin']} ({code.get('source')}) is catalogue row " \
                       f"{entry.key}"
        corroboration = match_text(query, [entry], limit=1, min_score=CORROBORATION_SCORE) if query else []
        if corroboration:
            m = corroboration[0]
            result.part(f"the photo text or the upload names the same row ({m.matched_field} “{m.matched_text}”)",
                        CORROBORATED)
            ev["corroborated_by"] = {"field": m.matched_field, "value": m.matched_text, "score": m.score}
        return True
    return False


def _by_reference_gtin(result: Identification, codes: list[dict], inputs: Inputs) -> bool:
    ev = result.evidence
    for code in codes:
        if not code["identifies_product"]:
            ev.setdefault("notes", []).append(f"GTIN {code['gtin']}: {code['gs1']}; not looked up in reference data")
            continue
        ref = inputs.reference.get(code["gtin"])
        if ref is None:
            continue
        result.path = "reference GTIN"
        result.matched = f"reference:{ref.gtin}"
        result.fields = {k: v for k, v in (("name", ref.name), ("brand", ref.brand), ("gtin", ref.gtin)) if v}
        ev["reference"] = {"gtin": ref.gtin, "name": ref.name, "brand": ref.brand, "quantity": ref.quantity,
                           "categories": ref.categories, "source": ref.source, "fetched_at": ref.fetched_at,
                           "code": code}
        ev["reason"] = f"GTIN {ref.gtin} is “{ref.name or ref.brand}” in the reference data ({ref.source}, " \
                       f"fetched {ref.fetched_at[:10]})"
        result.part(f"GTIN {ref.gtin} is “{ref.name or ref.brand}” in reference data: {ref.source}, "
                    f"fetched {ref.fetched_at[:10]}", REFERENCE)
        _code_part(result, code)
        return True
    return False


def _by_text(result: Identification, query: list[str], catalogue: list[CatalogueEntry]) -> bool:
    ev = result.evidence
    if not query:
        return False
    matches = match_text(query, catalogue, limit=3)
    ev["text_matches"] = [{"row": _entry_json(m.entry), "score": m.score, "field": m.matched_field,
                           "matched": m.matched_text} for m in matches]
    if not matches:
        return False
    best = matches[0]
    result.path = "text match"
    result.matched = str(best.entry.key)
    result.fields = _fields_from(best.entry)
    result.part(f"the text matches catalogue row {best.entry.key} on {best.matched_field} “{best.matched_text}” "
                f"(score {best.score:g} × {TEXT_WEIGHT})", round(TEXT_WEIGHT * best.score))
    if len(matches) > 1 and matches[1].entry.key != best.entry.key and best.score - matches[1].score < AMBIGUITY_MARGIN:
        result.part(f"catalogue row {matches[1].entry.key} fits almost as well (score {matches[1].score:g})",
                    -AMBIGUITY_PENALTY)
        result.review_reasons.append("ambiguous_text")
        ev["ambiguous_with"] = str(matches[1].entry.key)
    ev["reason"] = (f'text matched catalogue row {best.entry.key} on {best.matched_field} '
                    f'"{best.matched_text}" (score {best.score:g})')
    for m in matches:
        if m.score >= TEXT_SUGGESTION_MIN:
            result.suggestions.append(_suggestion("name", m.entry.name, "text match", m.score,
                                                  f"looks like “{m.entry.name}”, score {m.score:g}: matched on "
                                                  f"{m.matched_field}"))
    return True


def _nothing(result: Identification, codes: list[dict], query: list[str]) -> None:
    ev = result.evidence
    if codes:
        ev["reason"] = "a GTIN was read, but neither the catalogue nor the reference data knows it"
        result.fields = {"gtin": codes[0]["gtin"]}
    elif query:
        ev["reason"] = "no barcode was read and no catalogue row matched the text"
    else:
        ev["reason"] = "no barcode and no text were read or given"
    result.review_reasons.append("nothing_found")


def _check_hints(result: Identification, inputs: Inputs) -> None:
    """The uploader's words against the machine's identity: disagreement goes to a person."""
    name, hint = result.fields.get("name"), (inputs.hint_name or "").strip()
    checks = {}
    if name and hint:
        label = " ".join(filter(None, [result.fields.get("brand"), name]))
        score = max(fuzz.token_set_ratio(hint, name, processor=default_process),
                    fuzz.token_set_ratio(hint, label, processor=default_process))
        checks["name"] = {"typed": hint, "identified": name, "score": round(score), "agrees": score >= HINT_AGREES}
    model, hint_model = result.fields.get("model"), (inputs.hint_model or "").strip()
    if model and hint_model:
        same = default_process(model).replace(" ", "") == default_process(hint_model).replace(" ", "")
        checks["model"] = {"typed": hint_model, "identified": model, "agrees": same}
    if not checks:
        return
    result.evidence["hint_check"] = checks
    disagree = [f for f, c in checks.items() if not c["agrees"]]
    if disagree and result.confidence > HINT_CONFLICT_CAP:
        result.part(f"the {' and '.join(disagree)} typed at upload does not fit the identified product",
                    HINT_CONFLICT_CAP - result.confidence)
        result.review_reasons.append("hint_conflict")


def _categorise(result: Identification, inputs: Inputs, query: list[str]) -> None:
    if result.fields.get("category"):
        return
    ref = result.evidence.get("reference") or {}
    text = " ".join(query + [result.fields.get("name", ""), ref.get("categories") or ""])
    category, reason = categorise(text, inputs.rules) if text.strip() and inputs.rules else (None, "no text")
    result.evidence["category_rule"] = reason
    if category:
        result.fields["category"] = category
    elif ref.get("categories"):
        last = ref["categories"].split(",")[-1].strip()
        result.suggestions.append(_suggestion("category", last, "reference data", None,
                                              "the reference data's most specific category (no category rule "
                                              "of the organisation matched)"))


def _suggest_from_photo(result: Identification, inputs: Inputs) -> None:
    if result.path in ("catalogue GTIN", "reference GTIN") and result.confidence >= CATALOGUE - PRINTED_ONLY_PENALTY:
        return  # the product is known: its photo's words add nothing
    taken = {(s["field"], s["value"].casefold()) for s in result.suggestions}
    for suggestion in brand_suggestions(inputs.ocr, inputs.known_brands) + title_suggestions(inputs.ocr):
        if (suggestion["field"], suggestion["value"].casefold()) not in taken:
            result.suggestions.append(suggestion)
            taken.add((suggestion["field"], suggestion["value"].casefold()))


def _suggestion(field_name: str, value: str, source: str, score: float | None, why: str) -> dict:
    return {"field": field_name, "value": value, "source": source, "score": score, "why": why}


def _entry_json(entry: CatalogueEntry) -> dict:
    return {"key": str(entry.key), "name": entry.name, "sku": entry.sku, "brand": entry.brand,
            "model": entry.model, "gtin": entry.gtin, "category": entry.category}


def _fields_from(entry: CatalogueEntry) -> dict:
    values = {"name": entry.name, "brand": entry.brand, "model": entry.model or None,
              "category": entry.category, "gtin": normalise_gtin(entry.gtin) if entry.gtin else None}
    return {k: v for k, v in values.items() if v}
