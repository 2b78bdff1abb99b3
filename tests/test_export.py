"""Exports: the figures the dashboard shows, checked against sums computed independently
with pandas from the rows that were imported (tests/world.py plus an imported file)."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dashboard import exporter, figures, importer
from dashboard.cli import main
from dashboard.database import make_engine, upgrade
from tests.data_files import VALUE_HEADER, write_csv
from tests.world import VALUES, load_world

ROOT = Path(__file__).resolve().parent.parent

# Written out by hand, as in test_aggregation: each reporting entity's commune and zone.
COMMUNE_OF = {"00004": "00004", "00005": "00005", "00006": "00006", "00007": "00007", "00008": "00008",
              "BV1": "00004", "BV2": "00006", "TYT4": "00004", "TYT5": "00005", "TYT6": "00006"}
ZONE_OF = {"00004": "001", "00005": "001", "00006": "002", "00007": "002", "00008": "002"}
KEYS = {
    "facility": lambda e: e,
    "commune": lambda e: COMMUNE_OF[e],
    "district": lambda e: ZONE_OF[COMMUNE_OF[e]],
    "province": lambda e: "01",
}

IMPORTED = [
    ["stockind", "00004", "2025-09", 75, 100],
    ["stockind", "00005", "2025-09", 41, 200],
    ["flowind", "TYT5", "2025-08", 1, 3],
    ["flowind", "BV1", "2025-09", 55.25, 100],
    ["flowind", "BV2", "2025-08", 7, 9],
]


@pytest.fixture
def imported(use_engine, tmp_path):
    load_world(use_engine)
    path = write_csv(tmp_path / "values.csv", VALUE_HEADER, IMPORTED, bom=True)
    report = importer.import_files(use_engine, "values", [path], user="tester")
    assert report.ok, [i.message() for i in report.errors]
    new = pd.DataFrame(IMPORTED, columns=["indicator", "entity_code", "period", "numerator", "denominator"])
    rows = pd.concat([VALUES, new], ignore_index=True).drop_duplicates(
        ["indicator", "entity_code", "period"], keep="last")
    return use_engine, rows


def expected(rows: pd.DataFrame, indicator: str, months: list[str], stock: bool, level: str) -> pd.DataFrame:
    picked = rows[(rows["indicator"] == indicator) & rows["period"].isin(months)].copy()
    if stock:
        picked = picked.sort_values("period").groupby("entity_code").tail(1)
    else:
        picked = picked.groupby("entity_code", as_index=False)[["numerator", "denominator"]].sum()
    picked["code"] = picked["entity_code"].map(KEYS[level])
    out = picked.groupby("code").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                     reported=("entity_code", "nunique"))
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


def read_export_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(io.BytesIO(data[3:]), dtype=str, keep_default_na=False, encoding="utf-8")


CASES = [("stockind", "2025-Q3", True, level) for level in ("commune", "district", "province")] + \
        [("flowind", "2025-Q3", False, level) for level in ("facility", "commune", "district", "province")] + \
        [("flowind", "2025-08", False, "commune"), ("stockind", "2025", True, "district")]


@pytest.mark.parametrize("indicator, period, stock, level", CASES)
def test_csv_export_equals_independent_sums(imported, indicator, period, stock, level):
    engine, rows = imported
    months = {"2025-Q3": ["2025-07", "2025-08", "2025-09"], "2025-08": ["2025-08"],
              "2025": [f"2025-{m:02d}" for m in range(1, 10)]}[period]  # the year ends at its last data month
    buf = io.BytesIO()
    count = exporter.export_values(indicator, period, level, None, "csv", buf)
    got = read_export_csv(buf.getvalue())
    assert list(got.columns) == exporter.EXPORT_COLUMNS
    assert len(got) == count
    want = expected(rows, indicator, months, stock, level)
    got = got.set_index("code")
    for code, w in want.iterrows():
        assert float(got.loc[code, "numerator"]) == pytest.approx(w["numerator"])
        assert float(got.loc[code, "denominator"]) == pytest.approx(w["denominator"])
        assert float(got.loc[code, "value"]) == pytest.approx(w["value"], rel=1e-12)
        assert int(got.loc[code, "reported"]) == w["reported"]
    # Every exported row without a report is blank, never 0, and says so.
    silent = got[~got.index.isin(want.index)]
    assert (silent["numerator"] == "").all() and (silent["value"] == "").all()
    assert (silent["status"] == "no_data").all() and (silent["reported"] == "0").all()
    # Numbers are clean: a dot decimal, no exponent, no thousands separator.
    for column in ("numerator", "denominator", "value"):
        for text_ in got[column]:
            assert "e" not in text_.lower() and "," not in text_


def test_export_agrees_with_figures_to_the_last_digit(imported):
    frame = figures.figures("flowind", "2025-Q3", "commune")
    buf = io.BytesIO()
    exporter.export_values("flowind", "2025-Q3", "commune", None, "csv", buf)
    got = read_export_csv(buf.getvalue()).set_index("code")
    for row in frame.itertuples():
        for column in ("numerator", "denominator", "value", "target"):
            want = getattr(row, column)
            text_ = got.loc[row.code, column]
            assert (text_ == "") if pd.isna(want) else (float(text_) == want), (row.code, column)
        assert got.loc[row.code, "status"] == row.status
        assert int(got.loc[row.code, "reported"]) == row.reported
        assert got.loc[row.code, "name"] == row.name
    # Unrounded. By hand: commune 00006 in Q3 is BV2 (1 + 7 + 3) / (10 + 9 + 10) and TYT6 0 / 5,
    # so 100 * 11 / 34.
    assert got.loc["00006", "value"] == repr(100 * 11 / 34)


def test_export_with_parent_and_leading_zero_codes(imported):
    buf = io.BytesIO()
    exporter.export_values("flowind", "2025-Q3", "facility", "001", "csv", buf)
    got = read_export_csv(buf.getvalue())
    assert sorted(got["code"]) == ["BV1", "TYT4", "TYT5"]
    assert set(got["parent_code"]) == {"00004", "00005"}  # text, zeros kept
    buf = io.BytesIO()
    exporter.export_values("stockind", "2025-09", "commune", "002", "csv", buf)
    got = read_export_csv(buf.getvalue())
    assert "00006" in list(got["code"]) and "00004" not in list(got["code"])


def test_xlsx_export_has_numbers_as_numbers_and_codes_as_text(imported, tmp_path):
    from openpyxl import load_workbook

    _, rows = imported
    path = tmp_path / "out.xlsx"
    exporter.export_values("stockind", "2025-Q3", "commune", None, "xlsx", path)
    book = load_workbook(path)
    assert book.sheetnames == ["values", "Thông tin"]
    data = list(book["values"].iter_rows(values_only=True))
    assert list(data[0]) == exporter.EXPORT_COLUMNS
    table = pd.DataFrame(data[1:], columns=data[0]).set_index("code")
    want = expected(rows, "stockind", ["2025-07", "2025-08", "2025-09"], True, "commune")
    for code, w in want.iterrows():
        assert isinstance(table.loc[code, "value"], float)
        assert table.loc[code, "numerator"] == pytest.approx(w["numerator"])
        assert table.loc[code, "value"] == pytest.approx(w["value"], rel=1e-12)
        assert table.loc[code, "reported"] == w["reported"]
    assert "00004" in table.index and table.loc["00004", "parent_code"] == "001"
    info = [r for r in book["Thông tin"].iter_rows(values_only=True)]
    assert any(r[1] == "stockind" for r in info) and any(r[0] == "no_data" for r in info)


@pytest.mark.parametrize("value, text_", [(1165558.0, "1165558"), (85.3125, "85.3125"), (1e20, "100000000000000000000"),
                                          (0.1 + 0.2, "0.30000000000000004"), (1.5e-7, "0.00000015"),
                                          (float("nan"), ""), (None, ""), (7, "7"), (0.0, "0")])
def test_clean_number(value, text_):
    assert exporter.clean_number(value) == text_
    if text_:
        assert float(text_) == value


@pytest.mark.parametrize("args, message", [
    (("nope", "2025-Q3", "commune", None), "nope"),
    (("stockind", "2025-13", "commune", None), "2025-13"),
    (("stockind", "Q3-2025", "commune", None), "YYYY-Qn"),
    (("stockind", "2025-Q3", "xa", None), "'xa'"),
    (("stockind", "2025-Q3", "commune", "09999"), "09999"),
    (("stockind", "2025-Q3", "district", "00004"), "00004"),
])
def test_bad_export_requests_are_named(imported, args, message):
    with pytest.raises(exporter.ExportError) as caught:
        exporter.check_request(*args)
    assert message in str(caught.value) and " / " in str(caught.value)


# --- command line ------------------------------------------------------------------------

@pytest.fixture
def cli_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_world(engine)
    engine.dispose()
    yield url
    from dashboard import cache
    from dashboard.database import engine_for

    engine_for(url).dispose()
    figures.set_engine(None)
    cache.clear()


def test_cli_export_csv_to_stdout_and_xlsx_to_file(cli_db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["--database", cli_db, "export", "values", "--indicator", "stockind",
                                  "--period", "2025-Q3", "--level", "district"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    got = read_export_csv(result.stdout_bytes).set_index("code")
    want = expected(VALUES, "stockind", ["2025-07", "2025-08", "2025-09"], True, "district")
    assert float(got.loc["001", "value"]) == pytest.approx(want.loc["001", "value"])
    assert "stdout" in result.stderr
    out = tmp_path / "zones.xlsx"
    result = runner.invoke(main, ["--database", cli_db, "export", "values", "--indicator", "flowind",
                                  "--period", "2025", "--level", "province", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("args", [["--period", "2025-13"], ["--period", "2025-Q3", "--level", "tinh"],
                                  ["--period", "2025-Q3", "--parent", "xyz"], ["--period", "2025", "--indicator", "x"]])
def test_cli_export_bad_arguments_exit_2_without_traceback(cli_db, args):
    base = ["--database", cli_db, "export", "values"]
    if "--indicator" not in args:
        base += ["--indicator", "stockind"]
    result = CliRunner().invoke(main, base + args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and " / " in result.output


def test_template_sheet_is_valid_and_explained(demo_db, tmp_path):
    spec = importlib.util.spec_from_file_location("make_templates", ROOT / "docs" / "templates" / "make_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (path,) = module.build(tmp_path)
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert book.sheetnames == ["values", "Hướng dẫn"]
    header = [c.value for c in book["values"][1]]
    assert header == list(importer.FORMATS["values"].required)
    explained = {r[0] for r in book["Hướng dẫn"].iter_rows(values_only=True)}
    assert set(header) <= explained
    # Its example row passes every check against the demo province.
    report = importer.import_files(demo_db, "values", [path], dry_run=True)
    assert report.ok, [i.message() for i in report.errors]
    assert report.rows == 1
    # The committed file is what the script makes.
    committed = load_workbook(ROOT / "docs" / "templates" / "values_template.xlsx")
    assert [list(r) for r in committed["values"].iter_rows(values_only=True)] == \
        [list(r) for r in book["values"].iter_rows(values_only=True)]
