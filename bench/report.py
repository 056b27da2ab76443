"""The table `make bench` ends with: every goal's figure, its anchor, the ratio and the verdict.

Usage: python bench/report.py RESULTS_FILE [STARTED_EPOCH]
RESULTS_FILE holds the lines written by bench/goals.py `record`; with STARTED_EPOCH, goal 7 also
counts what the run left in the temporary folder (entries changed since it started, other than
the results file itself). A goal no benchmark reported is listed as "not measured", never left out.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.goals import GOALS  # noqa: E402


def left_behind(results: Path, started: float) -> list[str]:
    found = []
    for entry in Path(tempfile.gettempdir()).iterdir():
        try:
            changed = entry.lstat().st_mtime
        except OSError:
            continue
        if changed >= started and entry != results and entry.name.startswith("stockroom-bench"):
            found.append(entry.name)
    return sorted(found)


def main(path: str, started: str | None = None) -> int:
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    lines = [json.loads(raw) for raw in text.splitlines() if raw.strip()]
    if started:
        left = left_behind(Path(path), float(started))
        lines.append({"goal": 7, "what": "temporary files and folders left by the run", "figure": len(left),
                      "anchor": 0, "unit": "entries", "ratio": 0, "target": "= 0",
                      "verdict": "met" if not left else "NOT met"})
        if left:
            print("left in the temporary folder: " + ", ".join(left[:20]))
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
    sys.exit(main(*sys.argv[1:3]))
