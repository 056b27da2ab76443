"""A customer's file, fetched from where its provider keeps it and checked by what it is.

- Twilio: the `MediaUrlN` of the message, with the account's SID and Auth Token (Twilio may require
  them for media); the credentials go only to Twilio's own API host, never to another address.
- WhatsApp Cloud API: the media id, resolved through the Graph API's media endpoint with the
  channel's access token ({"url", "mime_type", "file_size"}), then downloaded with the same token.
- A relay's link: fetched as given, without credentials.

Every call goes through the outbound guard (app.core.http), at most `limit` bytes. A file is kept
when its content is an image the product pipeline accepts (opened and decoded by Pillow under the
pixel limit, as product photos are) or a PDF (its header); anything else is refused with the reason.
No database and no Flask request here.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core import http
from app.inbox.channels.base import ChannelConf
from app.inbox.channels.models import Provider

PDF_MAGIC = b"%PDF-"
KEPT_TYPES = ("image/", "application/pdf")
# Declared types that say nothing about the content: the content decides.
VAGUE_TYPES = ("", "application/octet-stream", "binary/octet-stream", "application/x-download")
KEPT_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")


class FetchFailed(Exception):
    """The file could not be fetched. `retryable`: the provider may have it later (down, busy, unreachable)."""

    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


class Refused(Exception):
    """The file is not one we keep (too large, not an image or PDF); `reason` is safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Source:
    """Where a file is, as its message said."""

    url: str = ""
    media_id: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class Endpoints:
    limit: int
    timeout: float
    twilio_api_url: str
    graph_api_url: str


@dataclass(frozen=True)
class Checked:
    mime: str
    thumbnail: bytes | None  # a small JPEG of an image; None for a PDF
    preview: str = ""  # a PDF's first page as text, shown on the conversation


PREVIEW_CHARS = 600


def pdf_preview(data: bytes) -> str:
    """The first page's text (whitespace folded, cut at PREVIEW_CHARS); "" when it has none or cannot be read.

    A purchase order or a price list sent as a PDF is mostly text: its first lines tell staff what
    it is without opening it. Drawing the page would need a PDF renderer the app does not ship."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        text = reader.pages[0].extract_text() if reader.pages else ""
    except Exception:  # noqa: BLE001 - a damaged or encrypted PDF simply has no preview
        return ""
    words = " ".join((text or "").split())
    return words if len(words) <= PREVIEW_CHARS else words[:PREVIEW_CHARS].rsplit(" ", 1)[0] + " …"


def size_words(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def too_large(limit: int) -> str:
    return f"the file is larger than the limit of {size_words(limit)}"


def not_kept(content_type: str, filename: str) -> str | None:
    """Why a file declared like this is not fetched at all (audio, video, a spreadsheet…), or None."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared.startswith(KEPT_TYPES):
        return None
    if declared in VAGUE_TYPES and (not filename or os.path.splitext(filename.lower())[1] in KEPT_SUFFIXES):
        return None
    return f"only images and PDFs are stored; this is {declared or 'a file of unknown type'}"


def fetch(conf: ChannelConf | None, source: Source, ends: Endpoints) -> bytes:
    """The file's bytes from its provider, within the size limit; FetchFailed saying why not."""
    if source.media_id:
        if conf is None or conf.provider != Provider.META.value:
            raise FetchFailed("the WhatsApp channel this came through is gone")
        token = conf.secret("access_token")
        info = _get(f"{ends.graph_api_url.rstrip('/')}/{source.media_id}", timeout=ends.timeout, limit=65536,
                    bearer=token)
        try:
            data = json.loads(info)
        except ValueError:
            data = None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise FetchFailed("WhatsApp did not give the file's address")
        size = data.get("file_size")
        if isinstance(size, int) and not isinstance(size, bool) and size > ends.limit:
            raise Refused(too_large(ends.limit))
        return _get(url, timeout=ends.timeout, limit=ends.limit, bearer=token)
    auth = None
    if conf is not None and conf.provider == Provider.TWILIO.value and _twilio_host(source.url, ends.twilio_api_url):
        auth = (conf.setting("account_sid"), conf.secret("auth_token"))
    return _get(source.url, timeout=ends.timeout, limit=ends.limit, auth=auth)


def _twilio_host(url: str, api_url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and (host == (urlsplit(api_url).hostname or "").lower() or host.endswith(".twilio.com"))


def _get(url: str, *, timeout: float, limit: int, bearer: str | None = None, auth=None) -> bytes:
    if not url:
        raise FetchFailed("the provider gave no address for the file")
    try:
        answer = http.request("GET", url, timeout=timeout, max_bytes=limit, bearer=bearer, auth=auth)
    except http.HttpFailure as exc:
        if exc.reason.startswith("the answer is larger"):
            raise Refused(too_large(limit)) from None
        # A GET changes nothing at the provider, so one cut short may be tried again; an address the guard
        # refuses (neither opened nor sent) will be refused again.
        raise FetchFailed(f"the provider could not be reached ({exc.reason})",
                          retryable=exc.retryable or exc.sent) from None
    if answer.status != 200:
        raise FetchFailed(f"the provider answered HTTP {answer.status}", retryable=answer.status in http.RETRY_STATUSES)
    return answer.body


def check(data: bytes, limit: int) -> Checked:
    """What the bytes are, by their content: an image we accept (with its thumbnail) or a PDF; else Refused."""
    from app.analysis.images import ImageRejected
    from app.pipeline import uploads

    if not data:
        raise Refused("the file is empty")
    if len(data) > limit:
        raise Refused(too_large(limit))
    if data.startswith(PDF_MAGIC):
        return Checked(mime="application/pdf", thumbnail=None, preview=pdf_preview(data))
    try:
        image = uploads.check_bytes("", data)
    except ImageRejected as exc:
        if "not an image" in exc.reason:
            raise Refused("the file is neither an image nor a PDF (judged by its content)") from None
        raise Refused(exc.reason) from None
    return Checked(mime=uploads.MIME.get(image.format, f"image/{image.format.lower()}"),
                   thumbnail=uploads.make_thumbnail(data))
