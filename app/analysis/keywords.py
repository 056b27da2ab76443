"""Pick the words that describe a product from free text (titles, OCR output) with YAKE."""

from __future__ import annotations


def extract_keywords(text: str, *, max_keywords: int = 10, language: str = "en") -> list[str]:
    """Return up to max_keywords lower-cased keywords, most relevant first, without repeats."""
    if not text or not text.strip() or max_keywords <= 0:
        return []
    # Ask for extra candidates: YAKE often returns case variants that collapse into one.
    import yake  # 40 MB with networkx: loaded by the jobs that extract keywords, not by every web process

    extractor = yake.KeywordExtractor(lan=language, n=2, dedupLim=0.7, top=max_keywords * 3)
    scored = extractor.extract_keywords(text)
    # Lower YAKE score is more relevant; ties break alphabetically so the order is stable.
    scored = sorted(scored, key=lambda pair: (float(pair[1]), pair[0].lower()))
    keywords: list[str] = []
    for phrase, _score in scored:
        phrase = " ".join(phrase.lower().split())
        if phrase and phrase not in keywords:
            keywords.append(phrase)
        if len(keywords) == max_keywords:
            break
    return keywords
