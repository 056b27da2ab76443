"""Figures for the inbox extractor: how often it names the right catalogue item, and how fast.

Usage: python bench/inbox.py
The catalogue is the real titles of the shared AliExpress jewellery export (one item per
distinct title). Each message is built from a title: the exact title, and the title with its
last word dropped (customers abbreviate), with a quantity phrase in front.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis.matching import CatalogueEntry  # noqa: E402
from app.inbox import pii  # noqa: E402
from app.inbox.extractor import extract  # noqa: E402
from app.inbox.signatures import hmac_sha256, twilio_signature  # noqa: E402

EXPORT = REPO.parent / "shared" / "fixtures" / "aliexpress" / "jewellery-orders-135.json"
PHRASES = ["3 boxes of {}", "please send two {}", "a dozen {}", "2x {}", "{} x4"]


def catalogue() -> list[CatalogueEntry]:
    titles = sorted({row["title"] for row in json.loads(EXPORT.read_text()) if row.get("title")})
    return [CatalogueEntry(key=f"item:{n}", name=t, sku=f"SKU-{n:04d}") for n, t in enumerate(titles, 1)]


def run(entries: list[CatalogueEntry], variant: str) -> dict:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    right = ready = wrong_but_ready = 0
    timings = []
    for n, entry in enumerate(entries):
        words = entry.name.split()
        name = entry.name if variant == "exact title" else " ".join(words[:-1] if len(words) > 2 else words)
        text = PHRASES[n % len(PHRASES)].format(name.lower()) + " by Friday"
        start = time.perf_counter()
        result = extract(text, now, entries)
        timings.append(time.perf_counter() - start)
        line = result.lines[0] if result.lines else None
        right += bool(line and line.entry and line.entry.key == entry.key)
        one_click = result.confidence >= 80 and not result.reasons
        ready += one_click
        wrong_but_ready += one_click and not (line and line.entry and line.entry.key == entry.key)
    return {"variant": variant, "messages": len(entries), "right_item": right, "above_80_no_doubt": ready,
            "wrong_but_ready": wrong_but_ready,
            "ms_median": statistics.median(timings) * 1000, "ms_p95": sorted(timings)[int(len(timings) * .95)] * 1000}


def main() -> None:
    if not EXPORT.exists():
        print(f"no catalogue fixture at {EXPORT.name}; nothing measured")
        return
    entries = catalogue()
    print(f"catalogue: {len(entries)} distinct titles from {EXPORT.name}")
    for variant in ("exact title", "last word dropped"):
        r = run(entries, variant)
        print(f"{r['variant']:>18}: right item {r['right_item']}/{r['messages']}, "
              f"one-click (confidence >= 80, no doubt) {r['above_80_no_doubt']}/{r['messages']} "
              f"of which wrong {r['wrong_but_ready']}, "
              f"extract {r['ms_median']:.2f} ms median, {r['ms_p95']:.2f} ms p95")
    text = "Call +44 7700 900123, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, 3 boxes please " * 4
    start = time.perf_counter()
    for _ in range(2000):
        pii.mask(text)
    print(f"PII find+mask of a {len(text)}-character message: {(time.perf_counter() - start) / 2000 * 1e6:.0f} µs")
    params = [(f"Param{i}", "value" * 3) for i in range(12)]
    start = time.perf_counter()
    for _ in range(20000):
        twilio_signature("token", "https://example.test/hooks/abc/sms", params)
        hmac_sha256("secret", b"x" * 1024)
    print(f"Twilio + HMAC-SHA256 signature check pair: {(time.perf_counter() - start) / 20000 * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
