"""Supplier import pages: upload, preview with per-row errors, confirm or cancel, the report (on the inventory blueprint)."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.core import storage
from app.core.errors import DomainError
from app.core.htmx import render
from app.core.tenancy import get_or_404
from app.extensions import db
from app.inventory import imports, selectors
from app.inventory.import_models import SupplierImport
from app.inventory.supplier_parsing import CSV_HEADER_ALIASES
from app.inventory.views import PENDING, _org, bp, manage, view_roles

# --- supplier imports ---------------------------------------------------------------------------

def _imports_page(error: str | None = None, header: list[str] | None = None, status: int = 200):
    rows = selectors.recent_imports(_org())
    return render_template("inventory/imports.html", imports=rows, error=error, header=header,
                           pending=session.get(PENDING), fields=list(CSV_HEADER_ALIASES),
                           mapping=request.form if request.method == "POST" else {}), status


@bp.get("/imports")
@view_roles
def imports_page():
    return _imports_page()


#: Longest first line read as a header for the column choices; a longer one is not a header.
HEADER_SAMPLE_BYTES = 64 * 1024


def _csv_header(data: bytes) -> list[str] | None:
    """The first line's cells, to offer as columns after a refused CSV; None when it is no header.

    Runs while answering an error, so it reads only a bounded sample and never raises."""
    first, newline, _ = data[:HEADER_SAMPLE_BYTES].partition(b"\n")
    if not newline and len(data) > HEADER_SAMPLE_BYTES:
        return None
    try:
        text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        return None
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        except csv.Error:
            return None
        if len(cells) > 1:
            return [c.strip() for c in cells if c.strip()]
    return None


@bp.post("/imports")
@manage
def import_upload():

    upload = request.files.get("file")
    pending = session.get(PENDING)
    if upload and upload.filename:
        data, filename = upload.read(), upload.filename
    elif pending and request.form.get("use_pending") == "1":
        try:
            data = storage.open_path(pending["sha256"]).read_bytes()
        except (FileNotFoundError, ValueError):
            session.pop(PENDING, None)
            return _imports_page("The earlier upload is gone; choose the file again.", status=422)
        filename = pending["filename"]
    else:
        return _imports_page("Choose an export file (JSON or CSV) to upload.", status=422)
    mapping = {f: request.form.get(f"map_{f}", "").strip() for f in CSV_HEADER_ALIASES}
    try:
        record = imports.supplier_import_preview(org_id=_org(), by=current_user, data=data,
                                                 filename=filename, column_mapping=mapping,
                                                 default_currency=request.form.get("default_currency"))
    except DomainError as exc:
        db.session.rollback()
        header = _csv_header(data) if not filename.lower().endswith(".json") else None
        if header:  # keep the file so the user only has to choose columns
            stored = storage.save_bytes(data)
            session[PENDING] = {"sha256": stored.sha256, "filename": filename}
        return _imports_page(exc.message, header=header, status=exc.status)
    session.pop(PENDING, None)
    return redirect(url_for("inventory.import_page", import_id=record.id))


@bp.get("/imports/<int:import_id>")
@view_roles
def import_page(import_id: int):
    record = get_or_404(SupplierImport, import_id)
    return render("inventory/import.html", "inventory/_import_status.html", record=record)


@bp.post("/imports/<int:import_id>/confirm")
@manage
def import_confirm(import_id: int):
    record = get_or_404(SupplierImport, import_id)
    valid_only = request.form.get("valid_only") == "1"
    try:
        imports.supplier_import_confirm(org_id=_org(), import_id=record.id, valid_only=valid_only, by=current_user)
    except DomainError as exc:  # answered on the import's own page, with the choice the user made
        db.session.rollback()
        return render("inventory/import.html", "inventory/_import_status.html", record=record,
                      confirm_error=exc.message, valid_only=valid_only), exc.status
    # No flash: the running banner is part of the live status block, so it goes when the import ends.
    return redirect(url_for("inventory.import_page", import_id=record.id))


@bp.post("/imports/<int:import_id>/cancel")
@manage
def import_cancel(import_id: int):
    record = get_or_404(SupplierImport, import_id)
    imports.supplier_import_cancel(org_id=_org(), import_id=record.id, by=current_user)
    flash("Import cancelled; nothing was imported.", "info")
    return redirect(url_for("inventory.imports_page"))


@bp.get("/imports/<int:import_id>/report.csv")
@view_roles
def import_report(import_id: int):
    record = get_or_404(SupplierImport, import_id)
    if not record.report:
        abort(404)
    return Response(imports.report_csv(record), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-{record.id}-report.csv"'})


