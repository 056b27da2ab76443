"""Pipeline settings: the app config first (tests, overrides), then the environment, then a default."""
from __future__ import annotations

import os

from flask import current_app

DEFAULTS = {
    "PIPELINE_LEASE_SECONDS": 30,  # a running phase not heard from for this long is requeued
    "PIPELINE_SWEEP_SECONDS": 20,  # how often the sweeper looks for dead phases
    "PIPELINE_JOB_TIMEOUT": 900,
    "PIPELINE_FAIR_SHARE": 5,  # products per uploader on the default queue before the rest go to "low"
    "PIPELINE_MAX_FILE_BYTES": 25 * 1024 * 1024,
    "PIPELINE_MAX_UPLOAD_BYTES": 100 * 1024 * 1024,
    "PIPELINE_MAX_PIXELS": 50_000_000,
}


def setting(name: str) -> int:
    """An integer pipeline setting (see DEFAULTS for names and meanings)."""
    if name in current_app.config:
        return int(current_app.config[name])
    raw = os.environ.get(name)
    return int(raw) if raw else DEFAULTS[name]
