"""Errors of the API as RFC 9457 problem details (`application/problem+json`).

Every error leaves the API this way, whatever raised it: a malformed request, a refused token,
a domain rule, an HTTP error, or a bug (logged, answered 500 without details).
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.extensions import db

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is: a JSON path such as `lines.0.quantity`, or a "
                                   "query, header or form field name.")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status in words.")
    status: int = Field(ge=100, le=599)
    detail: str = Field(description="What went wrong, for a person to read.")
    instance: str | None = Field(None, description="The request path.")
    errors: list[FieldError] | None = Field(None, description="Each field that was refused, with why.")


class ApiProblem(Exception):
    """Raise to answer with problem details."""

    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None,
                 headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers or {}


def problem_response(status: int, detail: str, *, errors: list[dict] | None = None,
                     headers: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
            "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(exc: Exception) -> Response:
    """The problem response for any exception raised while serving an API request."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, DomainError):
        db.session.rollback()
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return problem_response(exc.status, exc.message, errors=errors)
    if isinstance(exc, HTTPException):
        return _http_problem(exc)
    db.session.rollback()
    log.exception("unhandled API error on %s %s", request.method, request.path)
    return problem_response(500, "The server hit an error. It is logged; try again later.")


def _http_problem(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        detail = "Too many requests with this token. Wait a little and try again."
        retry = getattr(exc, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
    elif status == 413:
        detail = "The request body is larger than the API accepts."
    elif status == 404:
        detail = "There is nothing here, or it belongs to another organisation."
    else:
        detail = exc.description if isinstance(exc.description, str) else HTTPStatus(status).phrase
    return problem_response(status, detail, headers=headers)


def validation_errors(error) -> list[dict]:
    """pydantic's errors as [{field, message}], the field as a dotted path."""
    out = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "__root__")]
        out.append({"field": ".".join(loc) or "body", "message": item.get("msg", "invalid")})
    return out
