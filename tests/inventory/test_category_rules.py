import json
from collections import Counter
from pathlib import Path

import pytest

from app.inventory.category_rules import (
    DEFAULT_RULES,
    NO_MATCH_REASON,
    CategoryRule,
    assign_category,
    default_rule_dicts,
    rules_from_dicts,
)
from app.inventory.supplier_parsing import parse_export

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aliexpress"

# The category mix the 135-line export was written with (see the fixtures README).
# The file lists the lines grouped in this order.
EXPECTED_MIX = [
    ("Chains › Bracelet Chains", 48),
    ("Earrings › Components", 29),
    ("Charms › Pendants", 24),
    ("Accessories › Bag Accessories", 12),
    ("Chains › Necklace Chains", 10),
    ("Components › Miscellaneous", 6),
    ("Findings › Carabiners", 3),
    ("Findings › Connectors", 3),
]


def jewellery_rows():
    data = (FIXTURES / "jewellery-orders-135.json").read_bytes()
    result = parse_export(data, "jewellery-orders-135.json")
    assert result.errors == []
    return result.rows


def test_jewellery_export_category_mix():
    rows = jewellery_rows()
    assert len(rows) == 135
    counts = Counter(assign_category(r.title).path for r in rows)
    assert counts == Counter(dict(EXPECTED_MIX))


def test_jewellery_export_each_line_in_its_group():
    expected = [path for path, count in EXPECTED_MIX for _ in range(count)]
    got = [assign_category(r.title).path for r in jewellery_rows()]
    wrong = [
        (i + 1, r.title, g, e)
        for i, (r, g, e) in enumerate(zip(jewellery_rows(), got, expected))
        if g != e
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("title", "path"),
    [
        ("Bag Charm Keychain Clasp 20pcs", "Accessories › Bag Accessories"),
        ("Acrylic Bag Pendant Decoration 20pcs", "Accessories › Bag Accessories"),
        ("Purse Strap Chain Accessory 50cm", "Accessories › Bag Accessories"),
        ("Lobster Clasp Carabiner 5mm 50pcs", "Findings › Carabiners"),
        ("Double Loop Connector Links 50pcs", "Findings › Connectors"),
        ("Huggie Hoop Earring Findings 2mm 10pcs", "Earrings › Components"),
        ("Satellite Bead Necklace Chain 16cm", "Chains › Necklace Chains"),
        (
            "Gold Plated Figaro Chain for Bracelet Making 5mm",
            "Chains › Bracelet Chains",
        ),
        ("Enamel Heart Charm Pendant 10pcs", "Charms › Pendants"),
        ("Jump Rings Open 4mm 100pcs", "Components › Miscellaneous"),
        ("ÉARRING HOOKS", "Earrings › Components"),
    ],
)
def test_keyword_matches(title, path):
    decision = assign_category(title)
    assert decision.path == path
    assert decision.score == 1.0
    assert "keyword" in decision.reason


def test_word_boundaries():
    # "charming" is not "charm", "beadwork" is not "bead"
    assert assign_category("Charming Beadwork Box").path is None


def test_fuzzy_fallback_catches_misspellings():
    decision = assign_category("Braclet Chain 18cm")
    assert decision.path == "Chains › Bracelet Chains"
    assert 0.85 <= decision.score < 1.0
    assert "similar" in decision.reason
    assert assign_category("Earing Hooks 100pcs").path == "Earrings › Components"


def test_fuzzy_threshold_is_respected():
    assert assign_category("Braclet Chain", fuzzy_threshold=99).path is None


def test_no_match():
    decision = assign_category("Ultrasonic Cleaner 6L")
    assert decision.path is None
    assert decision.reason == NO_MATCH_REASON
    assert decision.score == 0.0
    assert assign_category("").path is None


def test_priority_then_longest_keyword():
    rules = rules_from_dicts(
        [
            {"path": "A", "keywords": ["chain"], "priority": 1},
            {"path": "B", "keywords": ["gold chain"], "priority": 1},
            {"path": "C", "keywords": ["gold"], "priority": 5},
        ]
    )
    assert assign_category("Gold Chain", rules).path == "C"
    assert assign_category("Gold Chain", rules[:2]).path == "B"
    assert assign_category("Silver Chain", rules).path == "A"


def test_rules_accept_dicts_directly():
    rules = [{"path": "Tools > Pliers", "keywords": "plier, cutter", "priority": "3"}]
    decision = assign_category("Round Nose Pliers", rules)
    assert decision.path == "Tools › Pliers"


def test_rules_round_trip_as_json():
    rules = rules_from_dicts(DEFAULT_RULES)
    stored = json.loads(json.dumps([r.to_dict() for r in rules], ensure_ascii=False))
    assert rules_from_dicts(stored) == rules
    assert all(isinstance(r, CategoryRule) for r in rules)


def test_default_rule_dicts_is_a_copy():
    copy = default_rule_dicts()
    copy[0]["keywords"].append("x")
    assert "x" not in DEFAULT_RULES[0]["keywords"]


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ({"keywords": ["x"]}, "path"),
        ({"path": "A ›  › B", "keywords": ["x"]}, "empty level"),
        ({"path": "A", "keywords": []}, "keyword"),
        ({"path": "A", "keywords": [" ", "--"]}, "keyword"),
        ({"path": "A", "keywords": 5}, "keywords"),
        ({"path": "A", "keywords": ["x"], "priority": "high"}, "priority"),
    ],
)
def test_invalid_rules_are_refused(item, match):
    with pytest.raises(ValueError, match=match):
        rules_from_dicts([item])
