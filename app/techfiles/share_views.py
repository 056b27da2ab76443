"""Sharing pages: the organisation's links (make, revoke, who opened them) and the public pack page.

The public routes (`/share/<token>…`) need no login: the signed token is the key. They show
only the shared pack's files, answer 404 for anything else (another file id, a revoked or
expired link, a forged token) and log every open. The tenancy walk reaches them with a revoked
link of the other organisation (tests/techfiles/row_factories.py), which must answer 404.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.auth import role_required
from app.core.errors import DomainError, NotFound
from app.core.htmx import render
from app.core.tenancy import current_org_id, get_or_404
from app.extensions import limiter
from app.pipeline.models import Product
from app.techfiles import selectors, shares
from app.techfiles.forms import ShareForm
from app.techfiles.models import ShareLink

bp = Blueprint("techfiles_shares", __name__, url_prefix="/techfiles")
public = Blueprint("techfiles_public", __name__, url_prefix="/share")
PUBLIC_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow",
                  "Cache-Control": "private, no-store"}


def _share_page(product: Product, form: ShareForm | None = None, new_token: str | None = None, status: int = 200):
    org = current_org_id()
    collections = selectors.collections_for(org, product.id, 50)
    form = form or ShareForm(formdata=None)
    form.collection_id.choices = [("", "The latest files and complete pack")] + [
        (str(c.id), f"Only {c.title} (revision {c.revision})") for c in collections]
    new_url = url_for("techfiles_public.page", token=new_token, _external=True) if new_token else None
    return render("techfiles/share.html", "techfiles/_share_links.html", product=product, form=form, new_url=new_url,
                  links=selectors.share_links(org, product.id)), status


@bp.get("/products/<int:product_id>/share")
@login_required
def share(product_id: int):
    return _share_page(get_or_404(Product, product_id))


@bp.post("/products/<int:product_id>/share")
@role_required("manager")
def share_create(product_id: int):
    product = get_or_404(Product, product_id)
    form = ShareForm()
    if not form.validate_on_submit():
        return _share_page(product, form, status=422)
    try:
        made = shares.share_create(org_id=current_org_id(), product_id=product.id, label=form.label.data,
                                   days=form.days.data, collection_id=form.collection_id.data or None,
                                   revision=request.args.get("revision"), by=current_user)
    except DomainError as exc:
        getattr(form, exc.field if exc.field and hasattr(form, exc.field) else "label").errors = [exc.message]
        return _share_page(product, form, status=exc.status)
    # The link is shown this once: only its hash is kept.
    return _share_page(product, ShareForm(formdata=None), new_token=made.token, status=201)


@bp.post("/shares/<int:link_id>/revoke")
@role_required("manager")
def share_revoke(link_id: int):
    link = get_or_404(ShareLink, link_id)
    try:
        shares.share_revoke(org_id=current_org_id(), link_id=link.id, by=current_user)
    except DomainError:
        pass  # already revoked: the page shows it
    return redirect(url_for("techfiles_shares.share", product_id=link.product_id), 303)


# --- public: no login, the token is the key ------------------------------------------------------

def _link(token: str) -> ShareLink:
    try:
        return shares.share_resolve(token)
    except NotFound:
        abort(404)


def _logged(link: ShareLink, what: str) -> None:
    shares.share_open_log(link_id=link.id, address=request.remote_addr, what=what,
                          user_agent=request.headers.get("User-Agent"))


def _public(response):
    response = response if isinstance(response, Response) else Response(response)
    response.headers.update(PUBLIC_HEADERS)
    return response


@public.get("/<token>")
@limiter.limit("120 per minute")
def page(token: str):
    link = _link(token)
    shared = selectors.shared_pack(link)
    _logged(link, "page")
    return _public(render_template("techfiles/share_public.html", link=link, shared=shared, token=token))


@public.get("/<token>/files/<int:file_id>")
@limiter.limit("600 per minute")
def shared_file(token: str, file_id: int):
    from app.techfiles.views import send_stored

    link = _link(token)
    f = selectors.shared_file(link, file_id)
    if f is None:
        abort(404)
    if f.is_pdf:
        _logged(link, "pdf")
    return _public(send_stored(f, request.args.get("size")))


@public.get("/<token>/pack.pdf")
@limiter.limit("60 per minute")
def shared_pdf(token: str):
    link = _link(token)
    if link.collection_id is None:
        abort(404)
    from app.techfiles import pdf  # fpdf2 only where a pack is printed

    data, _printed = pdf.collection_pdf(link.collection)
    _logged(link, "pdf")
    name = f"tech-pack-{link.product_id}-rev-{link.revision}-{link.collection_id}.pdf"
    return _public(Response(data, mimetype="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'}))
