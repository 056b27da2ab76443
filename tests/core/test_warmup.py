"""The worker parent's warm-up leaves nothing for a forked job to import or build first."""
import gc
import sys

from app.extensions import db
from app.warmup import warm_up


def test_warm_up_loads_what_the_first_analysis_job_would_pay_for(app):
    compiled_before = len(db.engine._compiled_cache)
    try:
        took = warm_up(app)
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # this test process is no worker parent: its garbage must stay collectable
    assert set(took) == {"mappers", "task modules", "phase modules", "phase statements", "image hashing",
                         "keyword patterns", "lazy imports", "OCR engine"}
    # What the warm-up built is out of the collector's sight: a horse's collections leave those pages shared.
    assert frozen > 0
    # YAKE with networkx (the SEO phase's keywords) cost every SEO job ~160 ms to import.
    assert {"yake", "networkx", "app.refdata.lookup"} <= set(sys.modules)
    # imagehash imports scipy's FFT only on its first hash: the warm-up hashes once so no job does.
    assert "scipy.fftpack" in sys.modules
    assert "rapidocr_onnxruntime" in sys.modules
    # The phase runner's statements are compiled into the engine's cache, which forked horses inherit;
    # no connection stays checked out for them to inherit.
    assert len(db.engine._compiled_cache) > compiled_before
    assert db.engine.pool.checkedout() == 0
    # Every built-in category keyword's pattern is compiled: no analysis job compiles them again.
    from app.analysis.matching import keyword_pattern
    from app.inventory.category_rules import default_rule_dicts

    misses = keyword_pattern.cache_info().misses
    for rule in default_rule_dicts():
        for keyword in rule["keywords"]:
            keyword_pattern(keyword)
    assert keyword_pattern.cache_info().misses == misses
