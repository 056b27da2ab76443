"""Identification in the browser: a GTIN known only to the reference data completes with its
evidence; a page of unrelated text uploaded as "Desk lamp" waits in review still called "Desk
lamp", the machine's guess shown beside it, and the manager accepts a suggestion in one click."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.pipeline.helpers import EAN, EAN_PHOTO, TEXT_PAGE_PHOTO, catalogue_item, reference_row


def test_reference_data_names_a_product_the_catalogue_does_not_have(context, org, manager, live_worker):
    reference_row(EAN, name="Nineteen Eighty-Four (Penguin Modern Classics)", brand="Penguin",
                  source="openfoodfacts-products.csv.gz")
    page = context.new_page()
    sign_in(page, manager)
    page.goto("/products/new")
    page.set_input_files("input[name=images]", str(EAN_PHOTO))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_test_id("product-status")).to_have_text("completed", timeout=120_000)
    expect(page.get_by_test_id("field-name")).to_contain_text("Nineteen Eighty-Four (Penguin Modern Classics)")
    expect(page.get_by_test_id("field-name")).to_contain_text("reference data (GTIN)")
    expect(page.get_by_test_id("field-gtin")).to_contain_text(EAN)
    reference = page.get_by_test_id("evidence-reference")
    expect(reference).to_contain_text("reference data: openfoodfacts-products.csv.gz, fetched")
    expect(page.locator(".evidence")).to_contain_text("GS1 prefix 978: book (ISBN)")


def test_unrelated_text_keeps_the_uploaders_name_and_shows_the_guess(context, org, manager, live_worker):
    catalogue_item(org, gtin=None, title="Assembly kit for desk lamps", sku="KIT-1", brand=None, category="Lighting")
    board, page = context.new_page(), context.new_page()
    sign_in(page, manager)
    board.goto("/products/")
    expect(board.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    page.goto("/products/new")
    page.set_input_files("input[name=images]", str(TEXT_PAGE_PHOTO))
    page.fill("input[name=hint_name]", "Desk lamp")
    page.fill("input[name=hint_model]", "LX-200")
    page.click("#upload-form button[type=submit]")
    product_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    card = board.locator(f'[data-testid="col-needs_review"] .product-card[data-product-id="{product_id}"]')
    expect(card).to_be_visible(timeout=120_000)  # arrives live
    expect(card.locator("strong")).to_have_text("Desk lamp")
    expect(card.get_by_test_id("card-suggestion")).to_contain_text("looks like")

    expect(page.get_by_test_id("product-status")).to_have_text("needs review", timeout=30_000)
    expect(page.locator("h1")).to_contain_text("Desk lamp")
    expect(page.get_by_test_id("field-name")).to_contain_text("typed at upload")
    expect(page.get_by_test_id("field-name").get_by_test_id("suggestion").first).to_contain_text("looks like")

    page.goto("/review/")
    expect(page.get_by_test_id("review-title")).to_have_text("Desk lamp")
    expect(page.locator("#r-name")).to_have_value("Desk lamp")
    suggestion = page.locator('[data-testid="suggestion"][data-field="name"]').first
    expect(suggestion).to_be_visible()
    value = suggestion.locator("button").get_attribute("data-value")
    suggestion.locator("button").click()  # one click puts the suggestion in the field
    expect(page.locator("#r-name")).to_have_value(value)
    page.fill("#r-name", "Desk lamp LX-200")
    page.locator('input[name="kept_text"][value="Assembly instructions"]').check()
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("review-empty")).to_be_visible()
    expect(card).to_be_hidden(timeout=60_000)
    completed = board.locator(f'.product-card[data-product-id="{product_id}"]')
    expect(completed.locator("strong")).to_have_text("Desk lamp LX-200", timeout=120_000)
