"""Fixtures of the core tests: real worker processes."""
from tests.workers import start_worker, worker_env  # noqa: F401 (fixtures)
