"""What the page walk visits and what it measures on each page.

The pages come from the URL map: every GET route a session may open, its arguments filled with rows
of the demo warehouse. Streams, downloads, images and the JSON API are not pages; a route whose
answer is a fragment (no <main>) is left to the page that includes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from app.batches.models import Batch, BatchRow
from app.core.models import Role
from app.extensions import db
from app.inbox.models import Conversation
from app.inbox.review_models import Extraction
from app.inventory.import_models import SupplierImport
from app.inventory.models import Item
from app.listings.models import PriceList
from app.orders.models import Customer, Design, Order
from app.pipeline.models import Product
from app.pipeline.statuses import ProductStatus
from app.techfiles.models import Collection, TechFile

# Not pages: the event stream, the JSON API, signed or emailed links, and the health probe.
NOT_PAGES = ("/api/", "/events", "/hooks/", "/share/", "/s/", "/static/", "/healthz", "/account/invite/")
# Files rather than pages: exports, PDFs and images answer with a download or a picture.
DOWNLOAD = re.compile(r"(\.(csv|pdf|json)$|/images?/|/attachments/|/thumb$|/image$|/export$|/pdf$)")
# Anyone may open these; the walk visits them signed out.
SIGNED_OUT = ("/login", "/account/reset/")
# HTMX fragments that answer only with the query a page's control adds (a new order line for an item).
FRAGMENTS = {"orders.line"}


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: str
    roles: tuple[Role, ...]


def _first(model, org_id: int, *where, order=None):
    query = select(model.id).where(model.organisation_id == org_id, *where)
    return db.session.scalar(query.order_by(order if order is not None else model.id).limit(1))


def demo_ids(org_id: int) -> dict:
    """A row of the demo warehouse for each URL argument (None where the demo has none)."""
    product = _first(Product, org_id, Product.status == ProductStatus.NEEDS_REVIEW) or _first(Product, org_id)
    batch = _first(Batch, org_id)
    return {
        "batch_id": batch, "row_id": batch and db.session.scalar(
            select(BatchRow.id).where(BatchRow.batch_id == batch).order_by(BatchRow.id).limit(1)),
        "import_id": _first(SupplierImport, org_id), "item_id": _first(Item, org_id),
        "product_id": product, "order_id": _first(Order, org_id, order=Order.id.desc()),
        "design_id": _first(Design, org_id), "customer_id": _first(Customer, org_id),
        "conversation_id": _first(Conversation, org_id),
        "extraction_id": _first(Extraction, org_id), "collection_id": _first(Collection, org_id),
        "file_id": _first(TechFile, org_id), "price_list_id": _first(PriceList, org_id),
    }


def _roles(view) -> tuple[Role, ...]:
    required = getattr(view, "required_roles", None)
    return tuple(r for r in Role if not required or r == Role.ADMIN or r in required)


def page_routes(app, ids: dict) -> tuple[list[Route], list[str]]:
    """The pages to walk, and the GET routes left out because the demo has no row for an argument."""
    routes, missing = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if ("GET" not in rule.methods or rule.rule.startswith(NOT_PAGES) or DOWNLOAD.search(rule.rule)
                or rule.endpoint in FRAGMENTS):
            continue
        url = rule.rule
        for arg in rule.arguments:
            if ids.get(arg) is None:
                missing.append(rule.rule)
                break
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(ids[arg]), url)
        else:
            roles = () if rule.rule in SIGNED_OUT else _roles(app.view_functions[rule.endpoint])
            routes.append(Route(rule.endpoint, url, roles))
    return routes, missing


# One pass over the page at the current width: horizontal overflow, and every visible control whose
# centre (scrolled into view) is hit by something that is neither the control, inside it, nor around it.
LAYOUT_CHECK = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (el.innerText || el.value || el.name || '').trim().slice(0, 30) + '"';
  const wide = [...document.querySelectorAll('main *')].filter(el => el.getBoundingClientRect().right > innerWidth + 1)
    .filter(el => !el.parentElement.closest('main *') || el.parentElement.getBoundingClientRect().right <= innerWidth + 1)
    .slice(0, 3).map(name);
  const result = {overflow: document.scrollingElement.scrollWidth - innerWidth, wide: wide, covered: []};
  const x0 = scrollX, y0 = scrollY;
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')) {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    let box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) continue;
    el.scrollIntoView({block: 'center', inline: 'center'});
    box = el.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const hit = document.elementFromPoint(x, y);
    if (!hit || hit === el || el.contains(hit) || hit.contains(el)) continue;
    const label = hit.closest('label');
    if (label && label.control === el) continue;
    result.covered.push(name(el) + ' under ' + name(hit));
  }
  scrollTo(x0, y0);
  return result;
}"""

# Keyboard: every visible control is in the Tab order, and every visible form can be sent from the keyboard
# (a submit button, or a control that sends it as it changes).
KEYBOARD_CHECK = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
    + (el.getAttribute('action') ? '[action=' + el.getAttribute('action') + ']' : '')
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const shown = el => el.checkVisibility({visibilityProperty: true}) && el.getClientRects().length > 0;
  const problems = [];
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary')) {
    if (!shown(el) || el.matches(':disabled')) continue;
    if (el.tabIndex < 0 || (el.tagName === 'A' && !el.hasAttribute('href'))) problems.push('not reachable with Tab: ' + name(el));
  }
  const submits = 'button:not([type]), button[type=submit], input[type=submit], input[type=image]';
  for (const form of document.forms) {
    if (!shown(form)) continue;
    const controls = [...form.elements].filter(el => shown(el) && !el.matches(':disabled, fieldset'));
    const sends = controls.some(el => el.matches(submits))
      || form.matches('[hx-trigger*=change], [hx-trigger*=input]')
      || controls.some(el => el.matches('[hx-trigger*=change], [hx-trigger*=input], [data-autosubmit]'));
    if (controls.length && !sends) problems.push('cannot be sent from the keyboard: ' + name(form));
  }
  return problems;
}"""

# The page's <main> without what differs between sessions (CSRF tokens), to know a content seen before.
MAIN_HTML = """() => {
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('input[name=csrf_token]').forEach(input => input.removeAttribute('value'));
  return main.outerHTML;
}"""

# The rules axe runs by default (experimental ones are not) that can report a serious or critical
# violation: a rule's impact is the highest of its failing checks', so one whose checks are all minor or
# moderate cannot fail the walk and is not run.
SERIOUS_RULES = """() => {
  const rank = {minor: 1, moderate: 2, serious: 3, critical: 4}, audit = axe._audit;
  const byDefault = rule => rule.enabled && !rule.tags.some(tag => audit.tagExclude.includes(tag));
  return audit.rules.filter(rule => byDefault(rule) && [...rule.any, ...rule.all, ...rule.none].some(check => {
    const data = audit.data.checks[typeof check === 'string' ? check : check.id];
    return data && rank[data.impact] >= 3;
  })).map(rule => rule.id);
}"""

# Settled: htmx has loaded and no request it started is still out.
SETTLED = "() => !!window.htmx && !document.querySelector('.htmx-request')"
