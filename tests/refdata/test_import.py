"""`flask refdata import`: all or nothing, counts, in-place updates, refused lines with line numbers."""
import gzip

from sqlalchemy import func, select

from app.extensions import db
from app.refdata.models import ReferenceProduct
from app.refdata.services import reference_import

HEADER = "code\tproduct_name\tbrands\tquantity\tcategories_en\timage_url"
GOOD = ["3017620422003\tNutella\tFerrero\t400 g\tSpreads\t", "5449000000996\tCoca-Cola\tCoca-Cola\t330 ml\tSodas\t"]


def _write(path, *lines, gz=False):
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _count() -> int:
    db.session.commit()  # end the test's read snapshot: the import wrote on its own connection
    return db.session.scalar(select(func.count()).select_from(ReferenceProduct))


def test_import_adds_then_updates_in_place(app, tmp_path):
    report = reference_import(path=_write(tmp_path / "off.tsv", *GOOD))
    assert (report.imported, report.read, report.added, report.updated, report.refused_count) == (True, 2, 2, 0, 0)
    report = reference_import(path=_write(tmp_path / "off.tsv", "3017620422003\tNutella B-ready\tFerrero\t\t\t",
                                          "4006381333931\tStabilo pen\tStabilo\t\t\t"), source="OFF 2026-11")
    assert (report.added, report.updated) == (1, 1)
    row = db.session.get(ReferenceProduct, "3017620422003")
    assert (row.name, row.source) == ("Nutella B-ready", "OFF 2026-11") and _count() == 3


def test_one_bad_line_means_nothing_is_imported(app, tmp_path):
    report = reference_import(path=_write(tmp_path / "off.tsv", *GOOD, "3017620422009\tBad\tX\t\t\t"))
    assert not report.imported and _count() == 0
    assert report.refused[0].line == 4 and "check digit" in report.refused[0].reason
    assert "nothing was imported" in report.error
    report = reference_import(path=_write(tmp_path / "off.tsv", *GOOD, "3017620422009\tBad\tX\t\t\t"),
                              skip_invalid=True)
    assert report.imported and (report.added, report.refused_count) == (2, 1) and _count() == 2


def test_truncated_gzip_imports_nothing_even_with_skip_invalid(app, tmp_path):
    path = _write(tmp_path / "off.tsv.gz", *(GOOD * 3000), gz=True)
    path.write_bytes(path.read_bytes()[:-100])
    report = reference_import(path=path, skip_invalid=True)
    assert not report.imported and "cut short" in report.error and _count() == 0


def test_a_gtin_twice_in_one_file_keeps_the_last(app, tmp_path):
    report = reference_import(path=_write(tmp_path / "off.tsv", GOOD[0], "3017620422003\tNutella 750g\tFerrero\t\t\t"))
    assert (report.added, report.updated) == (1, 1)
    assert db.session.get(ReferenceProduct, "3017620422003").name == "Nutella 750g"


def test_command_prints_counts_and_writes_the_refused_report(app, tmp_path):
    path = _write(tmp_path / "off.tsv", *GOOD, "12345\tShort\tX\t\t\t", "=cmd\tFormula\tX\t\t\t")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["refdata", "import", str(path)])
    assert result.exit_code == 1 and "nothing was imported" in result.output
    assert "line 4: 12345" in result.output and _count() == 0
    result = runner.invoke(args=["refdata", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "rows read: 4, added: 2, updated: 0, refused: 2" in result.output
    report = (tmp_path / "off.tsv.refused.csv").read_text()
    assert report.splitlines()[0] == "line,code,reason" and "5,'=cmd," in report
    db.session.commit()
    result = runner.invoke(args=["refdata", "lookup", "3017620422003", "--no-online"])
    assert result.exit_code == 0 and "Nutella" in result.output and "GS1 France" in result.output
    assert "reference data: off.tsv, fetched" in result.output
    assert runner.invoke(args=["refdata", "lookup", "3017620422004"]).exit_code == 1
