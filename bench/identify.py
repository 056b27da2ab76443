"""How often identification is right, per confidence band, on the labelled set.

Usage: python bench/identify.py [--threshold 80] [--cases tests/fixtures/identify/cases.jsonl] [--json]

Each case holds what the analysers read on a photo (stored by bench/make_identify_cases.py) and
what the uploader typed; it names the product a person says it is (a catalogue row, a reference
row, or none). A case is *right* when identification claims exactly that product (or claims
nothing when the answer is none). The table shows, per band, how many cases landed there and how
many were right; the last lines give the share right at or above the threshold (with a 95 %
Wilson lower bound) — the figure the constants in app/pipeline/identify.py were chosen for.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis.matching import CatalogueEntry, KeywordRule  # noqa: E402
from app.pipeline.identify import Inputs, Reference, identify  # noqa: E402
from app.pipeline.photo_text import candidate_words  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "identify"
CALIBRATION = REPO / "app" / "pipeline" / "calibration.json"
BANDS = [(0, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89), (90, 100)]
RULES = [KeywordRule("Jewellery › Chains", ("chain",)), KeywordRule("Jewellery › Earrings", ("earring", "hoop"))]


def load(cases_path: Path = FIXTURES / "cases.jsonl") -> tuple[list[dict], list[CatalogueEntry], dict]:
    catalogue = [CatalogueEntry(key=r["key"], name=r["name"], sku=r["sku"], brand=r["brand"], gtin=r["gtin"],
                                category=r["category"], model=r["model"])
                 for r in json.loads((cases_path.parent / "catalogue.json").read_text())]
    reference = {r["gtin"]: Reference(**{k: r[k] for k in ("gtin", "name", "brand", "quantity", "categories",
                                                           "source", "fetched_at")})
                 for r in json.loads((cases_path.parent / "reference.json").read_text())}
    cases = [json.loads(line) for line in cases_path.read_text().splitlines() if line.strip()]
    return cases, catalogue, reference


def evaluate(cases: list[dict], catalogue: list[CatalogueEntry], reference: dict) -> list[dict]:
    """Run identification on every case; each result: case id, kind, confidence, claimed, right."""
    brands = {e.brand.casefold(): e.brand for e in catalogue if e.brand}
    brands |= {r.brand.casefold(): r.brand for r in reference.values() if r.brand}
    results = []
    for case in cases:
        ocr = [dict(o, image=case.get("photo")) for o in case.get("ocr", [])]
        words = {w.casefold() for o in ocr for w in candidate_words(o["text"])}
        inputs = Inputs(codes=[dict(c, image=case.get("photo")) for c in case.get("codes", [])], ocr=ocr,
                        hint_name=case.get("hint_name"), hint_model=case.get("hint_model"), catalogue=catalogue,
                        reference=reference, rules=RULES,
                        known_brands={k: v for k, v in brands.items() if k in words})
        found = identify(inputs)
        results.append({"id": case["id"], "kind": case["kind"], "confidence": found.confidence, "path": found.path,
                        "claimed": found.matched, "expected": case["expected"],
                        "right": found.matched == case["expected"]})
    return results


def band_table(results: list[dict]) -> list[dict]:
    rows = []
    for low, high in BANDS:
        inside = [r for r in results if low <= r["confidence"] <= high]
        right = sum(r["right"] for r in inside)
        rows.append({"band": f"{low}–{high}", "low": low, "high": high, "cases": len(inside), "right": right,
                     "share": (right / len(inside)) if inside else None})
    return rows


def wilson_lower(right: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = right / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def summary(results: list[dict], threshold: int) -> dict:
    above = [r for r in results if r["confidence"] >= threshold]
    right = sum(r["right"] for r in above)
    return {"threshold": threshold, "cases": len(results), "at_or_above": len(above), "right_at_or_above": right,
            "share_at_or_above": right / len(above) if above else None,
            "wilson_lower_95": wilson_lower(right, len(above)),
            "wrong_at_or_above": [r["id"] for r in above if not r["right"]],
            "by_kind": dict(Counter(r["kind"] for r in results))}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=int, default=80)
    parser.add_argument("--cases", type=Path, default=FIXTURES / "cases.jsonl")
    parser.add_argument("--json", action="store_true", help="print the table and summary as JSON")
    parser.add_argument("--write", action="store_true",
                        help="store the table in app/pipeline/calibration.json (shown on the settings page)")
    args = parser.parse_args(argv[1:])
    results = evaluate(*load(args.cases))
    table, total = band_table(results), summary(results, args.threshold)
    if args.write:
        CALIBRATION.write_text(json.dumps({
            "made": date.today().isoformat(), "cases": len(results), "bands": table,
            "points": sorted([r["confidence"], r["right"]] for r in results)}, indent=None) + "\n")
    if args.json:
        print(json.dumps({"bands": table, "summary": total}, indent=1))
        return 0
    print(f"identification: {total['cases']} labelled cases ({args.cases.name})")
    print(f"{'confidence':>10} {'cases':>6} {'right':>6} {'share':>7}")
    for row in table:
        share = f"{row['share']:.0%}" if row["share"] is not None else "-"
        print(f"{row['band']:>10} {row['cases']:>6} {row['right']:>6} {share:>7}")
    share = total["share_at_or_above"]
    print(f"at or above {args.threshold}: {total['right_at_or_above']}/{total['at_or_above']} right "
          f"({share:.1%}; 95 % lower bound {total['wilson_lower_95']:.1%})" if share is not None
          else f"at or above {args.threshold}: no case")
    if total["wrong_at_or_above"]:
        print("  wrong at or above the threshold: " + ", ".join(total["wrong_at_or_above"]))
    kinds = defaultdict(lambda: [0, 0])
    for r in results:
        kinds[r["kind"]][0] += 1
        kinds[r["kind"]][1] += r["right"]
    print("by kind: " + "; ".join(f"{k} {right}/{n}" for k, (n, right) in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
