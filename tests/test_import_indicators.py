"""An indicator a department adds itself, the way a statistics officer would: through
`dashboard import indicators`, in CSV and in Excel, one with only the required columns and one
with every field. Every field a view reads comes back filled (never NaN, None or "nan"), with
the defaults written out here by hand; re-importing changed labels updates them and keeps
the values and targets. Both databases."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import cache, figures, importer
from dashboard.catalog.defaults import TEXT_FIELDS, complete
from dashboard.cli import main
from tests.data_files import VALUE_HEADER, write_csv, write_xlsx
from tests.world import load_world

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ["code", "name_vi", "name_en", "time", "higher_is_better"]
MINIMAL = ["tiem_chung", "Tỷ lệ trẻ dưới 1 tuổi được tiêm chủng đầy đủ", "Children under one fully immunised",
           "stock", "có"]
FULL = {
    "code": "kham_tu_xa", "name_vi": "Tỷ lệ bệnh viện triển khai khám chữa bệnh từ xa",
    "name_en": "Hospitals offering telehealth", "time": "flow", "higher_is_better": "true",
    "short_vi": "Khám chữa bệnh từ xa", "short_en": "Telehealth",
    "numerator_vi": "Số lượt khám từ xa", "denominator_vi": "Tổng số lượt khám",
    "numerator_en": "Remote consultations", "denominator_en": "Consultations",
    "unit_vi": "lượt khám", "unit_en": "consultations",
    "gap_vi": "còn thiếu {gap} lượt khám từ xa so với kế hoạch", "gap_en": "{gap} remote consultations short of plan",
    "decimals": "0", "display_unit": "%", "reported_by": "facility:hospital", "group": "telehealth",
    "headline": "5", "sort_order": "42",
}

#: What the minimal indicator must read back as, written out by hand from the documented defaults.
MINIMAL_EXPECTED = {
    "short_vi": "Trẻ dưới 1 tuổi được tiêm chủng…", "short_en": "Children under one fully…",
    "numerator_vi": "Tử số", "numerator_en": "Numerator", "denominator_vi": "Mẫu số", "denominator_en": "Denominator",
    "unit_vi": "trường hợp", "unit_en": "cases",
    "gap_vi": "còn thiếu {gap} trường hợp để đạt 100\u00a0%", "gap_en": "{gap} cases short of 100%",
    "decimals": 1, "display_unit": "%", "grp": "other", "time_agg": "stock", "higher_is_better": True,
    "reported_by": ("commune",),
}


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def cli(engine, *args):
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--database", url, *map(str, args)], catch_exceptions=False)
    figures.set_engine(engine)  # the command pointed the read side at its own engine
    cache.clear()
    return result


def write(kind: str, path: Path, header: list[str], rows: list[list]) -> Path:
    return write_xlsx(path, header, rows, sheet="indicators") if kind == "xlsx" else write_csv(path, header, rows)


def stored(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM indicators WHERE code = :c"), {"c": code}).mappings().one())


def assert_no_blank_field(row: dict) -> None:
    for field in (*TEXT_FIELDS, "name_vi", "name_en", "display_unit", "grp"):
        value = row[field]
        assert isinstance(value, str) and value.strip() and value.lower() not in ("nan", "none"), (field, value)
    assert isinstance(row["decimals"], (int,)) or float(row["decimals"]).is_integer()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_two_indicators_a_department_adds_itself(world, tmp_path, kind):
    minimal = write(kind, tmp_path / f"minimal.{kind}", REQUIRED, [MINIMAL])
    full = write(kind, tmp_path / f"full.{kind}", list(FULL), [list(FULL.values())])
    result = cli(world, "import", "indicators", minimal, full, "--user", "phong.khtc")
    assert result.exit_code == 0, result.output
    assert "imp_default_scope" not in result.output and "commune" in result.stderr  # the default scope is said

    table = figures.indicators()
    existing_orders = [0, 1]  # the world's two indicators
    got = table.loc["tiem_chung"].to_dict()
    for field, want in MINIMAL_EXPECTED.items():
        assert got[field] == want, field
    assert got["headline"] is None or (isinstance(got["headline"], float) and math.isnan(got["headline"]))
    assert int(got["sort_order"]) == max(existing_orders) + 1
    assert_no_blank_field(got)
    # The store wrote the same, so any reader of the table (API, exports) sees it too.
    row = stored(world, "tiem_chung")
    assert {k: row[k] for k in TEXT_FIELDS} == {k: MINIMAL_EXPECTED[k] for k in TEXT_FIELDS}

    got = table.loc["kham_tu_xa"].to_dict()
    for field in TEXT_FIELDS:
        assert got[field] == FULL[field], field
    assert (got["time_agg"], got["higher_is_better"], int(got["decimals"]), got["display_unit"]) == \
        ("flow", True, 0, "%")
    assert (got["grp"], int(got["headline"]), int(got["sort_order"])) == ("telehealth", 5, 42)
    assert got["reported_by"] == ("facility:hospital",)
    assert_no_blank_field(got)
    assert "kham_tu_xa" in figures.headline_codes()

    # Their values and targets load, and the figures equal a hand computation.
    values = write_csv(tmp_path / "v.csv", VALUE_HEADER, [
        ["tiem_chung", "00004", "2025-09", 90, 100], ["tiem_chung", "00005", "2025-09", 45, 60],
        ["kham_tu_xa", "BV1", "2025-08", 10, 200], ["kham_tu_xa", "BV1", "2025-09", 30, 200],
        ["kham_tu_xa", "BV2", "2025-09", 5, 100]])
    assert cli(world, "import", "values", values).exit_code == 0
    targets = write_csv(tmp_path / "t.csv", ["indicator", "unit_code", "value", "deadline"],
                        [["tiem_chung", "01", 95, "2025-12"], ["kham_tu_xa", "01", 20, "2025-12"]])
    assert cli(world, "import", "targets", targets).exit_code == 0
    zone = figures.figures("tiem_chung", "2025-09", "district").set_index("code").loc["001"]
    assert zone["value"] == pytest.approx(100 * (90 + 45) / (100 + 60))
    assert zone["gap_units"] == pytest.approx(0.95 * 160 - 135)
    province = figures.figures("kham_tu_xa", "2025-Q3", "province").set_index("code").loc["01"]
    assert province["value"] == pytest.approx(100 * (10 + 30 + 5) / (200 + 200 + 100))  # a flow sums the months
    assert province["target"] == 20


def test_re_importing_changed_labels_updates_them_and_keeps_values_and_targets(world, tmp_path):
    path = write_csv(tmp_path / "i.csv", list(FULL), [list(FULL.values())])
    assert importer.import_files(world, "indicators", [path]).ok
    minimal = write_csv(tmp_path / "m.csv", REQUIRED, [MINIMAL])
    assert importer.import_files(world, "indicators", [minimal]).ok
    values = write_csv(tmp_path / "v.csv", VALUE_HEADER, [["kham_tu_xa", "BV1", "2025-09", 30, 200],
                                                          ["tiem_chung", "00004", "2025-09", 9, 10]])
    assert importer.import_files(world, "values", [values]).ok
    targets = write_csv(tmp_path / "t.csv", ["indicator", "unit_code", "value", "deadline"],
                        [["kham_tu_xa", "01", 20, "2025-12"]])
    assert importer.import_files(world, "targets", [targets]).ok
    assert figures.indicator("kham_tu_xa")["short_vi"] == "Khám chữa bệnh từ xa"

    renamed = write_csv(tmp_path / "r.csv", ["code", "name_vi", "name_en", "time", "higher_is_better", "short_vi",
                                             "gap_en"], [
        ["kham_tu_xa", "Tỷ lệ lượt khám chữa bệnh từ xa", "Share of remote consultations", "flow", "true",
         "Khám từ xa", "{gap} consultations to go"],
        ["tiem_chung", "Tỷ lệ tiêm chủng mở rộng đầy đủ", "Expanded immunisation, full", "stock", "true", None, None]])
    report = importer.import_files(world, "indicators", [renamed])
    assert report.ok and (report.added, report.replaced) == (0, 2)
    ind = figures.indicator("kham_tu_xa")  # no restart: the data version moved
    assert (ind["name_vi"], ind["short_vi"], ind["gap_en"]) == ("Tỷ lệ lượt khám chữa bệnh từ xa", "Khám từ xa",
                                                                "{gap} consultations to go")
    assert ind["gap_vi"] == FULL["gap_vi"] and ind["unit_vi"] == "lượt khám"  # not in the file: kept
    assert ind["reported_by"] == ("facility:hospital",) and int(ind["headline"]) == 5
    # A short name that was only a default follows the new name.
    assert figures.indicator("tiem_chung")["short_vi"] == "Tiêm chủng mở rộng đầy đủ"
    with world.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM kpi_values WHERE indicator_code IN "
                                 "('kham_tu_xa', 'tiem_chung')")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM targets WHERE indicator_code = 'kham_tu_xa'")).scalar() == 1
    assert figures.figures("kham_tu_xa", "2025-09", "province").set_index("code").loc["01", "target"] == 20


@pytest.mark.parametrize("bad, column, key", [
    ({"gap_vi": "còn thiếu lượt khám"}, "gap_vi", "imp_gap_template"),         # no {gap}
    ({"gap_en": "{gap} of {total}"}, "gap_en", "imp_gap_template"),           # another placeholder
    ({"decimals": "5"}, "decimals", "imp_not_integer"),
    ({"headline": "0"}, "headline", "imp_not_integer"),
    ({"display_unit": "phần trăm của tổng số"}, "display_unit", "imp_text_too_long"),
    ({"short_vi": "=1+1"}, "short_vi", "imp_formula"),
])
def test_bad_optional_fields_are_refused_where_they_are(world, tmp_path, bad, column, key):
    row = {**FULL, **bad}
    path = write_csv(tmp_path / "i.csv", list(row), [list(row.values())])
    report = importer.import_files(world, "indicators", [path])
    assert [(i.line, i.column, i.key) for i in report.errors] == [(2, column, key)]


def test_rows_stored_before_the_defaults_existed_read_back_whole(world):
    """A row with NULL labels (written by an older version, or by hand) never reaches a page
    as NaN or None: the read side fills it with the same function as the store."""
    with world.begin() as conn:
        conn.execute(text("INSERT INTO indicators (code, name_vi, name_en, time_agg, higher_is_better, display_unit, "
                          "decimals, sort_order) VALUES ('cu', 'Tỷ lệ hộ gia đình có nước sạch', "
                          "'Households with clean water', 'stock', true, '%', 0, 9)"))
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    cache.clear()
    row = figures.indicator("cu")
    assert_no_blank_field(row)
    assert (row["short_vi"], row["unit_vi"], row["gap_en"], row["decimals"]) == (
        "Hộ gia đình có nước sạch", "trường hợp", "{gap} cases short of 100%", 0)


def test_an_earlier_versions_defaults_read_as_todays(world, tmp_path):
    """Earlier defaults called the remainder to 100 % "the target" and counted in "đơn vị" (which
    here names administrative units): stored, they read as today's defaults, and a re-import
    re-derives them; a sentence the department wrote itself is kept."""
    with world.begin() as conn:
        conn.execute(text("INSERT INTO indicators (code, name_vi, name_en, time_agg, higher_is_better, display_unit, "
                          "decimals, sort_order, unit_vi, unit_en, gap_vi, gap_en) VALUES ('cu', 'Tỷ lệ cũ', 'Old', "
                          "'stock', true, '%', 1, 9, 'đơn vị', 'units', 'còn thiếu {gap} đơn vị để đạt mục tiêu', "
                          "'{gap} units short of the target'), ('chon', 'Tỷ lệ chọn', 'Chosen', 'stock', true, '%', "
                          "1, 10, 'đơn vị', 'units', 'còn {gap} đơn vị chưa đạt', '{gap} units to go')"))
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    cache.clear()
    old = figures.indicator("cu")
    assert (old["unit_vi"], old["unit_en"]) == ("trường hợp", "cases")
    assert (old["gap_vi"], old["gap_en"]) == ("còn thiếu {gap} trường hợp để đạt 100\u00a0%", "{gap} cases short of 100%")
    chosen = figures.indicator("chon")
    assert (chosen["gap_vi"], chosen["gap_en"]) == ("còn {gap} đơn vị chưa đạt", "{gap} units to go")
    path = write_csv(tmp_path / "cu.csv", REQUIRED, [["cu", "Tỷ lệ cũ, tên mới", "Old, renamed", "stock", "true"]])
    assert importer.import_files(world, "indicators", [path]).ok
    row = stored(world, "cu")
    assert (row["unit_vi"], row["gap_en"]) == ("trường hợp", "{gap} cases short of 100%")


def test_defaults_read_the_numerator_label():
    row = complete({"code": "x", "name_vi": "Tỷ lệ trẻ tiêm đủ", "name_en": "Share of children fully vaccinated",
                    "time_agg": "stock", "numerator_vi": "Số trẻ tiêm đủ mũi",
                    "numerator_en": "Number of children fully vaccinated", "decimals": float("nan"),
                    "grp": None, "headline": float("nan")})
    assert (row["unit_vi"], row["unit_en"]) == ("trẻ", "children")
    assert row["gap_vi"] == "còn thiếu {gap} trẻ để đạt 100\u00a0% (số trẻ tiêm đủ mũi)"
    assert row["gap_en"] == "{gap} children short of 100% (number of children fully vaccinated)"
    assert (row["short_en"], row["decimals"], row["grp"], row["headline"]) == ("Children fully vaccinated", 1,
                                                                               "other", None)
    money = complete({"code": "m", "name_vi": "Giá trị", "name_en": "Value", "time_agg": "flow",
                      "numerator_vi": "Giá trị viện phí thu qua ngân hàng (đồng)"})
    assert money["unit_vi"] == "đồng"
    assert money["gap_vi"].format(gap="1,2 tỷ") == \
        "còn thiếu 1,2 tỷ đồng để đạt 100\u00a0% (giá trị viện phí thu qua ngân hàng (đồng))"


def test_the_indicators_template_documents_every_column_and_its_examples_load(world, tmp_path):
    import importlib.util

    from openpyxl import load_workbook

    spec = importlib.util.spec_from_file_location("make_templates", ROOT / "docs" / "templates" / "make_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (path,) = module.build(tmp_path, ("indicators",))
    book = load_workbook(path)
    header = [c.value for c in book["indicators"][1]]
    assert header == list(importer.FORMATS["indicators"].columns)
    guide = {r[0]: r for r in book["Hướng dẫn"].iter_rows(values_only=True) if r and r[0]}
    for column in header:
        assert column in guide and guide[column][2] and guide[column][3], column
        if column not in importer.FORMATS["indicators"].required:
            assert guide[column][4], f"{column} has no default written down"
    docs = (ROOT / "docs" / "data-formats.md").read_text(encoding="utf-8")
    for column in header:
        assert f"`{column}`" in docs, column
    report = importer.import_files(world, "indicators", [path], dry_run=True)
    assert report.ok and report.added == 2, [i.message() for i in report.errors]
    committed = load_workbook(ROOT / "docs" / "templates" / "indicators_template.xlsx")
    assert [list(r) for r in committed["indicators"].iter_rows(values_only=True)] == \
        [list(r) for r in book["indicators"].iter_rows(values_only=True)]
