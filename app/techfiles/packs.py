"""The complete pack of a product revision, kept current: a new version whenever one of its files
gets one (a job after each change), unless what it would print is what it prints already."""
from __future__ import annotations

import logging

from app.core import ai
from app.extensions import db
from app.techfiles import units
from app.techfiles.models import FileStatus, FileType, TechFile
from app.techfiles.services import credit_cost
from app.techfiles.versions import add_version, commit_versions, latest_in_slot

log = logging.getLogger(__name__)


def pack_refresh(*, org_id: int, product_id: int, revision: str) -> TechFile | None:
    """Bring the revision's complete pack up to date; None when it has none (nothing to keep current)."""
    slot = (org_id, product_id, revision, FileType.COMPLETE_PACK, "", "")
    current = latest_in_slot(slot)
    if current is None or current.status != FileStatus.COMPLETED:
        db.session.rollback()
        return None
    ctx = units.Context(org_id, product_id, revision, ai.Served(org_id, "tech_file", current.id, "product", product_id))
    planned = units.plan("complete_pack", ctx, None)
    if planned[0].fingerprint == current.fingerprint:
        db.session.rollback()
        return current
    current_id = current.id
    db.session.commit()  # end the read before the PDF is made
    new = units.render("complete_pack", ctx, None, planned)[""]
    new.credits = credit_cost(org_id, FileType.COMPLETE_PACK)
    row = add_version(org_id=org_id, product_id=product_id, revision=revision, file_type=FileType.COMPLETE_PACK,
                      view="", category="", new=new, by_id=None, action="regenerated",
                      reason="its files changed", refresh_pack=False)
    commit_versions()
    log.info("complete pack of product %s revision %s: v%s replaces #%s", product_id, revision, row.version,
             current_id)
    return row
