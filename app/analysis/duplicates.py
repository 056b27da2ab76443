"""Perceptual hashes for spotting the same photo uploaded twice (resized or re-encoded)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import imagehash

from app.analysis.images import ImageInput, load_image

K = TypeVar("K")


def perceptual_hash(image: ImageInput) -> str:
    """Return the 64-bit pHash of an image as 16 hex characters."""
    return str(imagehash.phash(load_image(image)))


def hash_distance(a: str, b: str) -> int:
    """Return the Hamming distance between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes differ in length: {len(a)} and {len(b)}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def find_near_duplicates(
    hash: str, candidates: Iterable[tuple[K, str]], max_distance: int = 10
) -> list[tuple[K, int]]:
    """Return (key, distance) for candidates within max_distance, nearest first."""
    # 10 of 64 bits: re-encodes and resizes score 0–4, a 5 % crop ~14, other scenes 26+.
    found = []
    for key, other in candidates:
        if not other or len(other) != len(hash):
            continue
        distance = hash_distance(hash, other)
        if distance <= max_distance:
            found.append((key, distance))
    found.sort(key=lambda pair: pair[1])
    return found
