"""Fingerprints: what a generated file was made from, reduced to one hash.

Two runs that would make the same file give the same fingerprint: the same source photos (by
content hash), the same generator and version, the same parameters and the same slot. A run
finds the slot's current file with the fingerprint it is about to make and takes that file as
it is, at no charge; anything that changes the result (a new photo, other settings, another
generator version, the image model switched on) changes the fingerprint.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return str(value.normalize())
    return value


def fingerprint(*, file_type: str, slot: str, sources: list[str], generator: str, version: str,
                parameters: dict | None = None, extra: dict | None = None) -> str:
    """The hex SHA-256 of the inputs in a canonical JSON form (key order and float noise removed)."""
    document = {"type": str(file_type), "slot": slot, "sources": list(sources), "generator": generator,
                "version": version, "parameters": _plain(parameters or {}), "extra": _plain(extra or {})}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
