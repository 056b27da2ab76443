"""Domain exceptions, and how every error reaches a person: a page, or a small HTMX partial."""
from __future__ import annotations

import logging

from flask import redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.htmx import is_htmx
from app.core.queue import REDIS_DOWN
from app.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no; the message is shown to the user as it is."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """The row changed state meanwhile (or stock ran out): reload and try again."""

    status = 409


class InvalidInput(DomainError):
    status = 422


TITLES = {
    400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 413: "Upload too large", 422: "Check your input",
    429: "Too many requests", 500: "Something went wrong", 503: "Busy for a moment",
}

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role does not allow this.",
    404: "There is nothing here, or it belongs to another organisation.",
    405: "This address does not accept that kind of request.",
    413: "The upload is larger than the server accepts. Send fewer or smaller files.",
    429: "Too many requests. Wait a little and try again.",
    500: "The server hit an error. The team has the details in the log; try again later.",
    503: "Busy for a moment: the job queue is not reachable, so this was not done. Nothing was lost; "
         "try again in a few seconds.",
}


def error_response(status: int, message: str | None = None):
    """Render an error inside the layout, or as a toast partial for HTMX requests."""
    title = TITLES.get(status, "Error")
    message = message or MESSAGES.get(status, "")
    if is_htmx():
        body = render_template("_error.html", status=status, title=title, message=message)
        # Errors go to the toast area whatever element asked, so a failed click never blanks a card.
        return body, status, {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if request.path.startswith("/api/"):
        # No route matched (404, 405), so the API blueprint's own handler never ran.
        from app.api.problems import from_exception

        return from_exception(exc)
    if status == 401:
        if is_htmx():
            return "", 401, {"HX-Redirect": url_for("auth.login")}
        return redirect(url_for("auth.login", next=request.full_path))
    message = None
    if status == 429:
        message = exc.description if isinstance(exc.description, str) and "limit" not in exc.description.lower() \
            else MESSAGES[429]
    elif status == 404 and exc.description and not exc.description.startswith("The requested URL"):
        message = exc.description
    return error_response(status, message)


def _csrf_error(exc: CSRFError):
    return error_response(400, f"The form's security token is missing or wrong ({exc.description}). "
                               "Reload the page and submit again.")


def _domain_error(exc: DomainError):
    db.session.rollback()
    return error_response(exc.status, exc.message)


def _queue_unreachable(exc: Exception):
    # Rolled back before anything is announced: the request's writes stand or fall together.
    db.session.rollback()
    log.warning("Redis not reachable during %s %s: %s", request.method, request.path, exc)
    return error_response(503)


def _server_error(exc: Exception):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)


def register_error_handlers(app) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    for exc_class in REDIS_DOWN:
        app.register_error_handler(exc_class, _queue_unreachable)
    if not app.testing or app.config.get("HANDLE_500_IN_TESTS"):
        app.register_error_handler(Exception, _server_error)
