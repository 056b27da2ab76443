"""The worker parent's warm-up leaves nothing for a forked job to import or build first."""
import sys

from app.warmup import warm_up


def test_warm_up_loads_what_the_first_analysis_job_would_pay_for(app):
    took = warm_up(app)
    assert set(took) == {"mappers", "task modules", "phase modules", "image hashing", "OCR engine"}
    # imagehash imports scipy's FFT only on its first hash: the warm-up hashes once so no job does.
    assert "scipy.fftpack" in sys.modules
    assert "rapidocr_onnxruntime" in sys.modules
