"""Build the labelled identification set: tests/fixtures/identify/{catalogue,reference,cases}.json*.

Usage: python bench/make_identify_cases.py     (about three minutes: it runs OCR on every photo)

Photo cases use what the real analysers read (barcodes with their source, OCR lines with
boxes) on real product photos (the shared zxing-cpp samples) and on the made photo set
(tests/fixtures/barcodes-made); those readings are stored, so `bench/identify.py` runs in a
second and measures identification itself. Every case names the product a person would say the
photo shows: a catalogue row, a reference row, or none ("not a product we know").

Paths covered: catalogue GTIN (bars, printed digits), reference GTIN, GTIN unknown to both, text
only (as uploaders type: exact, abbreviated, misspelt, reordered, SKU or model typed,
ambiguous size variants), nothing readable, and misleading text (photo or typed words that
partly match the catalogue, or a barcode that contradicts what the uploader typed).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis.barcodes import normalise_gtin  # noqa: E402
from app.analysis.images import ImageRejected, load_image  # noqa: E402
from app.analysis.ocr import read_text  # noqa: E402
from app.analysis.printed_digits import read_codes  # noqa: E402
from bench.labels import expected_text  # noqa: E402

OUT = REPO / "tests" / "fixtures" / "identify"
SHARED = REPO.parent / "shared" / "fixtures" / "barcodes"
MADE = REPO / "tests" / "fixtures" / "barcodes-made"
JEWELLERY = REPO / "tests" / "fixtures" / "aliexpress" / "jewellery-orders-135.json"
SEED = 1201
# What the shop calls the things whose barcodes are in the photo sets (books, CDs, groceries).
SHOP_WORDS = ["paperback", "hardback novel", "CD album", "cereal box", "tea tin", "biscuits", "pasta 500g",
              "olive oil", "notebook A5", "crayons 12", "shampoo", "dish soap", "coffee beans", "rice 1kg",
              "soup can", "pen set", "cat food", "candles", "batteries AA", "glue stick"]
BRANDS = ["Penguin", "Hachette", "Lidl", "Tesco", "Ferrero", "Barilla", "Stabilo", "Faber", "Kleenex", "Nestle"]
UNRELATED = ["Desk lamp", "Garden hose 20m", "Yoga mat", "Phone case", "Bike bell", "Wall clock", "Coffee mug",
             "Door mat", "Umbrella", "Hair dryer", "Picture frame", "Water bottle", "Tool box", "Backpack"]


def _photos() -> list[tuple[str, Path, str | None]]:
    """(label, path, expected GTIN or None) for every photo with or without a retail barcode."""
    out = []
    roots = [(SHARED, ["ean13-1", "ean13-2", "upca-2", "falsepositives-1"]), (MADE, ["ean13", "upca", "no-barcode"])]
    for root, folders in roots:
        for folder in folders:
            for path in sorted((root / folder).glob("*")):
                if path.suffix == ".txt":
                    continue
                expected = path.with_suffix(".txt")
                text = expected_text(folder, path.name, expected.read_text().strip() if expected.exists() else None)
                gtin = normalise_gtin(text) if text else None
                out.append((f"{root.name}/{folder}/{path.name}", path, gtin))
    return out


def _read(path: Path) -> dict | None:
    try:
        image = load_image(path)
    except ImageRejected:
        return None
    ocr = [{"text": line.text, "confidence": round(line.confidence, 3), "box": [list(p) for p in line.box],
            "width": image.width, "height": image.height}
           for line in (read_text(image) if min(image.size) >= 16 else [])]
    codes = [c.as_json() for c in read_codes(image, [(o["text"], o["confidence"]) for o in ocr])]
    return {"codes": codes, "ocr": ocr}


def _typo(rng: random.Random, text: str) -> str:
    words = text.split()
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        j = rng.randrange(1, len(w) - 1)
        w = rng.choice([w[:j] + w[j + 1:], w[:j] + w[j + 1] + w[j] + w[j + 2:], w[:j] + rng.choice("aeiou") + w[j + 1:]])
    words[i] = w
    return " ".join(words)


def _catalogue(rng: random.Random, gtins: list[str]) -> tuple[list[dict], list[dict]]:
    titles = sorted({row["title"] for row in json.loads(JEWELLERY.read_text()) if row.get("title")})
    items = [{"key": f"item:{n}", "name": t, "sku": f"JW-{n:03d}", "model": None, "brand": None, "gtin": None,
              "category": "Jewellery"} for n, t in enumerate(titles, 1)]
    half = len(gtins) // 2
    for n, gtin in enumerate(gtins[:half], len(items) + 1):
        brand = rng.choice(BRANDS)
        items.append({"key": f"item:{n}", "name": f"{brand} {rng.choice(SHOP_WORDS)} {n}", "sku": f"SH-{n:03d}",
                      "model": None, "brand": brand, "gtin": gtin, "category": "Shop"})
    reference = []
    for gtin in gtins[half:half + (len(gtins) - half) * 2 // 3]:
        brand = rng.choice(BRANDS)
        reference.append({"gtin": gtin, "name": f"{rng.choice(SHOP_WORDS).capitalize()} ({brand})", "brand": brand,
                          "quantity": None, "categories": "Groceries", "source": "reference-sample.jsonl",
                          "fetched_at": "2026-11-30T09:00:00+00:00"})
    return items, reference


def main() -> int:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    photos = []
    for label, path, gtin in _photos():
        read = _read(path)
        if read is not None:
            photos.append({"photo": label, "gtin": gtin, **read})
        print(f"read {label}", file=sys.stderr)
    gtins = sorted({p["gtin"] for p in photos if p["gtin"]})
    rng.shuffle(gtins)
    items, reference = _catalogue(rng, gtins)
    by_gtin = {i["gtin"]: i for i in items if i["gtin"]}
    ref_gtins = {r["gtin"] for r in reference}
    cases: list[dict] = []

    def add(kind: str, expected: str | None, **inputs) -> None:
        cases.append({"id": f"{kind}-{len(cases) + 1:03d}", "kind": kind, "expected": expected, **inputs})

    for p in photos:
        photo = {"photo": p["photo"], "codes": p["codes"], "ocr": p["ocr"]}
        if p["gtin"] in by_gtin:
            item = by_gtin[p["gtin"]]
            add("catalogue gtin", item["key"], **photo)
            if rng.random() < 0.5:
                add("catalogue gtin, name typed", item["key"], hint_name=item["name"].split(" ", 1)[1], **photo)
            else:
                add("misleading: barcode contradicts the typed name", None, hint_name=rng.choice(UNRELATED), **photo)
        elif p["gtin"] in ref_gtins:
            add("reference gtin", f"reference:{p['gtin']}", **photo)
        elif p["gtin"]:
            add("gtin unknown to both", None, **photo)
        else:
            add("nothing", None, **photo)
            add("misleading: unrelated typed name", None, hint_name=rng.choice(UNRELATED), **photo)
    jewellery = [i for i in items if i["category"] == "Jewellery"]
    for item in rng.sample(jewellery, 40):
        style = rng.choice(["exact", "lower", "typo", "reorder", "sku", "short"])
        name = item["name"]
        if style == "lower":
            add("text: exact, lower case", item["key"], hint_name=name.lower())
        elif style == "exact":
            add("text: exact title", item["key"], hint_name=name)
        elif style == "typo":
            add("text: misspelt", item["key"], hint_name=_typo(rng, name))
        elif style == "reorder":
            words = name.split()
            add("text: words reordered", item["key"], hint_name=" ".join(words[1:] + words[:1]))
        elif style == "sku":
            add("text: SKU typed as model", item["key"], hint_model=item["sku"])
        else:  # the size or count left out: several rows fit
            add("text: abbreviated (size left out)", item["key"], hint_name=" ".join(name.split()[:3]))
    for name in ["Silver chain bracelet 18cm", "Gold hoop earrings", "Charm bracelet kit", "Pearl necklace 45cm",
                 "Leather cord 2mm", "Bead storage box", "Ring sizer", "Earring backs silicone 200pcs",
                 "Jewellery cleaning cloth", "Tweezers set", "Magnetic clasp gold", "Stretch cord clear"]:
        add("misleading: similar words, not in the catalogue", None, hint_name=name)
    page = next(p for p in photos if p["photo"].endswith("falsepositives-1/14.webp"))
    for hint in rng.sample(UNRELATED, 4):
        add("misleading: printed page", None, hint_name=hint, codes=page["codes"], ocr=page["ocr"],
            photo=page["photo"])
    (OUT / "catalogue.json").write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n")
    (OUT / "reference.json").write_text(json.dumps(reference, indent=1, ensure_ascii=False) + "\n")
    with open(OUT / "cases.jsonl", "w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, {len(items)} catalogue rows, {len(reference)} reference rows under {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
