"""The worker parent's warm-up leaves nothing for a forked job to import or build first."""
import sys

from app.extensions import db
from app.warmup import warm_up


def test_warm_up_loads_what_the_first_analysis_job_would_pay_for(app):
    compiled_before = len(db.engine._compiled_cache)
    took = warm_up(app)
    assert set(took) == {"mappers", "task modules", "phase modules", "phase statements", "image hashing",
                         "OCR engine"}
    # imagehash imports scipy's FFT only on its first hash: the warm-up hashes once so no job does.
    assert "scipy.fftpack" in sys.modules
    assert "rapidocr_onnxruntime" in sys.modules
    # The phase runner's statements are compiled into the engine's cache, which forked horses inherit;
    # no connection stays checked out for them to inherit.
    assert len(db.engine._compiled_cache) > compiled_before
    assert db.engine.pool.checkedout() == 0
