"""Downloads and the API share one table (dashboard.table): checked against sums computed
independently with pandas from the rows that were loaded (tests/world.py plus an imported file),
rounded as the screen rounds them."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import apidata, exports, figures, importer, request, table
from dashboard.cli import main
from dashboard.database import make_engine, upgrade
from dashboard.i18n import t
from tests.data_files import VALUE_HEADER, write_csv
from tests.world import UNITS, VALUES, load_world

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
    ["flowind", "BV1", "2025-09", 55, 100],
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
        # A stock is a count at the period's end: a commune that ended before it (00007, to
        # 2025-06) is no longer counted; its people are in its successor's figure.
        ended = {str(u.code) for u in UNITS.itertuples()
                 if u.valid_to is not None and f"{u.valid_to:%Y-%m}" < months[-1]}
        picked = picked[~picked["entity_code"].isin(ended)]
        picked = picked.sort_values("period").groupby("entity_code").tail(1)
    else:
        picked = picked.groupby("entity_code", as_index=False)[["numerator", "denominator"]].sum()
    picked["code"] = picked["entity_code"].map(KEYS[level])
    out = picked.groupby("code").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                     reported=("entity_code", "nunique"))
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(io.BytesIO(data[3:]), dtype=str, keep_default_na=False, encoding="utf-8")


def download(ext: str, **params) -> bytes:
    body, _rows = exports.data_file(request.read("export", params), ext)
    return body


def headers(lang: str) -> list[str]:
    return [c.header(lang) for c in table.COLUMNS]


CASES = [("stockind", "2025-Q3", True, level) for level in ("commune", "district", "province")] + \
        [("flowind", "2025-Q3", False, level) for level in ("facility", "commune", "district", "province")] + \
        [("flowind", "2025-08", False, "commune"), ("stockind", "2025", True, "district")]


@pytest.mark.parametrize("indicator, period, stock, level", CASES)
def test_csv_equals_independent_sums_rounded_as_on_screen(imported, indicator, period, stock, level):
    engine, rows = imported
    months = {"2025-Q3": ["2025-07", "2025-08", "2025-09"], "2025-08": ["2025-08"],
              "2025": [f"2025-{m:02d}" for m in range(1, 10)]}[period]  # the year ends at its last data month
    got = read_csv(download("csv", indicator=indicator, period=period, level=level))
    assert list(got.columns) == headers("vi")
    got.columns = list(table.KEYS)
    want = expected(rows, indicator, months, stock, level)
    got = got.set_index("code")
    for code, w in want.iterrows():
        assert float(got.loc[code, "numerator"]) == pytest.approx(w["numerator"])
        assert float(got.loc[code, "denominator"]) == pytest.approx(w["denominator"])
        # the world's indicators show one decimal, and so does the file
        assert got.loc[code, "value"] == (f"{w['value']:.1f}".rstrip("0").rstrip(".")), code
        assert int(got.loc[code, "reported"]) == w["reported"]
        assert got.loc[code, "period"] == period and got.loc[code, "indicator"] == indicator
    # Every row without a report is blank, never 0, and says "chưa báo cáo".
    silent = got[~got.index.isin(want.index) & (got["expected"] != "0")]
    assert (silent["numerator"] == "").all() and (silent["value"] == "").all()
    assert (silent["status"] == "no_data").all() and (silent["reported"] == "0").all()
    assert (silent["status_text"] == t("status_no_data", "vi")).all()
    for column in ("numerator", "denominator", "value"):
        for text_ in got[column]:
            assert "e" not in text_.lower() and "," not in text_


def test_not_applicable_is_kept_apart_from_not_reported(imported):
    # Facilities report flowind only if they are hospitals or stations; stockind is reported by
    # communes, so no facility is expected to report it: "không áp dụng", not "chưa báo cáo".
    got = read_csv(download("csv", indicator="stockind", period="2025-Q3", level="facility"))
    got.columns = list(table.KEYS)
    assert len(got) == 5
    assert (got["status"] == "not_applicable").all() and (got["expected"] == "0").all()
    assert (got["status_text"] == t("status_not_applicable", "vi")).all()
    flow = read_csv(download("csv", indicator="flowind", period="2025-07", level="facility"))
    flow.columns = list(table.KEYS)
    assert flow.set_index("code").loc["TYT5", "status"] == "no_data"  # expected to report, silent in July


def test_one_column_list_for_csv_xlsx_and_the_api(imported):
    from openpyxl import load_workbook

    params = {"indicator": "flowind", "period": "2025-Q3", "level": "commune"}
    csv_vi = read_csv(download("csv", **params))
    csv_en = read_csv(download("csv", **params, lang="en"))
    assert list(csv_en.columns) == headers("en") and list(csv_vi.columns) == headers("vi")
    assert headers("vi") != headers("en")
    book = load_workbook(io.BytesIO(download("xlsx", **params)))
    data = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert list(data[0]) == headers("vi")
    payload, status = apidata.values_payload(request.read("api.values", params))
    assert status == 200 and payload["columns"] == list(table.KEYS)
    assert all(list(row) == list(table.KEYS) for row in payload["rows"])
    # ...and the same figures in all three.
    csv_vi.columns = list(table.KEYS)
    by_code = {r["code"]: r for r in payload["rows"]}
    for row, xrow in zip(csv_vi.to_dict("records"), data[1:]):
        api = by_code[row["code"]]
        assert (row["value"] == "") == (api["value"] is None) == (xrow[table.KEYS.index("value")] is None)
        if api["value"] is not None:
            assert float(row["value"]) == api["value"] == xrow[table.KEYS.index("value")]
        assert row["status"] == api["status"] == xrow[table.KEYS.index("status")]


def test_export_agrees_with_the_figures_frame(imported):
    frame = figures.figures("flowind", "2025-Q3", "commune")
    got = read_csv(download("csv", indicator="flowind", period="2025-Q3", level="commune"))
    got.columns = list(table.KEYS)
    got = got.set_index("code")
    for row in frame.itertuples():
        assert got.loc[row.code, "numerator"] == ("" if pd.isna(row.numerator) else table._plain(row.numerator))
        # figures' status, or "không áp dụng" where nobody beneath the commune reports it
        assert got.loc[row.code, "status"] == (row.status if row.expected else "not_applicable")
        assert int(got.loc[row.code, "reported"]) == row.reported
        assert got.loc[row.code, "name"] == row.name
    # By hand: commune 00006 in Q3 is BV2 (1 + 7 + 3) / (10 + 9 + 10) and TYT6 0 / 5: 100 * 11 / 34 = 32.35…
    assert got.loc["00006", "value"] == "32.4"


def test_rounding_never_hides_a_miss(imported, use_engine):
    # 94.99 % against a 95 % target: one decimal would say "95.0", the file says 94.99.
    from dashboard import aggregates, store

    with store.write_transaction(use_engine) as conn:
        conn.execute(text("UPDATE kpi_values SET numerator = 9499, denominator = 10000 "
                          "WHERE indicator_code = 'stockind' AND entity_code = '00006' AND period = '2025-09'"))
        aggregates.touched(conn).values("stockind", {"2025-09"})  # raw SQL: say what changed
    got = read_csv(download("csv", indicator="stockind", period="2025-09", level="commune"))
    got.columns = list(table.KEYS)
    row = got.set_index("code").loc["00006"]
    assert row["target"] == "95" and row["value"] == "94.99" and row["status"] != "achieved"


def test_parent_unit_and_leading_zero_codes(imported):
    got = read_csv(download("csv", indicator="flowind", period="2025-Q3", level="facility", unit="001"))
    got.columns = list(table.KEYS)
    assert sorted(got["code"]) == ["BV1", "TYT4", "TYT5"]
    assert set(got["parent_code"]) == {"00004", "00005"}  # text, zeros kept
    # The old name `parent` still works.
    old = read_csv(download("csv", indicator="stockind", period="2025-09", level="commune", parent="002"))
    old.columns = list(table.KEYS)
    assert "00006" in list(old["code"]) and "00004" not in list(old["code"])


def test_xlsx_has_numbers_with_the_screens_format_and_codes_as_text(imported):
    from openpyxl import load_workbook

    _, rows = imported
    book = load_workbook(io.BytesIO(download("xlsx", indicator="stockind", period="2025-Q3", level="commune")))
    sheet = book[book.sheetnames[0]]
    assert book.sheetnames == [t("exp2_sheet_data", "vi"), t("exp2_sheet_notes", "vi")]
    data = list(sheet.iter_rows(values_only=True))
    frame = pd.DataFrame(data[1:], columns=list(table.KEYS)).set_index("code")
    want = expected(rows, "stockind", ["2025-07", "2025-08", "2025-09"], True, "commune")
    for code, w in want.iterrows():
        assert isinstance(frame.loc[code, "value"], float)
        assert frame.loc[code, "numerator"] == pytest.approx(w["numerator"])
        assert frame.loc[code, "value"] == pytest.approx(round(w["value"], 1))
        assert frame.loc[code, "reported"] == w["reported"]
    assert frame.loc["00004", "parent_code"] == "001"
    column = {k: i + 1 for i, k in enumerate(table.KEYS)}
    cell = sheet.cell(row=2, column=column["value"])
    assert cell.number_format == "#,##0.0"
    assert sheet.cell(row=2, column=column["code"]).data_type == "s"
    notes = [r for r in book[book.sheetnames[1]].iter_rows(values_only=True)]
    assert any(r[0] == t("exp2_col_status", "vi") and "not_applicable" in (r[1] or "") for r in notes)


def test_text_that_a_spreadsheet_would_run_never_leaves_live(imported, use_engine):
    from openpyxl import load_workbook

    # Written straight into the store (the importer refuses such names), as an older database may hold.
    names = {"00004": '=HYPERLINK("http://x","Bấm vào đây")', "00005": "+cmd|'/C calc'!A0", "00006": "@SUM(1+1)",
             "00008": "-2+3"}
    with use_engine.begin() as conn:
        for code, name in names.items():
            conn.execute(text("UPDATE units SET name = :n WHERE code = :c"), {"n": name, "c": code})
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    got = read_csv(download("csv", indicator="stockind", period="2025-09", level="commune"))
    got.columns = list(table.KEYS)
    by_code = got.set_index("code")
    for code, name in names.items():
        assert by_code.loc[code, "name"] == "'" + name
    book = load_workbook(io.BytesIO(download("xlsx", indicator="stockind", period="2025-09", level="commune")))
    sheet = book[book.sheetnames[0]]
    column = table.KEYS.index("name") + 1
    cells = {sheet.cell(row=r, column=table.KEYS.index("code") + 1).value: sheet.cell(row=r, column=column)
             for r in range(2, sheet.max_row + 1)}
    for code, name in names.items():
        assert cells[code].data_type == "s" and cells[code].value == name


def test_bad_parameters_are_problems_with_defaults(imported):
    req = request.read("export", {"indicator": "nope", "period": "2025-13", "level": "xa", "unit": "09999"})
    assert {p.parameter for p in req.problems} == {"indicator", "period", "level", "unit"}
    body, rows = exports.data_file(req, "xlsx")
    from openpyxl import load_workbook

    notes = [r for r in load_workbook(io.BytesIO(body))[t("exp2_sheet_notes", "vi")].iter_rows(values_only=True)]
    assert sum(1 for r in notes if r[0] == t("exp2_meta_warning", "vi")) == 4
    assert rows > 0  # the defaults still give the figures


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
    got = read_csv(result.stdout_bytes)
    got.columns = list(table.KEYS)
    want = expected(VALUES, "stockind", ["2025-07", "2025-08", "2025-09"], True, "district")
    assert float(got.set_index("code").loc["001", "value"]) == pytest.approx(round(want.loc["001", "value"], 1))
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
