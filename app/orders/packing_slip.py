"""A packing slip per shipment (fpdf2, the PDF library of tech packs, in the same Unicode font).

The slip lists what is in this parcel, what the order still waits for, and where it goes; it
carries no prices (it travels inside the parcel).
"""
from __future__ import annotations

from collections import Counter

from fpdf import FPDF
from fpdf.fonts import FontFace

from app.core import fonts
from app.orders.models import Shipment

FONT = "stockroom"
MARGIN = 15


def _text(value) -> str:
    return "" if value is None else str(value)


def _table(pdf: FPDF, rows: list[tuple[str, str, str]]) -> None:
    # One font face only (see app.techfiles.pdf): headings are told apart by their fill, not bold.
    with pdf.table(col_widths=(35, 120, 25), text_align=("LEFT", "LEFT", "RIGHT"), line_height=7,
                   headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235))) as table:
        for row in rows:
            table.row([_text(cell) for cell in row])


def _line_detail(line) -> str:
    custom = line.customisation or {}
    parts = [line.title]
    if custom.get("chain_length_cm"):
        parts.append(f"chain {custom['chain_length_cm']} cm")
    parts += [f"charm {c['title']} ({c['sku']})" for c in custom.get("charms") or []]
    if custom.get("engraving"):
        parts.append(f"engraving “{custom['engraving']}”")
    return " · ".join(parts)


def _left_after(shipment: Shipment) -> list[tuple[object, int]]:
    """(line, pieces) the order still waited for right after this parcel (a reprint says the same)."""
    shipped: Counter[int] = Counter()
    for earlier in shipment.order.shipments:
        if earlier.number <= shipment.number:
            for sl in earlier.lines:
                shipped[sl.order_item_id] += sl.quantity
    return [(ln, ln.quantity - shipped[ln.id]) for ln in shipment.order.lines if ln.quantity > shipped[ln.id]]


def packing_slip_pdf(shipment: Shipment) -> bytes:
    """The packing slip of one shipment as PDF bytes."""
    order = shipment.order
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(fonts.font_path()))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(f"Packing slip {shipment.reference}")
    pdf.set_creator("Stockroom")
    pdf.add_page()
    pdf.set_font(FONT, size=20)
    pdf.cell(0, 12, _text(f"Packing slip {shipment.reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for label, value in (("Order", order.number), ("Shipped", f"{shipment.shipped_at:%Y-%m-%d %H:%M} UTC"),
                         ("Carrier", shipment.carrier or "—"), ("Tracking", shipment.tracking_number or "—"),
                         ("Ship to", f"{order.customer_name}\n{order.shipping_address}".strip())):
        pdf.cell(30, 6, label)
        pdf.multi_cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 8, "In this parcel", new_x="LMARGIN", new_y="NEXT")
    _table(pdf, [("SKU", "Item", "Pieces"),
                 *((sl.line.sku, _line_detail(sl.line), str(sl.quantity)) for sl in shipment.lines)])
    waiting = _left_after(shipment)
    pdf.ln(4)
    if waiting:
        pdf.cell(0, 8, "Still to come in a later parcel", new_x="LMARGIN", new_y="NEXT")
        _table(pdf, [("SKU", "Item", "Pieces"), *((ln.sku, _line_detail(ln), str(n)) for ln, n in waiting)])
    else:
        pdf.cell(0, 8, "This parcel completes the order.", new_x="LMARGIN", new_y="NEXT")
    if shipment.note:
        pdf.ln(2)
        pdf.multi_cell(0, 6, _text(f"Note: {shipment.note}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
