"""Upload in the browser, the product lands in review, an admin approves it, and the board card
moves to completed in another tab without a reload."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.pipeline.helpers import BLANK_PHOTO


def test_review_approval_moves_the_board_card_live(context, admin, live_worker):
    board, work = context.new_page(), context.new_page()
    sign_in(work, admin)
    work.goto("/products/new")
    work.set_input_files("input[name=images]", str(BLANK_PHOTO))
    work.fill("input[name=hint_name]", "Mystery box")
    work.click("#upload-form button[type=submit]")
    expect(work.get_by_test_id("product-status")).to_be_visible()
    product_id = work.url.rstrip("/").rsplit("/", 1)[-1]

    board.goto("/products/")
    expect(board.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    board.evaluate("window.__notReloaded = true")
    card = f'.product-card[data-product-id="{product_id}"]'
    expect(board.locator(f'[data-testid="col-needs_review"] {card}')).to_be_visible(timeout=120_000)

    work.goto("/review/")
    expect(work.locator(f'#review[data-product-id="{product_id}"]')).to_be_visible()
    expect(work.locator("#r-name")).to_have_value("Mystery box")  # prefilled from the hint
    work.fill("#r-name", "Wooden puzzle box")
    work.fill("#r-brand", "Acme Toys")
    work.locator("body").click(position={"x": 5, "y": 5})
    work.keyboard.press("a")  # the approve shortcut
    expect(work.get_by_test_id("review-empty")).to_be_visible()

    expect(board.locator(f'[data-testid="col-completed"] {card}')).to_be_visible(timeout=120_000)
    expect(board.locator(f'[data-testid="col-completed"] {card}')).to_contain_text("Wooden puzzle box")
    expect(board.locator(f"{card} [data-testid=confidence]")).to_have_text("100%")
    assert board.evaluate("window.__notReloaded") is True
