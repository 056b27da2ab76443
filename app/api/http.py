"""What every API answer shares: cursors for lists, ETags for reads, idempotency keys for writes."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, g, request
from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import IdempotencyKey
from app.api.problems import ApiProblem
from app.core.models import utcnow
from app.extensions import db

MAX_LIMIT = 100


def json_response(payload: dict, status: int = 200, headers: dict | None = None) -> Response:
    """JSON with a strong ETag on GET; 304 when If-None-Match already names it."""
    body = json.dumps(payload, default=str, separators=(",", ":"), sort_keys=True)
    response = Response(body, status=status, mimetype="application/json", headers=headers or {})
    if request.method == "GET" and status == 200:
        response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
        response.make_conditional(request)
    return response


def decode_cursor(cursor: str | None) -> int | None:
    """The id after which a page starts (the query model already checked its form)."""
    # Ids are 32-bit on PostgreSQL: a larger cursor means "from the newest", never a database error.
    return min(int(cursor), 2**31 - 1) if cursor else None


def page(query: Select, id_column, *, cursor: str | None, limit: int,
         newest_first: bool = True) -> tuple[list, str | None]:
    """Rows newest first (or oldest first), after the cursor; the cursor of the next page, or None at the end."""
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column < after if newest_first else id_column > after)
    order = id_column.desc() if newest_first else id_column.asc()
    rows = list(db.session.scalars(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    following = str(rows[-1].id) if more else None
    return rows, following


def _fingerprint() -> str:
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"?" + request.query_string)
    if request.mimetype != "multipart/form-data":
        digest.update(request.get_data())
        return digest.hexdigest()
    # A client picks a new multipart boundary on every send: the same fields and the same files'
    # contents, in the same order, are the same request.
    for name, value in request.form.items(multi=True):
        digest.update(f"\0{name}={value}".encode())
    for name, file in request.files.items(multi=True):
        digest.update(f"\0{name}:{file.filename}:".encode())
        for chunk in iter(lambda f=file: f.stream.read(1 << 16), b""):
            digest.update(chunk)
        file.stream.seek(0)
    return digest.hexdigest()


def _claim(key: str) -> IdempotencyKey | None:
    """Insert the key (committed) so a racing repeat sees it; the existing row when there is one."""
    token = g.api_token
    hours = current_app.config["API_IDEMPOTENCY_HOURS"]
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.token_id == token.id,
                                                    IdempotencyKey.created_at < utcnow() - timedelta(hours=hours)))
    db.session.add(IdempotencyKey(organisation_id=token.organisation_id, token_id=token.id, key=key,
                                  fingerprint=_fingerprint()))
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token.id,
                                                              IdempotencyKey.key == key))


def _replay(row: IdempotencyKey) -> Response:
    if row.fingerprint != _fingerprint():
        raise ApiProblem(422, "This Idempotency-Key was used for a different request.",
                         errors=[{"field": "Idempotency-Key", "message": "reused for another request"}])
    if row.status_code is None:
        raise ApiProblem(409, "The first request with this Idempotency-Key is still running; try again shortly.")
    response = Response(row.body, status=row.status_code, mimetype=row.content_type or "application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """A POST with an Idempotency-Key is done once: a repeat gets the first answer back."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > 255:
            raise ApiProblem(400, "An Idempotency-Key is at most 255 characters.",
                             errors=[{"field": "Idempotency-Key", "message": "too long"}])
        existing = _claim(key)
        if existing is not None:
            return _replay(existing)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            db.session.rollback()
            db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.token_id == g.api_token.id,
                                                            IdempotencyKey.key == key))
            db.session.commit()
            raise
        db.session.execute(IdempotencyKey.__table__.update().where(
            IdempotencyKey.token_id == g.api_token.id, IdempotencyKey.key == key).values(
            status_code=response.status_code, body=response.get_data(as_text=True),
            content_type=response.mimetype))
        db.session.commit()
        return response

    return wrapped
