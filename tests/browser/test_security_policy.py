"""The main pages under the Content-Security-Policy: no violation reported, and HTMX still works
(an inline form, a live row following a change made elsewhere, a toast that closes)."""
from playwright.sync_api import expect

from app.core.database import write_intent
from app.extensions import db
from app.inventory.stock import stock_reserve
from tests.browser.conftest import sign_in
from tests.inventory.factories import make_item

# Every violation the browser reports, and every console error, kept on the page's window.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "") + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _watch(page) -> list[str]:
    console: list[str] = []
    page.add_init_script(WATCH_POLICY)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    return console


def _problems(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__violations || []") + [c for c in console if "Content Security Policy" in c
                                                          or "htmx" in c.lower()]


def test_every_page_in_the_menus_loads_without_a_policy_violation(page, org, admin):
    from tests.batches.helpers import make_batch

    batch = make_batch(org, admin, 4)
    batch.processed_rows = 1
    db.session.commit()
    console = _watch(page)
    sign_in(page, admin)
    links = page.eval_on_selector_all("nav.nav a, .menu-items a", "els => els.map(a => a.getAttribute('href'))")
    assert len(links) >= 8
    for href in ["/", *links, "/inventory/items/new", "/inventory/imports"]:
        response = page.goto(href)
        assert response.status == 200, href
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        assert _problems(page, console) == [], href
    page.goto("/batches/")  # a progress bar's width comes from data-percent, not a style attribute
    assert page.locator("[data-percent]").first.evaluate("bar => bar.style.width") == f"{batch.percent}%"


def test_htmx_and_live_updates_work_under_the_policy(page, org, manager):
    console = _watch(page)
    chain_id = make_item(org, sku="CHAIN-18", title="Paperclip bracelet chain 18cm", on_hand=5).id
    hook_id = make_item(org, sku="HOOK-1", title="Ear hooks", on_hand=2).id
    sign_in(page, manager)
    page.goto("/inventory/")
    expect(page.locator("#live-dot.on")).to_be_visible()  # the event stream is allowed (connect-src 'self')
    page.evaluate("window.__notReloaded = true")

    page.get_by_test_id("delta-CHAIN-18").fill("-2")
    page.get_by_test_id("reason-CHAIN-18").fill("damaged in transit")
    page.get_by_test_id("adjust-CHAIN-18").click()
    expect(page.get_by_test_id("available-CHAIN-18")).to_have_text("3")

    # A change made elsewhere reaches the row whose item it names, and only that row (the filter
    # runs in app.js, not through eval).
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    db.session.commit()
    with write_intent():
        stock_reserve(org_id=org.id, lines=[(hook_id, 2)], reference="SO-CSP", by=None)
        db.session.commit()
    expect(page.get_by_test_id("available-HOOK-1")).to_have_text("0")
    assert any(f"/inventory/items/{hook_id}/row" in url for url in fetched)
    assert not any(f"/inventory/items/{chain_id}/row" in url for url in fetched)

    # A refused adjustment shows a toast, and its close button (no inline handler) closes it.
    page.get_by_test_id("delta-HOOK-1").fill("-1")
    page.get_by_test_id("reason-HOOK-1").fill("lost")
    page.get_by_test_id("adjust-HOOK-1").click()
    toast = page.locator("#toasts .toast-error")
    expect(toast).to_contain_text("at most 0 can be removed")
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
    assert _problems(page, console) == []
