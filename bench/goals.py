"""The goals `make bench` checks, and how each benchmark reports its figure for the final table.

A benchmark calls `record(goal, figure, anchor, …)` for each goal it measures; when run by
`make bench`, the lines go to the file named by BENCH_RESULTS and `bench/report.py` prints them
as one table at the end. Run alone, a benchmark prints the same line itself.

`higher_is_better`: the figure should be at least `target` × the anchor (throughput);
otherwise at most `target` × the anchor (time, memory). A figure without an anchor (a fixed
limit, such as 50 ms or 200 MB) takes the limit as its anchor.
"""
from __future__ import annotations

import json
import os

GOALS = {
    1: "phase overhead vs a no-op job (same worker class and queue)",
    2: "products/min with 2 workers vs the analysers' CPU limit",
    3: "CSV rows/min with 2 workers vs process_row's CPU limit",
    4: "list pages p95 server time through gunicorn",
    5: "memory: web process, worker parent, analysis horse",
    6: "event streams; CSV ingest vs raw bulk insert",
    7: "benchmarks honest: anchors in the same run, no temp files",
}


def record(goal: int, what: str, figure: float, anchor: float, unit: str, target: float,
           higher_is_better: bool = False) -> dict:
    ratio = figure / anchor if anchor else float("inf")
    met = ratio >= target if higher_is_better else ratio <= target
    line = {"goal": goal, "what": what, "figure": round(figure, 2), "anchor": round(anchor, 2), "unit": unit,
            "ratio": round(ratio, 3), "target": f"{'≥' if higher_is_better else '≤'} {target:g}×",
            "verdict": "met" if met else "NOT met"}
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
    print(f"goal {goal}: {what}: {figure:,.1f} {unit} vs {anchor:,.1f} {unit} = {ratio:.2f}× "
          f"(target {line['target']}) → {line['verdict']}")
    return line
