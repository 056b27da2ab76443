from app.analysis.keywords import extract_keywords

TEXT = (
    "Sterling silver bracelet chain with lobster clasp. This 925 sterling silver curb chain "
    "is 18 cm long and suits charms. Sterling silver chain, polished, nickel free."
)


def test_keywords_are_relevant_lowercase_and_unique():
    keywords = extract_keywords(TEXT, max_keywords=6)
    assert 0 < len(keywords) <= 6
    assert all(k == k.lower() for k in keywords)
    assert len(set(keywords)) == len(keywords)
    assert any("sterling silver" in k for k in keywords)
    assert any("chain" in k for k in keywords)


def test_keywords_are_stable_and_empty_text_gives_none():
    assert extract_keywords(TEXT) == extract_keywords(TEXT)
    assert extract_keywords("   ") == []
