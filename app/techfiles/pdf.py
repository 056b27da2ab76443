"""Tech packs as PDF (fpdf2): a cover with product data, then one section per file type.

Two packs are printed the same way: a collection's (each item as the current latest version of
its slot, so a pack exported after a regeneration carries the new image) and a product
revision's complete pack (the latest file of every slot), which is stored as a tech file.
Text is set in an embedded Unicode font (app.core.fonts): "Food › Biscuits", "Größe",
"Жемчуг" and "中文" print as written.
"""
from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF

from app.core import fonts, storage
from app.core.models import utcnow
from app.pipeline.models import Product
from app.techfiles import selectors
from app.techfiles.models import STEP_LABEL, Collection, FileType, TechFile

PAGE_W, MARGIN = 210, 15
IMAGE_BOX = (PAGE_W - 2 * MARGIN, 95)  # mm: two images per page, with room for their notes
FONT = "stockroom"
TYPE_SECTION = {FileType.BASE_VIEW: "base_views", FileType.CLOSE_UP: "close_ups", FileType.SKETCH: "sketches",
                FileType.CATEGORY: "category"}


def _t(value) -> str:
    return "" if value is None else str(value)


class _Pack(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.pack_title = title
        self.add_font(FONT, "", str(fonts.font_path()))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_creator("Stockroom")
        self.set_title(title)

    def set_font(self, family=None, style="", size=0):
        # The font has one face: headings differ by size (loading it again per style costs ~0.3 s each).
        super().set_font(family, "", size)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 6, _t(f"{self.pack_title} · page {self.page_no()}"), align="C")
        self.set_text_color(0)


def _row(pdf: FPDF, label: str, value) -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.cell(45, 7, _t(label))
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 7, _t(value if value not in (None, "") else "—"), new_x="LMARGIN", new_y="NEXT")


def _cover(pdf: _Pack, p: Product, rows: list[tuple[str, object]]) -> None:
    pdf.add_page()
    pdf.set_font(FONT, "B", 22)
    pdf.multi_cell(0, 12, _t(f"Tech pack: {p.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in (("Product", f"#{p.id} {p.title}"), ("Brand", p.brand), ("Model", p.model or p.hint_model),
                         ("GTIN", p.gtin), ("Category", p.category), ("Condition", p.condition.label), *rows,
                         ("Exported", utcnow().strftime("%Y-%m-%d %H:%M UTC"))):
        _row(pdf, label, value)


def _caption(f: TechFile) -> str:
    parts = [f.view, f.shot_name if f.file_type == FileType.CLOSE_UP else f.category,
             f"version {f.version_label}", f.created_at.strftime("%Y-%m-%d %H:%M UTC")]
    if f.quality is not None:
        parts.append(f"quality {f.quality}")
    if f.confidence is not None:
        parts.append(f"confidence {f.confidence}")
    return " · ".join(p for p in parts if p)


def _notes(pdf: _Pack, f: TechFile) -> None:
    analysis = f.analysis or {}
    pdf.set_font(FONT, size=9)
    for m in analysis.get("measurements") or []:
        value = m.get("value") or "not measured (no reference length)"
        note = f" ({m['note']})" if m.get("derived") and m.get("note") else ""
        pdf.multi_cell(0, 5, _t(f"Measurement: {m.get('label') or '—'} = {value}{note}"),
                       new_x="LMARGIN", new_y="NEXT")
    for n, c in enumerate(analysis.get("callouts") or [], start=1):
        pdf.multi_cell(0, 5, _t(f"Callout {n}: {c.get('text')}"), new_x="LMARGIN", new_y="NEXT")


def _image(pdf: _Pack, f: TechFile) -> None:
    w, h = IMAGE_BOX
    scale = min(w / (f.width or 1), h / (f.height or 1))
    iw, ih = (f.width or 1) * scale, (f.height or 1) * scale
    if pdf.get_y() + ih + 16 > pdf.h - 18:
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, _t(_caption(f)), new_x="LMARGIN", new_y="NEXT")
    pdf.image(str(storage.open_path(f.sha256)), x=MARGIN + (w - iw) / 2, w=iw, h=ih)
    pdf.ln(2)
    _notes(pdf, f)
    pdf.ln(3)


def _section(pdf: _Pack, section: str, files: list[TechFile | None]) -> list[TechFile]:
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, _t(STEP_LABEL.get(section, section)), new_x="LMARGIN", new_y="NEXT")
    printed = [f for f in files if f is not None and f.sha256 is not None and not f.is_pdf]
    for f in printed:
        _image(pdf, f)
    left_out = len(files) - len(printed)
    if left_out:
        pdf.set_font(FONT, "I", 9)
        pdf.multi_cell(0, 5, _t(f"{left_out} archived file(s) left out."), new_x="LMARGIN", new_y="NEXT")
    return printed


def collection_pdf(collection: Collection) -> tuple[bytes, list[TechFile]]:
    """A collection's tech pack PDF and the file versions printed in it, in order."""
    sections = [(s, pairs) for s, pairs in selectors.collection_sections(collection) if s != "complete_pack"]
    c = collection
    pdf = _Pack(f"{c.product.title} · revision {c.revision}")
    _cover(pdf, c.product, [("Revision", c.revision), ("Collection", f"{c.title} ({c.kind.label}, {c.status.value})"),
                            ("Files", len(c.items)), ("Credits used", f"{selectors.collection_credits(c.id):.2f}"),
                            ("Generated", c.finished_at.strftime("%Y-%m-%d %H:%M UTC") if c.finished_at else None)])
    printed: list[TechFile] = []
    for section, pairs in sections:
        printed += _section(pdf, section, [current for _item, current in pairs])
    return bytes(pdf.output()), printed


def pack_pdf(product: Product, revision: str, files: list[TechFile]) -> bytes:
    """A product revision's complete pack: the given latest files, by type in pack order."""
    pdf = _Pack(f"{product.title} · revision {revision}")
    credits = sum((f.credits for f in files), Decimal("0"))
    _cover(pdf, product, [("Revision", revision), ("Files", len(files)), ("Credits of these files", f"{credits:.2f}")])
    for file_type, section in TYPE_SECTION.items():
        chosen = [f for f in files if f.file_type == file_type]
        if chosen:
            _section(pdf, section, chosen)
    return bytes(pdf.output())
