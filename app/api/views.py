"""The /api/v1 blueprint: token authentication for every operation, problem details for every
error, the OpenAPI document and its readable reference page."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from app.api.auth import authenticate_request, rate_limit_key
from app.api.problems import ApiProblem, from_exception
from app.api.schemas import MAX_ID
from app.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPEN_ENDPOINTS = {"api.openapi", "api.reference"}
# Tokens, not cookies: cross-site forgery cannot carry the Authorization header.
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key, scope="api-token",
              exempt_when=lambda: request.endpoint in OPEN_ENDPOINTS)(bp)


@bp.before_request
def _authenticate():
    if request.endpoint in OPEN_ENDPOINTS:
        return
    view = current_app.view_functions.get(request.endpoint)
    # Photo and CSV uploads may be as large as on the pages (MAX_CONTENT_LENGTH); other bodies are JSON.
    limit = None if getattr(view, "accepts_uploads", False) else current_app.config["API_MAX_JSON_BYTES"]
    if limit and request.content_length and request.content_length > limit:
        raise ApiProblem(413, f"The body is larger than {limit} bytes.")
    authenticate_request()
    if any(isinstance(value, int) and value > MAX_ID for value in (request.view_args or {}).values()):
        raise ApiProblem(404, "There is nothing here, or it belongs to another organisation.")


@bp.errorhandler(Exception)
def _problem(exc: Exception):
    return from_exception(exc)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, generated from the routes and their models."""
    from app.api.spec import document

    return jsonify(document(current_app._get_current_object()))


@bp.get("/reference")
def reference():
    """The readable reference: a static page that renders the document in the browser."""
    return redirect(url_for("static", filename="api/reference.html"))


from app.api import attention, batches, inventory, orders, products  # noqa: E402,F401  (register their routes on bp)
