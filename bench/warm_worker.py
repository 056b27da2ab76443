"""What a work horse pays before its job starts, with and without the worker's warm-up.

RQ's forking worker runs every job in a fresh child. This measures, in one run on this machine,
three kinds of child forked from the same parent, interleaved, each timed from fork to exit:
- anchor: a child that does nothing (the cost of the fork itself, a no-op job's floor);
- cold: a child that does what a phase job needed before its work could start when the parent
  was not warmed (mapper configuration, task and phase imports, the OCR engine, image hashing);
- warm: the same child after `app.warmup.warm_up` ran once in the parent (what `worker.py` does).

Usage: python bench/warm_worker.py [--rounds 5]
Runs in a throw-away instance folder; leaves nothing behind; prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = Path(tempfile.mkdtemp(prefix="stockroom-bench-warm-"))
os.environ["STOCKROOM_INSTANCE"] = str(WORK / "instance")


def _prepare_child(app) -> None:
    from app.warmup import warm_up

    warm_up(app)  # in a cold child this is the work the job would have paid for


def _timed_child(action) -> float:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            action()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)
    from app import create_app
    from app.warmup import warm_up

    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0"})  # nothing here talks to Redis
    anchor, cold, warm = [], [], []
    try:
        for _ in range(args.rounds):
            anchor.append(_timed_child(lambda: None))
            cold.append(_timed_child(lambda: _prepare_child(app)))
        warm_up(app)
        for _ in range(args.rounds):
            anchor.append(_timed_child(lambda: None))
            warm.append(_timed_child(lambda: _prepare_child(app)))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    a, c, w = (statistics.median(x) for x in (anchor, cold, warm))
    print(f"{'child':<34}{'median ms':>10}{'vs anchor':>11}")
    print(f"{'anchor: fork, nothing':<34}{a:>10.1f}{1:>10.2f}x")
    print(f"{'cold: prepares itself':<34}{c:>10.1f}{c / a:>10.2f}x")
    print(f"{'warm: parent warmed up once':<34}{w:>10.1f}{w / a:>10.2f}x")
    print(f"goal: a warm child within 1.2x of the anchor -> {'met' if w <= 1.2 * a else 'NOT met'}")


if __name__ == "__main__":
    main()
