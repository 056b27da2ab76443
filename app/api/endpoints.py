"""What every API operation is made of, so each resource's view is a few lines.

`operation(...)` stacks, in this order: the route on the blueprint, the scope check, the 404 for a
row of another organisation (before the body is looked at), the idempotency key (POSTs), and
spectree's validation and documentation of the query, the body and the answer. `listing` and `one`
are the two reads every resource has; `org_id()` and `caller()` are whose request it is.
"""
from __future__ import annotations

from flask import Response, g, request
from spectree import Response as Answers
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.auth import in_organisation, requires
from app.api.http import idempotent, json_response, page
from app.api.problems import ApiProblem
from app.api.spec import api
from app.api.views import bp
from app.core.models import User
from app.core.tenancy import get_or_404


def org_id() -> int:
    """The organisation of the token (every read and write is scoped to it)."""
    return g.api_token.organisation_id


def caller() -> User:
    """The token's owner: the `by` of every service call."""
    return g.api_token.user


def status_of(enum_value) -> str:
    return getattr(enum_value, "value", enum_value)


def operation(method: str, rule: str, *, scope: str, tag: str, answer, status: int = 200, row=None,
              query=None, json=None, form=None, uploads: bool = False):
    """Register one API operation. `row=(Model, "url_argument")` (or a decorator doing the same) makes
    another organisation's row a 404 before the body is looked at;
    `uploads=True` lets the body be as large as a page upload rather than a JSON body."""

    def decorate(view):
        answers = Answers(f"HTTP_{status}") if answer is None else Answers(**{f"HTTP_{status}": answer})
        wrapped = api.validate(query=query, json=json, form=form, tags=[tag], resp=answers)(view)
        if method == "POST":
            wrapped = idempotent(wrapped)
        if row is not None:
            wrapped = in_organisation(*row)(wrapped) if isinstance(row, tuple) else row(wrapped)
        wrapped = requires(scope)(wrapped)
        wrapped.accepts_uploads = uploads
        return bp.route(rule, methods=[method])(wrapped)

    return decorate


def listing(model, serialise, *, base=None, newest_first: bool = True, load=(), **filters) -> Response:
    """One page of the organisation's rows of `model` (or of `base`, an already narrowed SELECT),
    narrowed by each query field named in `filters` (field name = column) when it was given;
    `load` names the relationships `serialise` reads, fetched for the whole page at once."""
    q = request.context.query
    query = base if base is not None else select(model).where(model.organisation_id == org_id())
    query = query.options(*(selectinload(relation) for relation in load))
    for name, column in filters.items():
        value = getattr(q, name)
        if value is not None and value != "":
            query = query.where(column == value)
    rows, following = page(query, model.id, cursor=q.cursor, limit=q.limit, newest_first=newest_first)
    return json_response({"data": [serialise(r) for r in rows], "next_cursor": following})


def one(model, row_id: int, serialise) -> Response:
    """One row of the organisation, or 404."""
    return json_response(serialise(get_or_404(model, row_id, org_id())))


def uploaded_files(name: str, what: str) -> list:
    """The file parts named `name` of a multipart body; 415 for a body of another media type,
    422 naming the field when none was sent."""
    if request.mimetype and request.context.form is None:
        raise ApiProblem(415, f"Send {what} as multipart/form-data, a part named `{name}` per file.")
    files = request.files.getlist(name)
    if not files:
        raise ApiProblem(422, f"Send {what} as a file part named `{name}`.",
                         errors=[{"field": name, "message": "no file sent"}])
    return files
