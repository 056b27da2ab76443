"""The confidence constants hold on the labelled set, and the settings page shows today's figures."""
import json

from app.pipeline import calibration
from bench.identify import band_table, evaluate, load, summary


def test_identifications_at_or_above_the_default_threshold_are_right_99_percent_of_the_time():
    results = evaluate(*load())
    assert len(results) >= 150
    kinds = {r["kind"].split(":")[0].split(",")[0] for r in results}
    assert {"catalogue gtin", "reference gtin", "text", "nothing", "misleading", "gtin unknown to both"} <= kinds
    assert any(c["source"] == "printed digits" for case in load()[0] for c in case.get("codes", []))
    total = summary(results, 80)
    assert total["at_or_above"] >= 100
    assert total["right_at_or_above"] >= 0.99 * total["at_or_above"], total["wrong_at_or_above"]


def test_the_stored_table_is_the_one_the_labelled_set_gives():
    results = evaluate(*load())
    stored = json.loads(calibration.PATH.read_text())
    assert stored["bands"] == json.loads(json.dumps(band_table(results)))
    assert calibration.at_or_above(80) == (summary(results, 80)["right_at_or_above"], summary(results, 80)["at_or_above"])
