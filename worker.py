"""Run an RQ worker for Stockroom inside the application context.

    python worker.py             # work until stopped (Ctrl-C finishes the current job)
    python worker.py --burst     # work until the queues are empty, then exit

If Redis or the database goes away, the worker waits for it with backoff and carries on.
"""
import argparse
import logging

from app import create_app
from app.core.worker import run
from app.warmup import warm_up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--worker-class", help="dotted path of the RQ worker class (default: RQ_WORKER_CLASS)")
    parser.add_argument("--job-class", help="dotted path of the RQ job class (default: RQ_JOB_CLASS)")
    parser.add_argument("--name", help="worker name shown on the Jobs and workers page")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    warm_up(app)  # once, in the parent: every work horse and every fresh worker after an outage inherits it
    return run(app, burst=args.burst, name=args.name, worker_class_path=args.worker_class,
               job_class_path=args.job_class, logging_level=args.log_level)


if __name__ == "__main__":
    raise SystemExit(main())
