"""Identify a product from what the analysers read, and say how sure we are, with the evidence.

Confidence (0–100), computed only from evidence that is stored next to it:

1. Barcode path. A barcode whose text is a valid GTIN (check digit right) and equals the GTIN
   of catalogue rows (inventory items, earlier completed products):
     * the rows agree on one product          → 96
       + 3 when the photo text or the hints also match that row (match score ≥ 80) → 99
     * the rows disagree (several names)      → 70, the candidates are listed
2. Text path (no catalogue GTIN hit). OCR lines, the user's name/model hints and (if enabled) the
   vision model's answer are fuzzy-matched against catalogue names, SKUs, models and brands
   (`app.analysis.matching.match_text`, score s 0–100):
     confidence = round(0.85 × s), minus 15 when the runner-up (another row) is within 5 points.
   A text match alone is at most 85, so it passes the default threshold (80) only for an exact
   SKU/model/GTIN-in-text hit (s ≥ 95).
3. Nothing matched → 0 (any GTIN read is kept, the rest stays empty).

Fields come only from what matched (the catalogue row) or was read (a barcode's GTIN); the
category comes from the matched row, else from the organisation's keyword rules applied to the
text, else stays empty. Condition is the user's hint, never inferred.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.analysis.barcodes import normalise_gtin
from app.analysis.matching import CatalogueEntry, KeywordRule, categorise, match_gtin, match_text

GTIN_AGREED = 96
GTIN_CORROBORATED_BONUS = 3
GTIN_CONFLICT = 70
TEXT_WEIGHT = 0.85
AMBIGUITY_MARGIN = 5
AMBIGUITY_PENALTY = 15
CORROBORATION_SCORE = 80


@dataclass
class Identification:
    fields: dict = field(default_factory=dict)  # name, brand, model, category, gtin (only what was found)
    confidence: int = 0
    evidence: dict = field(default_factory=dict)


def _entry_json(entry: CatalogueEntry) -> dict:
    return {"key": str(entry.key), "name": entry.name, "sku": entry.sku, "brand": entry.brand,
            "model": entry.model, "gtin": entry.gtin, "category": entry.category}


def _fields_from(entry: CatalogueEntry) -> dict:
    values = {"name": entry.name, "brand": entry.brand, "model": entry.model or None,
              "category": entry.category, "gtin": normalise_gtin(entry.gtin) if entry.gtin else None}
    return {k: v for k, v in values.items() if v}


def identify(*, barcodes: list[dict], texts: list[dict], catalogue: list[CatalogueEntry],
             rules: list[KeywordRule]) -> Identification:
    """barcodes: [{format, text, image}], texts: [{text, source}] (ocr/hint/vision)."""
    result = Identification()
    ev = result.evidence
    ev["formula"] = "see app/pipeline/identify.py"
    gtins = []
    for b in barcodes:
        gtin = normalise_gtin(b["text"])
        if gtin and gtin not in [g["gtin"] for g in gtins]:
            gtins.append({"gtin": gtin, "barcode": b})
    ev["gtins_read"] = gtins
    query = [t["text"] for t in texts if t.get("text")]
    ev["texts_used"] = texts

    for g in gtins:
        rows = match_gtin(g["gtin"], catalogue)
        if not rows:
            continue
        names = {r.name.strip().lower() for r in rows}
        entry = rows[0]
        ev["gtin_match"] = {"gtin": g["gtin"], "barcode": g["barcode"], "rows": [_entry_json(r) for r in rows]}
        if len(names) > 1:
            result.confidence = GTIN_CONFLICT
            ev["reason"] = f"GTIN {g['gtin']} matches {len(rows)} catalogue rows with different names"
            result.fields = {"gtin": g["gtin"]}
            break
        result.fields = _fields_from(entry)
        result.fields["gtin"] = g["gtin"]
        result.confidence = GTIN_AGREED
        ev["reason"] = f"barcode {g['barcode']['format']} {g['barcode']['text']} is catalogue row {entry.key}"
        corroboration = match_text(query, [entry], limit=1, min_score=CORROBORATION_SCORE) if query else []
        if corroboration:
            m = corroboration[0]
            result.confidence += GTIN_CORROBORATED_BONUS
            ev["corroborated_by"] = {"field": m.matched_field, "value": m.matched_text, "score": m.score}
        break
    else:
        _identify_by_text(result, query, catalogue)
        if gtins and "gtin" not in result.fields:
            result.fields["gtin"] = gtins[0]["gtin"]
            ev.setdefault("notes", []).append(f"GTIN {gtins[0]['gtin']} was read but is not in the catalogue")

    if not result.fields.get("category"):
        text = " ".join(query + [result.fields.get("name", "")])
        category, reason = categorise(text, rules) if text.strip() and rules else (None, "no text to categorise")
        ev["category_rule"] = reason
        if category:
            result.fields["category"] = category
    result.confidence = max(0, min(100, int(result.confidence)))
    return result


def _identify_by_text(result: Identification, query: list[str], catalogue: list[CatalogueEntry]) -> None:
    ev = result.evidence
    if not query:
        ev["reason"] = "no barcode in the catalogue and no text was read or given"
        return
    matches = match_text(query, catalogue, limit=3)
    ev["text_matches"] = [{"row": _entry_json(m.entry), "score": m.score, "field": m.matched_field,
                           "matched": m.matched_text} for m in matches]
    if not matches:
        ev["reason"] = "no catalogue row matched the text read or given"
        return
    best = matches[0]
    confidence = round(TEXT_WEIGHT * best.score)
    if len(matches) > 1 and matches[1].entry.key != best.entry.key \
            and best.score - matches[1].score < AMBIGUITY_MARGIN:
        confidence -= AMBIGUITY_PENALTY
        ev["ambiguous_with"] = str(matches[1].entry.key)
    result.confidence = confidence
    result.fields = _fields_from(best.entry)
    ev["reason"] = (f'text matched catalogue row {best.entry.key} on {best.matched_field} '
                    f'"{best.matched_text}" (score {best.score})')
