"""Memory of the processes that hold the analysers: the worker parent after its warm-up, one
analysis work horse's peak on a 12 MP photo and on a thin strip, and whether `/healthz` loads an
analyser into the web process. Figures against the goals' limits; nothing asserted.

Each horse is forked from the warmed parent, as RQ forks it, runs every offline analyser on the
photo as the analysis phase does (`analyse_photo`: barcodes, quality, hash, then OCR) and exits; its peak resident memory comes from
the kernel's accounting of that child (wait4). The photos are drawn here, in a scratch folder
removed at the end.

    python bench/memory.py
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
WORK = Path(tempfile.mkdtemp(prefix="stockroom-bench-memory-"))
atexit.register(shutil.rmtree, WORK, True)
os.environ["STOCKROOM_INSTANCE"] = str(WORK / "instance")

from goals import record  # noqa: E402  (bench/goals.py)


def _rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def draw_photos() -> dict[str, Path]:
    """A 12 MP label photo (4000×3000, text and texture) and a thin strip (544×68) with one line of text."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from app.core import fonts

    rng = np.random.default_rng(7)
    big = Image.fromarray(rng.integers(90, 200, (3000, 4000, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(big)
    font = ImageFont.truetype(str(fonts.font_path()), 120)
    draw.rectangle((600, 800, 3400, 2200), fill="white")
    for i, words in enumerate(("STERLING SILVER CHAIN", "925 · 45 cm · MADE IN POLAND", "SKU CH-4512-S")):
        draw.text((700, 900 + i * 400), words, fill="black", font=font)
    strip = Image.new("RGB", (544, 68), "white")
    ImageDraw.Draw(strip).text((8, 14), "BEST BEFORE 12/2027  LOT 4471", fill="black",
                                font=ImageFont.truetype(str(fonts.font_path()), 30))
    paths = {"12 MP photo": WORK / "big.jpg", "thin strip 544x68": WORK / "strip.png"}
    big.save(paths["12 MP photo"], quality=90)
    strip.save(paths["thin strip 544x68"])
    return paths


def analyse(path: Path) -> None:
    """What the analysis phase does with one photo (every offline reading, in its order)."""
    from app.pipeline.phases.analysis import TIMINGS, analyse_photo

    analyse_photo(path, dict.fromkeys(TIMINGS, 0.0), None)


def horse_peak_mb(path: Path) -> float:
    pid = os.fork()
    if pid == 0:
        try:
            analyse(path)
        finally:
            os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def healthz_loads_analysers() -> bool:
    """A fresh web process answers /healthz; does it import onnxruntime or the OCR engine?"""
    code = ("import sys, wsgi; wsgi.app.test_client().get('/healthz'); "
            "print(any(m in sys.modules for m in ('onnxruntime', 'rapidocr_onnxruntime')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env=dict(os.environ, REDIS_URL="redis://127.0.0.1:1/0"), check=True).stdout
    return out.strip().splitlines()[-1] == "True"


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    from app import create_app
    from app.warmup import warm_up

    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0"})  # nothing here talks to Redis
    photos = draw_photos()
    warm_up(app)
    record(5, "worker parent after its warm-up (OCR engine loaded; limit 400 MB)", _rss_mb(), 400, "MB", 1.0)
    for name, path in photos.items():
        record(5, f"analysis horse peak on a {name} (limit 400 MB)", horse_peak_mb(path), 400, "MB", 1.0)
    record(5, "/healthz loads an analyser into the web process (0: no)", float(healthz_loads_analysers()), 1,
           "", 0)


if __name__ == "__main__":
    main()
