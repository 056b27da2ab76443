"""A collection as a PDF tech pack (fpdf2): cover with product data, one section per file type.

Each item is printed as the current latest version of its slot, so a pack exported after a
regeneration carries the new image; archived slots are listed as left out.
"""
from __future__ import annotations

import unicodedata

from fpdf import FPDF

from app.core import storage
from app.core.models import utcnow
from app.techfiles import selectors
from app.techfiles.models import STEP_LABEL, Collection, TechFile

PAGE_W, MARGIN = 210, 15
IMAGE_BOX = (PAGE_W - 2 * MARGIN, 105)  # mm: two images per page


def _t(value) -> str:
    """Text the PDF core fonts can print (they know Latin-1 only)."""
    text = "" if value is None else str(value)
    text = text.replace("×", "x").replace("–", "-").replace("—", "-").replace("·", "-")
    text = unicodedata.normalize("NFKD", text)
    return text.encode("latin-1", "replace").decode("latin-1")


class _Pack(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.pack_title = title
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_creator("Stockroom")
        self.set_title(title)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 6, _t(f"{self.pack_title} - page {self.page_no()}"), align="C")
        self.set_text_color(0)


def _row(pdf: FPDF, label: str, value) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(45, 7, _t(label))
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 7, _t(value if value not in (None, "") else "-"), new_x="LMARGIN", new_y="NEXT")


def _cover(pdf: _Pack, c: Collection, files: int, credits) -> None:
    p = c.product
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(0, 12, _t(f"Tech pack: {p.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in (("Product", f"#{p.id} {p.title}"), ("Brand", p.brand), ("Model", p.model or p.hint_model),
                         ("GTIN", p.gtin), ("Category", p.category), ("Condition", p.condition.label),
                         ("Revision", c.revision), ("Collection", f"{c.kind.label} #{c.id} ({c.status.value})"),
                         ("Files", files), ("Credits used", f"{credits:.2f}"),
                         ("Generated", c.finished_at.strftime("%Y-%m-%d %H:%M UTC") if c.finished_at else None),
                         ("Exported", utcnow().strftime("%Y-%m-%d %H:%M UTC"))):
        _row(pdf, label, value)


def _caption(f: TechFile) -> str:
    parts = [f.view, f.category, f"version {f.version_label}", f.created_at.strftime("%Y-%m-%d %H:%M UTC")]
    if f.quality is not None:
        parts.append(f"quality {f.quality}")
    if f.confidence is not None:
        parts.append(f"confidence {f.confidence}")
    return " - ".join(p for p in parts if p)


def _image(pdf: _Pack, f: TechFile) -> None:
    w, h = IMAGE_BOX
    scale = min(w / (f.width or 1), h / (f.height or 1))
    iw, ih = (f.width or 1) * scale, (f.height or 1) * scale
    if pdf.get_y() + ih + 16 > pdf.h - 18:
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, _t(_caption(f)), new_x="LMARGIN", new_y="NEXT")
    pdf.image(str(storage.open_path(f.sha256)), x=MARGIN + (w - iw) / 2, w=iw, h=ih)
    pdf.ln(2)
    analysis = f.analysis or {}
    for m in analysis.get("measurements") or []:
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 5, _t(f"Measurement: {m.get('label') or '-'} = {m.get('value')}"), new_x="LMARGIN", new_y="NEXT")
    for n, c in enumerate(analysis.get("callouts") or [], start=1):
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 5, _t(f"Callout {n}: {c.get('text')}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def collection_pdf(collection: Collection) -> tuple[bytes, list[TechFile]]:
    """The tech pack PDF and the file versions printed in it, in order."""
    sections = selectors.collection_sections(collection)
    printed: list[TechFile] = []
    pdf = _Pack(f"{collection.product.title} - revision {collection.revision}")
    _cover(pdf, collection, len(collection.items), selectors.collection_credits(collection.id))
    for section, pairs in sections:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, _t(STEP_LABEL.get(section, section)), new_x="LMARGIN", new_y="NEXT")
        left_out = [item for item, current in pairs if current is None or current.sha256 is None]
        for _item, current in pairs:
            if current is None or current.sha256 is None:
                continue
            _image(pdf, current)
            printed.append(current)
        if left_out:
            pdf.set_font("Helvetica", "I", 9)
            pdf.multi_cell(0, 5, _t(f"{len(left_out)} archived file(s) left out."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), printed
