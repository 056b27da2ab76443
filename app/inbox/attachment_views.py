"""A customer's files on the conversation (on the inbox blueprint): the stored file and its thumbnail,
served only to the organisation that received them, a retry of a failed download, and the one click
that sends an image to the product pipeline."""
from __future__ import annotations

from flask import abort
from flask_login import current_user, login_required

from app.core import storage
from app.core.tenancy import get_or_404
from app.inbox.channels import attachments
from app.inbox.models import MessageAttachment
from app.inbox.views import _back_to, _org, bp


def _send(row: MessageAttachment, *, thumbnail: bool):
    found = attachments.stored_file(row, thumbnail=thumbnail)
    if found is None:
        abort(404)
    path, mimetype = found
    # A PDF is downloaded rather than opened in the app's origin; an image is shown as it is.
    download = not thumbnail and not mimetype.startswith("image/")
    return storage.send_private(path, mimetype, as_attachment=download,
                                download_name=(row.filename or f"attachment-{row.id}.pdf") if download else None)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment_file(attachment_id: int):
    return _send(get_or_404(MessageAttachment, attachment_id), thumbnail=False)


@bp.get("/attachments/<int:attachment_id>/thumbnail")
@login_required
def attachment_thumbnail(attachment_id: int):
    return _send(get_or_404(MessageAttachment, attachment_id), thumbnail=True)


@bp.post("/attachments/<int:attachment_id>/retry")
@login_required
def attachment_retry(attachment_id: int):
    row = get_or_404(MessageAttachment, attachment_id)
    attachments.attachment_retry(org_id=_org(), attachment_id=row.id, by=current_user)
    return _back_to(row.message.conversation_id)


@bp.post("/attachments/<int:attachment_id>/pipeline")
@login_required
def attachment_pipeline(attachment_id: int):
    row = get_or_404(MessageAttachment, attachment_id)
    attachments.attachment_to_pipeline(org_id=_org(), attachment_id=row.id, by=current_user)
    return _back_to(row.message.conversation_id)
