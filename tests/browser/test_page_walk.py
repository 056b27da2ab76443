"""Every page of the app, as each role, with the demo warehouse: no horizontal overflow at 1366, 1024
and 768 px, no control covered by another element, every control in the Tab order and every form
sendable from the keyboard, and no serious or critical axe-core violation (at 1366 px).

The pages' ids are rows of the demo warehouse (plus a saved design and a price list, which the demo has
not). Screenshots of every page at 1366 px, as the admin sees them, go to the test's temporary folder.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from app.core.models import Role
from app.demo import seed_demo_warehouse
from app.extensions import db
from app.inventory.models import Item
from app.listings.price_lists import price_list_import
from app.orders.designs import design_create
from tests.browser.conftest import sign_in
from tests.browser.page_walk import (
    KEYBOARD_CHECK,
    LAYOUT_CHECK,
    MAIN_HTML,
    SERIOUS_RULES,
    SETTLED,
    Route,
    demo_ids,
    page_routes,
)

WIDTHS = (1366, 1024, 768)
HEIGHT = 900
SERIOUS = ("serious", "critical")


class PageWalk:
    """Checks one page after another in one tab; remembers what axe has seen and where the time went."""

    def __init__(self, shots):
        self.axe = Axe()
        self.checked_mains: set[str] = set()
        self.rules: list[str] | None = None
        self.shots = shots
        self.seconds: Counter = Counter()

    @contextmanager
    def timed(self, phase: str):
        started = time.monotonic()
        yield
        self.seconds[phase] += time.monotonic() - started

    def axe_problems(self, page) -> list[str]:
        """Serious and critical violations; a <main> already checked (another role saw the same content)
        is left out, so that role's run covers what differs for it: its menus."""
        main = hashlib.sha256(page.evaluate(MAIN_HTML).encode()).hexdigest()
        context = {"exclude": [["main"]]} if main in self.checked_mains else None
        self.checked_mains.add(main)
        if self.rules is None:
            page.evaluate(self.axe.axe_script)
            self.rules = page.evaluate(SERIOUS_RULES)
            assert "color-contrast" in self.rules and "label" in self.rules and len(self.rules) > 40
        options = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": self.rules}}
        results = self.axe.run(page, context=context, options=options)
        return [f"axe {v['id']} ({v['impact']}): {v['help']}: " + "; ".join(_node(n) for n in v["nodes"][:3])
                for v in results.response["violations"] if v["impact"] in SERIOUS]

    def check(self, page, url: str, screenshot: bool) -> list[str]:
        """One page at each width without reloading; what is wrong with it, one line per problem."""
        with self.timed("loading"):
            page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
            response = page.goto(url, wait_until="load")
            if response.status >= 400:
                return [f"answered {response.status}"]
            if "<main" not in response.text():
                return []  # a fragment: checked on the page that includes it
            page.wait_for_function(SETTLED)
        with self.timed("axe"):
            problems = self.axe_problems(page) + page.evaluate(KEYBOARD_CHECK)
        if screenshot:
            with self.timed("screenshots"):
                name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "dashboard"
                page.screenshot(path=self.shots / f"{name}.jpeg", full_page=True, type="jpeg", quality=80)
        with self.timed("layout"):
            for width in WIDTHS:
                if width != WIDTHS[0]:
                    page.set_viewport_size({"width": width, "height": HEIGHT})
                found = page.evaluate(LAYOUT_CHECK)
                if found["overflow"] > 0:
                    problems.append(f"{width} px: {found['overflow']} px wider than the window "
                                    f"({', '.join(found['wide'])})")
                problems += [f"{width} px: {c}" for c in found["covered"][:5]]
        return problems


def _node(node: dict) -> str:
    why = next((c["message"] for kind in ("any", "all", "none") for c in node.get(kind, [])), "")
    return f"{node['target'][0]} ({why})"


def _rows_the_demo_lacks(org, manager) -> None:
    """A saved design and a price list, made as a person would, so their pages are walked too."""
    first, second = db.session.scalars(select(Item).where(Item.organisation_id == org.id)
                                       .order_by(Item.id).limit(2)).all()
    design_create(org_id=org.id, name="Charm bracelet with initials", product_item_id=first.id,
                  component_item_ids=[second.id], options={}, by=manager)
    price_list_import(org_id=org.id, by=manager, filename="supplier-msrp.csv", currency="USD",
                      data=b"gtin,msrp\n4006381333931,10.00\n")
    db.session.commit()


def _link_pages(app, org, admin, staff) -> list[Route]:
    """The pages behind an invitation and a password-reset link (signed out), with links made as people would."""
    from app.accounts.links import invitation_create, reset_request
    from app.accounts.models import AccountEmail

    with app.test_request_context():  # the links are written into e-mails as full addresses
        _, invite_url = invitation_create(org_id=org.id, email="new.packer@example.test", name="New Packer",
                                      role="staff", by=admin)
        db.session.commit()
        reset_request(email=staff.email)
    mail = db.session.scalars(select(AccountEmail).where(AccountEmail.recipient == staff.email.lower())
                              .order_by(AccountEmail.id.desc())).first()
    reset = re.search(r"/account/reset/([\w-]+)", mail.body).group(1)
    return [Route("links.invite_accept", urlsplit(invite_url).path, ()),
            Route("links.reset", f"/account/reset/{reset}", ())]


def test_every_page_as_every_role_fits_and_passes_axe(browser, live_server, app, org, admin, manager, staff,
                                                       run_jobs, tmp_path):
    started = time.monotonic()
    seed_demo_warehouse(org_id=org.id, manager=manager, staff=staff)
    run_jobs()
    _rows_the_demo_lacks(org, manager)
    routes, missing = page_routes(app, demo_ids(org.id))
    routes += _link_pages(app, org, admin, staff)
    missing = [m for m in missing if not m.startswith(("/account/invite/", "/account/reset/"))]
    seeded = time.monotonic()
    walk = PageWalk(tmp_path)
    problems: list[str] = []
    visits = 0
    for role, user in ((None, None), (Role.ADMIN, admin), (Role.MANAGER, manager), (Role.STAFF, staff)):
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": WIDTHS[0], "height": HEIGHT})
        ctx.set_default_timeout(15_000)
        page = ctx.new_page()
        if user is not None:
            sign_in(page, user)
        for route in routes:
            if role not in route.roles if role else route.roles:
                continue
            visits += 1
            found = walk.check(page, route.url, screenshot=role in (None, Role.ADMIN))
            problems += [f"{role.value if role else 'signed out'} {route.url}: {p}" for p in found]
        ctx.close()
    spent = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in walk.seconds.most_common())
    print(f"\npage walk: {visits} visits, {len(walk.rules or ())} axe rules, in {time.monotonic() - seeded:.0f} s "
          f"({spent}); demo and its jobs "
          f"{seeded - started:.0f} s; screenshots in {tmp_path}; not walked (no demo row): {', '.join(missing)}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
