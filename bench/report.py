"""The table `make bench` ends with: every goal's figure, its anchor, the ratio and the verdict.

Usage: python bench/report.py RESULTS_FILE   (the lines written by bench/goals.py `record`)
A goal no benchmark reported is listed as "not measured", never left out.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.goals import GOALS  # noqa: E402


def main(path: str) -> int:
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    lines = [json.loads(raw) for raw in text.splitlines() if raw.strip()]
    header = f"{'goal':<5}{'measure':<62}{'figure':>12}{'anchor':>12}  {'unit':<10}{'ratio':>7}  {'target':<7} verdict"
    print("\n== Goals\n" + header + "\n" + "-" * len(header))
    for goal, title in GOALS.items():
        rows = [line for line in lines if line["goal"] == goal]
        if not rows:
            print(f"{goal:<5}{title[:61]:<62}{'':>12}{'':>12}  {'':<10}{'':>7}  {'':<7} not measured")
        for line in rows:
            print(f"{goal:<5}{line['what'][:61]:<62}{line['figure']:>12,.1f}{line['anchor']:>12,.1f}  "
                  f"{line['unit']:<10}{line['ratio']:>7.2f}  {line['target']:<7} {line['verdict']}")
    missed = sum(1 for line in lines if line["verdict"] != "met")
    print(f"\n{len(lines)} figures, {missed} not met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
