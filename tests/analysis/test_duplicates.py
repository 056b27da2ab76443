from pathlib import Path

from PIL import Image

from app.analysis.duplicates import find_near_duplicates, hash_distance, perceptual_hash

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barcodes" / "falsepositives-1"


def test_resized_copy_has_distance_zero_and_other_scene_is_far():
    original = Image.open(FIXTURES / "01.webp")
    resized = original.resize((original.width // 2, original.height // 2), Image.Resampling.LANCZOS)
    other = Image.open(FIXTURES / "21.webp")

    h_original = perceptual_hash(original)
    assert len(h_original) == 16
    assert hash_distance(h_original, perceptual_hash(resized)) == 0
    assert hash_distance(h_original, perceptual_hash(other)) > 20


def test_find_near_duplicates_sorts_and_filters():
    candidates = [("far", "ffffffffffffffff"), ("same", "0000000000000000"), ("near", "0000000000000007"), ("none", "")]
    assert find_near_duplicates("0000000000000000", candidates) == [("same", 0), ("near", 3)]
