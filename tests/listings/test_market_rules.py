"""Market research as plain functions: median, undercut, floors and caps, currencies, no data."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.listings.phases.market import matched_item_id
from app.listings.pricing import NO_MARKET_DATA, PricePoint, PricingRule, UnitCost, research


def competitor(amount, currency="EUR", source="Shop"):
    return PricePoint("competitor", D(amount), currency, source)


def test_no_points_is_no_market_data_and_no_price():
    result = research([], UnitCost(D("5.00"), "EUR", "item"))
    assert result.status == NO_MARKET_DATA
    assert result.suggested_price is None and result.competitive_price is None and result.msrp is None
    assert result.as_dict()["suggested_price"] is None


def test_median_of_competitors_minus_two_percent():
    result = research([competitor("10.00"), competitor("12.00"), competitor("30.00")])
    assert result.competitive_price == D("12.00")
    assert result.suggested_price == D("11.76")
    assert result.rule == "median of 3 competitor price(s) −2 %"
    assert result.comparables == 3


def test_even_number_of_competitors_uses_mean_of_middle_two():
    result = research([competitor("10.00"), competitor("11.00")], rule=PricingRule(D("0"), D("1.3")))
    assert result.competitive_price == D("10.50")
    assert result.suggested_price == D("10.50")
    assert result.rule == "median of 2 competitor price(s)"


def test_floor_at_unit_cost_times_markup():
    result = research([competitor("10.00")], UnitCost(D("9.00"), "EUR", "inventory item X"))
    assert result.suggested_price == D("11.70")
    assert result.rule == "median of 1 competitor price(s) −2 %, floored at unit cost × 1.3 (floor 11.70 used)"


def test_floor_named_but_not_used_when_price_is_above_it():
    result = research([competitor("20.00")], UnitCost(D("2.00"), "EUR", "item"))
    assert result.suggested_price == D("19.60")
    assert result.rule.endswith("floored at unit cost × 1.3")


def test_capped_at_msrp():
    points = [PricePoint("msrp", D("15.00"), "EUR", "Maker"), competitor("20.00"), competitor("22.00")]
    result = research(points, rule=PricingRule(D("0"), D("1.3")))
    assert result.msrp == D("15.00") and result.competitive_price == D("21.00")
    assert result.suggested_price == D("15.00")
    assert "capped at the MSRP" in result.rule


def test_past_sales_when_no_competitor():
    sales = [PricePoint("sale", D(x), "EUR", "own sale", date(2026, 1, i + 1), f"SO-{i}")
             for i, x in enumerate(["8.00", "9.00", "14.00"])]
    result = research(sales)
    assert result.suggested_price == D("9.00")
    assert result.rule == "median of 3 own past sale price(s)"


def test_msrp_alone_and_latest_msrp_wins():
    points = [PricePoint("msrp", D("30.00"), "EUR", "old", date(2025, 1, 1)),
              PricePoint("msrp", D("32.00"), "EUR", "new", date(2026, 1, 1))]
    result = research(points)
    assert result.msrp == D("32.00") and result.suggested_price == D("32.00") and result.rule == "MSRP"


def test_other_currency_is_set_aside_not_converted():
    points = [competitor("10.00", "EUR"), competitor("40.00", "PLN"), competitor("42.00", "PLN")]
    result = research(points, UnitCost(D("1.00"), "EUR", "item"))
    assert result.currency == "EUR" and result.competitive_price == D("10.00")
    assert result.notes == ["2 price(s) in PLN set aside: no exchange rate to EUR is known"]
    # without a unit cost, the currency most prices use wins
    assert research(points).currency == "PLN"


def test_only_foreign_prices_is_no_market_data():
    result = research([competitor("40.00", "PLN")], UnitCost(D("1.00"), "EUR", "item"))
    assert result.status == NO_MARKET_DATA and result.suggested_price is None


def test_rule_parameters_from_the_settings(monkeypatch):
    from app.config import load_config

    monkeypatch.setenv("PRICING_UNDERCUT_PERCENT", "5")
    monkeypatch.setenv("PRICING_COST_MARKUP", "2")
    rule = PricingRule.from_settings(load_config())
    result = research([competitor("100.00")], UnitCost(D("10.00"), "EUR", "item"), rule)
    assert result.suggested_price == D("95.00")
    assert result.rule == "median of 1 competitor price(s) −5 %, floored at unit cost × 2"


def test_money_is_text_in_json():
    data = research([competitor("10.005")]).as_dict()
    assert data["competitive_price"] == "10.01" and isinstance(data["suggested_price"], str)
    assert data["sources"][0] == {"kind": "competitor", "amount": "10.005", "currency": "EUR", "source": "Shop",
                                  "date": None, "reference": None}


def test_matched_item_id_reads_catalogue_match():
    assert matched_item_id({"catalogue_match": {"key": "item:42", "score": 100}}) == 42
    assert matched_item_id({"catalogue_match": "item:7"}) == 7
    assert matched_item_id({"catalogue_match": {"key": "product:3"}}) is None
    assert matched_item_id(None) is None
    assert matched_item_id({"gtin_match": {"rows": [{"key": "item:5", "name": "Ring"}]}}) == 5
    two = {"gtin_match": {"rows": [{"key": "item:5"}, {"key": "item:6"}]}}
    assert matched_item_id(two) is None
    text = {"text_matches": [{"row": {"key": "item:9", "name": "Curb Chain"}, "score": 91}]}
    assert matched_item_id(text, "curb chain") == 9
    assert matched_item_id(text, "Corrected by a reviewer") is None
