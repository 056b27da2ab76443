"""Pipeline settings, as read by app.config (PIPELINE_SETTINGS holds their names and defaults)."""
from __future__ import annotations

from flask import current_app

from app.config import PIPELINE_SETTINGS


def setting(name: str) -> int:
    """An integer pipeline setting (see app.config.PIPELINE_SETTINGS for names and meanings)."""
    return int(current_app.config.get(name, PIPELINE_SETTINGS[name]))
