"""Reading reference files: the Open Food Facts TSV export (plain and gzipped) and JSON Lines."""
import gzip
import json

import pytest

from app.refdata.reader import ReferenceFileError, ReferenceRow, Refused, open_reference_file, rows_from_text

HEADER = "code\turl\tproduct_name\tbrands\tquantity\tcategories_tags\tcategories_en\timage_url"


def _tsv(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


NUTELLA = "3017620422003\thttp://x\tNutella\tFerrero,Nutella\t400 g\ten:spreads\tBreakfasts,Spreads\thttps://img/n.jpg"


def test_tsv_rows_are_cleaned_and_gtins_checked():
    rows = list(rows_from_text(_tsv(
        NUTELLA,
        "036000291452\t\tTissues\tKleenex\t\ten:paper-tissues,fr:mouchoirs\t\tjavascript:alert(1)",
        "3017620422004\t\tBad check digit\tX\t\t\t\t",
        "2001234567893\t\tLoose apples\tShop\t\t\t\t",
        "\t\tNo code\tX\t\t\t\t",
        "5000112637922\t\t\t\t\t\t\t",
        "4006381333931\tonly two fields",
    )))
    good = [r for r in rows if isinstance(r, ReferenceRow)]
    assert [(r.gtin, r.name, r.brand, r.brand_key, r.quantity, r.categories) for r in good] == [
        ("3017620422003", "Nutella", "Ferrero", "ferrero", "400 g", "Breakfasts, Spreads"),
        ("0036000291452", "Tissues", "Kleenex", "kleenex", None, "Paper tissues")]
    assert good[0].image_url == "https://img/n.jpg" and good[1].image_url is None  # only http(s) links
    refused = {r.line: r.reason for r in rows if isinstance(r, Refused)}
    assert set(refused) == {4, 5, 6, 7, 8}
    assert "check digit" in refused[4] and "restricted circulation" in refused[5]
    assert "no product name and no brand" in refused[7] and "2 fields, the header has 8" in refused[8]


def test_json_lines_with_the_same_fields():
    text = "\n".join([json.dumps({"code": "3017620422003", "product_name": "Nutella", "brands": "Ferrero",
                                  "categories_tags": ["en:spreads", "en:sweet-spreads"]}),
                      "not json", json.dumps([1, 2]), json.dumps({"code": 5449000000996, "product_name": "Cola"})])
    rows = list(rows_from_text(text))
    assert isinstance(rows[0], ReferenceRow) and rows[0].categories == "Spreads, Sweet spreads"
    assert [r.line for r in rows if isinstance(r, Refused)] == [2, 3]
    assert isinstance(rows[3], ReferenceRow) and rows[3].gtin == "5449000000996"


def test_gzip_and_truncated_gzip(tmp_path):
    whole = tmp_path / "export.csv.gz"
    whole.write_bytes(gzip.compress(_tsv(*[NUTELLA] * 2000).encode()))
    rows, progress = open_reference_file(whole)
    assert sum(isinstance(r, ReferenceRow) for r in rows) == 2000 and progress.done == progress.total
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole.read_bytes()[:-200])
    rows, _ = open_reference_file(cut)
    with pytest.raises(ReferenceFileError, match="cut short or damaged"):
        list(rows)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("name\tbrands\nx\ty\n", "no 'code' column"),
    ("code\tquantity\n1\t2\n", "neither a 'product_name' nor a 'brands' column"),
])
def test_files_that_are_not_reference_data(text, message):
    with pytest.raises(ReferenceFileError, match=message):
        list(rows_from_text(text))


def test_binary_junk_is_refused_line_by_line(tmp_path):
    path = tmp_path / "junk.tsv"
    path.write_bytes(HEADER.encode() + b"\n\xff\xfe\x00garbage\n")
    rows, _ = open_reference_file(path)
    (row,) = list(rows)
    assert isinstance(row, Refused) and "UTF-8" in row.reason
