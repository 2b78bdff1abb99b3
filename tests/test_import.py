"""Importing CSV and Excel files: real files on disk, both databases.

Every failing case checks that the database is byte-for-byte unchanged (table_checksums)
and that the message names the file, the line and the column. Expected figures are
computed with pandas over tests/world.py rows plus the imported rows, never read back
from the code under test.
"""
from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import figures, importer, store
from dashboard.cli import main
from dashboard.database import make_engine, table_checksums, upgrade
from tests.data_files import VALUE_HEADER, kpi_rows, write_csv, write_xlsx
from tests.world import VALUES, load_world

# Written out by hand: each reporting entity's commune and zone in tests/world.py.
COMMUNE_OF = {"00004": "00004", "00005": "00005", "00006": "00006", "00007": "00007", "00008": "00008",
              "BV1": "00004", "BV2": "00006", "TYT4": "00004", "TYT5": "00005", "TYT6": "00006"}
ZONE_OF = {"00004": "001", "00005": "001", "00006": "002", "00007": "002", "00008": "002"}


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def run(engine, kind, *paths, **kwargs) -> importer.ImportReport:
    return importer.import_files(engine, kind, list(paths), user=kwargs.pop("user", "tester"), **kwargs)


def expected_by(values: pd.DataFrame, indicator: str, months: list[str], stock: bool, key) -> pd.DataFrame:
    rows = values[(values["indicator"] == indicator) & values["period"].isin(months)].copy()
    if stock:
        rows = rows.sort_values("period").groupby("entity_code").tail(1)
    else:
        rows = rows.groupby("entity_code", as_index=False)[["numerator", "denominator"]].sum()
    rows["code"] = rows["entity_code"].map(key)
    out = rows.groupby("code").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                   reported=("entity_code", "nunique"))
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


def merged(values: pd.DataFrame, new_rows: list[list]) -> pd.DataFrame:
    """World values with imported rows laid over them (same key: the import wins)."""
    new = pd.DataFrame(new_rows, columns=["indicator", "entity_code", "period", "numerator", "denominator"])
    out = pd.concat([values, new], ignore_index=True)
    return out.drop_duplicates(["indicator", "entity_code", "period"], keep="last")


# --- loading -----------------------------------------------------------------------------

NEW_VALUES = [
    ["stockind", "00004", "2025-09", 75, 100],   # replaces 70/100
    ["stockind", "00005", "2025-09", 40, 200],   # new: 00005 had missed September
    ["flowind", "TYT5", "2025-08", 1, 4],        # new: TYT5 had never reported
    ["flowind", "BV1", "2025-09", 55.5, 100],    # replaces 50/100
]


def test_values_csv_with_bom_loads_audits_and_the_dashboard_changes_at_once(world, tmp_path):
    before_q3 = figures.figures("stockind", "2025-Q3", "district").set_index("code")
    path = write_csv(tmp_path / "giá trị.csv", VALUE_HEADER, NEW_VALUES, bom=True)

    report = run(world, "values", path, user="nguyen.van.a")

    assert report.ok and report.written, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (2, 2)
    # The same cached function, no restart and no cache flush: the data version moved.
    after_q3 = figures.figures("stockind", "2025-Q3", "district").set_index("code")
    months = ["2025-07", "2025-08", "2025-09"]
    want_before = expected_by(VALUES, "stockind", months, True, lambda e: ZONE_OF[COMMUNE_OF[e]])
    want_after = expected_by(merged(VALUES, NEW_VALUES), "stockind", months, True,
                             lambda e: ZONE_OF[COMMUNE_OF[e]])
    assert before_q3.loc["001", "value"] == pytest.approx(want_before.loc["001", "value"])
    for zone in want_after.index:
        assert after_q3.loc[zone, "numerator"] == pytest.approx(want_after.loc[zone, "numerator"])
        assert after_q3.loc[zone, "denominator"] == pytest.approx(want_after.loc[zone, "denominator"])
        assert after_q3.loc[zone, "value"] == pytest.approx(want_after.loc[zone, "value"])
    assert after_q3.loc["001", "value"] != pytest.approx(before_q3.loc["001", "value"])
    flow = figures.figures("flowind", "2025-Q3", "commune").set_index("code")
    want_flow = expected_by(merged(VALUES, NEW_VALUES), "flowind", months, False, lambda e: COMMUNE_OF[e])
    assert flow.loc["00005", "numerator"] == pytest.approx(want_flow.loc["00005", "numerator"])
    assert flow.loc["00004", "value"] == pytest.approx(want_flow.loc["00004", "value"])

    with world.connect() as conn:
        load = conn.execute(text("SELECT user_name, kind, source_file, rows_added, rows_replaced, rows_total, "
                                 "checksum FROM data_loads ORDER BY id DESC")).first()
        stored_load = conn.execute(text("SELECT load_id FROM kpi_values WHERE indicator_code = 'stockind' "
                                        "AND entity_code = '00005' AND period = '2025-09'")).scalar_one()
    assert load.user_name == "nguyen.van.a" and load.kind == "values"
    assert load.source_file == str(path.resolve())
    assert (load.rows_added, load.rows_replaced, load.rows_total) == (2, 2, 4)
    assert load.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored_load == report.files[0].load_id


def test_reimport_is_idempotent_and_counts_replacements(world, tmp_path):
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, NEW_VALUES)
    first = run(world, "values", path)
    rows_after_first = kpi_rows(world)
    second = run(world, "values", path)
    assert (first.added, first.replaced) == (2, 2)
    assert (second.added, second.replaced) == (0, 4)
    pd.testing.assert_frame_equal(kpi_rows(world), rows_after_first)
    want = merged(VALUES, NEW_VALUES)
    assert len(rows_after_first) == len(want)
    with world.connect() as conn:
        loads = conn.execute(text("SELECT rows_added, rows_replaced FROM data_loads WHERE kind = 'values' "
                                  "ORDER BY id")).all()
    assert [tuple(r) for r in loads][-2:] == [(2, 2), (0, 4)]


def test_xlsx_written_by_openpyxl_with_text_codes_dates_and_any_column_order(world, tmp_path):
    header = ["Denominator", "period", "unit_code", "indicator", "numerator"]  # any order, any case
    rows = [[100, "2025-09", "00004", "stockind", 75],
            [200, datetime(2025, 9, 1), "00005", "stockind", 40],  # Excel turned '2025-09' into a date
            [4, "2025-08", 5, "stockind", 1]]                       # '00005' kept by the '00000' format
    path = write_xlsx(tmp_path / "values.xlsx", header, rows, formats={"unit_code": "00000"},
                      first_sheet="Bìa")
    report = run(world, "values", path, sheet="values")
    assert report.ok, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (1, 2)
    stored = kpi_rows(world).set_index(["indicator_code", "entity_code", "period"])
    assert stored.loc[("stockind", "00005", "2025-09"), "numerator"] == 40
    assert stored.loc[("stockind", "00005", "2025-08"), "denominator"] == 4
    assert report.files[0].source.endswith("values.xlsx#values")


def test_xlsx_code_stored_as_a_number_is_flagged_with_its_cell(world, tmp_path):
    path = write_xlsx(tmp_path / "values.xlsx", VALUE_HEADER, [["stockind", 4, "2025-09", 1, 2]])
    before = table_checksums(world)
    report = run(world, "values", path)
    assert table_checksums(world) == before
    (issue,) = report.errors
    assert (issue.line, issue.column, issue.cell, issue.key) == (2, "unit_code", "B2", "imp_unknown_entity")
    assert "00004" in issue.message() and "Text" in issue.message()


def test_units_and_facilities_nfd_names_leading_zeros_and_hierarchy(world, tmp_path):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731 - as macOS and some tools write it
    units = write_csv(tmp_path / "units.csv", ["code", "name", "level", "parent_code", "valid_from"], [
        ["00009", nfd("Xã Chín Đông"), "commune", "003", "2025-07-01"],  # its parent comes later in the file
        ["003", nfd("Khu vực Ba"), "district", "01", None],
        ["9", nfd("Phường Chín (mã khác)"), "commune", "003", None],     # '9' is not '00009'
    ], bom=True)
    report = run(world, "units", units)
    assert report.ok, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (3, 0)
    names = figures.units()["name"]
    assert names["00009"] == "Xã Chín Đông" and unicodedata.is_normalized("NFC", names["00009"])
    assert names["9"] == "Phường Chín (mã khác)"
    assert figures.ancestors("00009") == [("00009", "commune"), ("003", "district"), ("01", "province")]

    facilities = write_csv(tmp_path / "facilities.csv", ["code", "name", "type", "unit_code", "lat", "lon"], [
        ["TYT9", nfd("Trạm Y tế Chín"), "station", "00009", "20.81", "106.72"],
        ["TYT4", "Trạm Y tế Bốn (đổi tên)", "station", "00004", None, None],
    ])
    report = run(world, "facilities", facilities)
    assert report.ok, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (1, 1)
    assert figures.facilities().loc["TYT9", "name"] == "Trạm Y tế Chín"
    assert figures.ancestors("TYT9")[-1] == ("01", "province")
    # The new station reports at once, and rolls up to its new zone.
    values = write_csv(tmp_path / "v.csv", VALUE_HEADER, [["flowind", "TYT9", "2025-09", 3, 6]])
    assert run(world, "values", values).ok
    zone = figures.figures("flowind", "2025-09", "district").set_index("code")
    assert zone.loc["003", "numerator"] == 3 and zone.loc["003", "reported"] == 1


def test_units_in_two_files_load_together_parents_from_the_other_file(world, tmp_path):
    children = write_csv(tmp_path / "a.csv", ["code", "name", "level", "parent_code"],
                         [["00010", "Xã Mười", "commune", "004"]])
    parents = write_csv(tmp_path / "b.csv", ["code", "name", "level", "parent_code"],
                        [["004", "Khu vực Bốn", "district", "01"]])
    report = run(world, "units", children, parents)
    assert report.ok, [i.message() for i in report.errors]
    assert [(f.name, f.added) for f in report.files] == [("a.csv", 1), ("b.csv", 1)]
    with world.connect() as conn:
        files = conn.execute(text("SELECT source_file FROM data_loads WHERE kind = 'units'")).scalars().all()
    assert sorted(p.rsplit("/", 1)[-1] for p in files) == ["a.csv", "b.csv"]


def test_indicators_new_with_scopes_default_scope_and_builtin_fields_kept(world, tmp_path):
    path = write_csv(tmp_path / "ind.csv",
                     ["code", "name_vi", "name_en", "time", "higher_is_better", "decimals", "reported_by",
                      "numerator_vi", "denominator_vi"], [
        ["tiem_chung", "Tỷ lệ tiêm chủng đầy đủ", "Full immunisation", "stock", "có", "2", "commune",
         "Số trẻ tiêm đủ", "Số trẻ"],
        ["kham_tu_xa", "Khám từ xa", "Telehealth visits", "flow", "false", None, "facility:hospital;facility:station",
         None, None],
        ["moi", "Chỉ tiêu mới", "New indicator", "flow", "1", None, None, None, None],
        ["stockind", "Chỉ tiêu tồn (tên mới)", "Stock indicator (renamed)", "stock", "true", None, None, None, None],
    ])
    report = run(world, "indicators", path)
    assert report.ok, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (3, 1)
    assert [(w.line, w.key) for w in report.warnings] == [(4, "imp_default_scope")]
    table = figures.indicators()
    assert table.loc["tiem_chung", "reported_by"] == ("commune",)
    assert int(table.loc["tiem_chung", "decimals"]) == 2
    assert set(table.loc["kham_tu_xa", "reported_by"]) == {"facility:hospital", "facility:station"}
    assert not bool(table.loc["kham_tu_xa", "higher_is_better"])
    assert table.loc["moi", "reported_by"] == importer.DEFAULT_SCOPE
    # Re-importing an existing indicator changes what the file says and keeps the rest.
    assert table.loc["stockind", "name_vi"] == "Chỉ tiêu tồn (tên mới)"
    assert table.loc["stockind", "gap_vi"] == "còn {gap} người" and table.loc["stockind", "unit_vi"] == "người"
    assert table.loc["stockind", "reported_by"] == ("commune",)
    # The new indicator takes values from communes right away.
    values = write_csv(tmp_path / "v.csv", VALUE_HEADER, [["tiem_chung", "00004", "2025-09", 90, 100],
                                                          ["tiem_chung", "00005", "2025-09", 45, 50]])
    assert run(world, "values", values).ok
    zone = figures.figures("tiem_chung", "2025-09", "district").set_index("code")
    assert zone.loc["001", "value"] == pytest.approx(100 * 135 / 150)


def test_targets_import_and_the_figures_use_them(world, tmp_path):
    path = write_csv(tmp_path / "targets.csv", ["indicator", "unit_code", "value", "deadline", "source"], [
        ["stockind", "001", "60", "2025-12", "KH 12/KH-SYT"],
        ["stockind", "01", "85", "2025-12", "KH thử 1 (sửa)"],  # replaces the world's 80
    ])
    report = run(world, "targets", path)
    assert report.ok, [i.message() for i in report.errors]
    assert (report.added, report.replaced) == (1, 1)
    zones = figures.figures("stockind", "2025-09", "district").set_index("code")
    assert zones.loc["001", "target"] == 60          # its own
    assert zones.loc["002", "target"] == 95          # the world's own zone target stays
    communes = figures.figures("stockind", "2025-09", "commune").set_index("code")
    assert communes.loc["00005", "target"] == 60     # inherited from zone 001


def test_dry_run_checks_and_counts_but_writes_nothing(world, tmp_path):
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, NEW_VALUES)
    before = table_checksums(world)
    report = run(world, "values", path, dry_run=True)
    assert report.ok and not report.written
    assert (report.added, report.replaced) == (2, 2)
    assert table_checksums(world) == before


def test_a_bad_second_file_stops_the_good_first_one(world, tmp_path):
    good = write_csv(tmp_path / "good.csv", VALUE_HEADER, NEW_VALUES)
    bad = write_csv(tmp_path / "bad.csv", VALUE_HEADER, [["stockind", "00006", "2025-09", "x", 100]])
    before = table_checksums(world)
    report = run(world, "values", good, bad)
    assert table_checksums(world) == before
    assert [(i.file, i.line, i.column) for i in report.errors] == [("bad.csv", 2, "numerator")]


def test_same_key_in_two_files_is_refused(world, tmp_path):
    a = write_csv(tmp_path / "a.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 1, 2]])
    b = write_csv(tmp_path / "b.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 1, 3]])
    before = table_checksums(world)
    report = run(world, "values", a, b)
    assert table_checksums(world) == before
    (issue,) = report.errors
    assert (issue.file, issue.line, issue.key) == ("b.csv", 2, "imp_duplicate_file")
    assert "a.csv" in issue.message()


def test_a_failure_while_writing_rolls_everything_back(world, tmp_path, monkeypatch):
    """Atomicity does not rest on the checks alone: a database error half-way through the
    write leaves nothing behind, including the audit row."""
    from sqlalchemy.exc import IntegrityError

    def broken_finish(conn, load_id, added, replaced):
        raise IntegrityError("UPDATE data_loads", {}, Exception("simulated failure"))

    monkeypatch.setattr(store, "finish_load", broken_finish)
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, NEW_VALUES)
    before = table_checksums(world)
    report = run(world, "values", path)
    assert not report.ok and not report.written
    assert report.errors[0].key == "imp_db_error" and "simulated failure" in report.errors[0].message()
    assert table_checksums(world) == before


def test_every_error_is_counted_beyond_what_is_printed(world, tmp_path):
    rows = [["stockind", "00004", f"2025-{m:02d}", "abc", 100] for m in range(1, 13)]
    rows += [["nope", "00004", f"2024-{m:02d}", 1, 2] for m in range(1, 13)] * 5
    rows += [["stockind", "00005", f"2024-{m:02d}", 1, 2] for m in range(1, 13)] * 3  # each twice again
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, rows)
    report = run(world, "values", path)
    assert len([i for i in report.errors if i.key == "imp_not_number"]) == 12
    assert len([i for i in report.errors if i.key == "imp_unknown_indicator"]) == 60
    assert len([i for i in report.errors if i.key == "imp_duplicate"]) == 24
    assert len(report.errors) == 96


def test_a_thousands_separator_is_never_guessed(world, tmp_path):
    """'46.650' is forty-six thousand six hundred and fifty to a Vietnamese officer and
    46.65 to a program: refused with both readings spelled out, unless the file's convention
    is stated."""
    rows = [["stockind", "00004", "2025-09", "46.650", "50000"],
            ["stockind", "00005", "2025-09", "1 000", "2000"],
            ["stockind", "00006", "2025-09", "46,650", "50000"]]
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, rows)
    before = table_checksums(world)
    report = run(world, "values", path)
    assert table_checksums(world) == before
    by_line = {i.line: i for i in report.errors}
    assert [(i.line, i.column, i.key) for i in report.errors] == [
        (2, "numerator", "imp_number_ambiguous"), (3, "numerator", "imp_number_grouped"),
        (4, "numerator", "imp_number_ambiguous")]
    assert "ghi 46650" in by_line[2].message() and "write 46650" in by_line[2].message()
    assert "46.65" in by_line[2].message() and "--number-format vi" in by_line[2].message()
    assert "write 1000" in by_line[3].message()


def test_the_vietnamese_number_convention_when_stated(world, tmp_path):
    rows = [["stockind", "00004", "2025-09", "46.650", "50.000"],
            ["stockind", "00005", "2025-09", "1.000", "2.000"]]
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, rows)
    report = run(world, "values", path, number_format="vi")
    assert report.ok, [i.message() for i in report.errors]
    stored = kpi_rows(world).set_index(["indicator_code", "entity_code", "period"])
    assert stored.loc[("stockind", "00004", "2025-09"), "numerator"] == 46650
    assert stored.loc[("stockind", "00005", "2025-09"), "denominator"] == 2000
    # A dot decimal in a file said to group thousands with dots is refused, with the fix.
    bad = write_csv(tmp_path / "b.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", "85.3", "100"]])
    (issue,) = run(world, "values", bad, number_format="vi").errors
    assert (issue.column, issue.key) == ("numerator", "imp_number_vi_dot") and "85,3" in issue.message()


# --- every validation case leaves the database unchanged -----------------------------------

V = VALUE_HEADER
U = ["code", "name", "level", "parent_code"]
F = ["code", "name", "type", "unit_code"]
T = ["indicator", "unit_code", "value", "deadline"]
I = ["code", "name_vi", "name_en", "time", "higher_is_better"]
OK_ROW = ["stockind", "00004", "2025-09", 1, 2]

# id: (kind, header, rows, [(line, column, key), ...] that must all be reported)
CASES = {
    "unknown_indicator": ("values", V, [OK_ROW, ["stockind_x", "00004", "2025-09", 1, 2]],
                          [(3, "indicator", "imp_unknown_indicator")]),
    "unknown_unit": ("values", V, [["stockind", "00099", "2025-09", 1, 2]], [(2, "unit_code", "imp_unknown_entity")]),
    "unknown_facility": ("values", V, [["flowind", "BV9", "2025-09", 1, 2]], [(2, "unit_code", "imp_unknown_entity")]),
    "leading_zeros_dropped": ("values", V, [["stockind", "4", "2025-09", 1, 2]],
                              [(2, "unit_code", "imp_unknown_entity")]),
    "bad_period_month_13": ("values", V, [["stockind", "00004", "2025-13", 1, 2]], [(2, "period", "imp_bad_period")]),
    "bad_period_slash": ("values", V, [["stockind", "00004", "07/2025", 1, 2]], [(2, "period", "imp_bad_period")]),
    "bad_period_quarter": ("values", V, [["stockind", "00004", "2025-Q3", 1, 2]], [(2, "period", "imp_bad_period")]),
    "missing_period": ("values", V, [["stockind", "00004", None, 1, 2]], [(2, "period", "imp_missing_value")]),
    "future_period": ("values", V, [["stockind", "00004", "2099-01", 1, 2]], [(2, "period", "imp_future_period")]),
    "not_a_number": ("values", V, [["stockind", "00004", "2025-09", "mười", 20]], [(2, "numerator", "imp_not_number")]),
    "decimal_comma": ("values", V, [["stockind", "00004", "2025-09", "1,5", 20]],
                      [(2, "numerator", "imp_decimal_comma")]),
    "grouped_thousands": ("values", V, [["stockind", "00004", "2025-09", 1, "1.234.567"]],
                          [(2, "denominator", "imp_number_grouped")]),
    "missing_number": ("values", V, [["stockind", "00004", "2025-09", 1, None]],
                       [(2, "denominator", "imp_missing_number")]),
    "negative": ("values", V, [["stockind", "00004", "2025-09", -1, 20]], [(2, "numerator", "imp_negative")]),
    "infinite": ("values", V, [["stockind", "00004", "2025-09", 1, "1e999"]], [(2, "denominator", "imp_not_number")]),
    "numerator_over_denominator": ("values", V, [["stockind", "00004", "2025-09", 21, 20]],
                                   [(2, "numerator", "imp_num_gt_den")]),
    "duplicate_key": ("values", V, [OK_ROW, ["stockind", "00005", "2025-09", 1, 2], OK_ROW],
                      [(4, "unit_code", "imp_duplicate")]),
    "missing_header": ("values", ["indicator", "unit_code", "period", "numerator"], [OK_ROW[:4]],
                       [(1, None, "imp_header_missing")]),
    "unknown_header": ("values", V + ["ghi_chu"], [OK_ROW + ["x"]], [(1, None, "imp_header_unknown")]),
    "duplicate_header": ("values", V + ["period"], [OK_ROW + ["2025-09"]], [(1, "period", "imp_header_duplicate")]),
    "extra_cells": ("values", V, [OK_ROW + ["thừa"]], [(2, None, "imp_extra_cells")]),
    "not_reported_by_this_kind": ("values", V, [["stockind", "BV1", "2025-09", 1, 2]],
                                  [(2, "unit_code", "imp_not_expected")]),
    "unit_no_longer_valid": ("values", V, [["stockind", "00007", "2025-09", 1, 2]],
                             [(2, "period", "imp_not_valid")]),
    "unit_unknown_parent": ("units", U, [["00009", "Xã Chín", "commune", "009"]],
                            [(2, "parent_code", "imp_unknown_unit")]),
    "unit_cycle_in_file": ("units", U, [["003", "Khu vực Ba", "district", "004"],
                                        ["004", "Khu vực Bốn", "district", "003"]],
                           [(2, "parent_code", "imp_cycle")]),
    "unit_cycle_through_database": ("units", U, [["001", "Khu vực Một", "district", "00004"]],
                                    [(2, "parent_code", "imp_cycle"), (2, "parent_code", "imp_parent_level")]),
    "unit_without_parent": ("units", U, [["00009", "Xã Chín", "commune", None]],
                            [(2, "parent_code", "imp_parent_required")]),
    "unit_bad_level": ("units", U, [["00009", "Xã Chín", "xã", "001"]], [(2, "level", "imp_bad_choice")]),
    "unit_demoted_below_children": ("units", U, [["001", "Khu vực Một", "commune", "01"]],
                                    [(2, "level", "imp_child_level")]),
    "unit_code_is_a_facility": ("units", U, [["BV1", "Trùng", "commune", "001"]],
                                [(2, "code", "imp_code_is_facility")]),
    # One code twice over overlapping periods (here: both always valid).
    "unit_duplicate_code": ("units", U, [["00009", "A", "commune", "001"], ["00009", "B", "commune", "001"]],
                            [(3, "code", "imp_unit_overlap")]),
    "unit_bad_date": ("units", U + ["valid_from"], [["00009", "Xã Chín", "commune", "001", "1/7/2025"]],
                      [(2, "valid_from", "imp_bad_date")]),
    "facility_unknown_unit": ("facilities", F, [["TYT9", "Trạm Chín", "station", "00099"]],
                              [(2, "unit_code", "imp_unknown_unit")]),
    "facility_bad_type": ("facilities", F, [["TYT9", "Trạm Chín", "tram", "00004"]], [(2, "type", "imp_bad_choice")]),
    "facility_bad_latitude": ("facilities", F + ["lat"], [["TYT9", "Trạm Chín", "station", "00004", "120"]],
                              [(2, "lat", "imp_range")]),
    "target_unknown_indicator": ("targets", T, [["khong_co", "01", 90, "2025-12"]],
                                 [(2, "indicator", "imp_unknown_indicator")]),
    "target_unknown_unit": ("targets", T, [["stockind", "0001", 90, "2025-12"]],
                            [(2, "unit_code", "imp_unknown_entity")]),
    "target_over_100_percent": ("targets", T, [["stockind", "01", 120, "2025-12"]],
                                [(2, "value", "imp_percent_range")]),
    "target_bad_deadline": ("targets", T, [["stockind", "01", 90, "12/2025"]], [(2, "deadline", "imp_bad_month")]),
    "indicator_bad_time": ("indicators", I, [["moi", "Mới", "New", "monthly", "true"]], [(2, "time", "imp_bad_choice")]),
    "indicator_bad_bool": ("indicators", I, [["moi", "Mới", "New", "flow", "tốt"]],
                           [(2, "higher_is_better", "imp_bad_bool")]),
    "indicator_bad_code": ("indicators", I, [["mới tinh", "Mới", "New", "flow", "true"]],
                           [(2, "code", "imp_bad_code")]),
    "indicator_bad_kind": ("indicators", I + ["reported_by"], [["moi", "Mới", "New", "flow", "true", "xã"]],
                           [(2, "reported_by", "imp_bad_kind")]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_file_changes_nothing_and_says_where(world, tmp_path, case):
    kind, header, rows, expected = CASES[case]
    path = write_csv(tmp_path / f"{case}.csv", header, rows)
    before = table_checksums(world)
    report = run(world, kind, path)
    assert table_checksums(world) == before
    assert not report.ok and not report.written
    found = {(i.line, i.column, i.key) for i in report.errors}
    for want in expected:
        assert want in found, [i.message() for i in report.errors]
    for issue in report.errors:
        message = issue.message()
        assert message.startswith(f"{case}.csv") and " / " in message
        if issue.line is not None:
            assert f"dòng/line {issue.line}" in message
        if issue.column is not None:
            assert f"cột/column {issue.column}" in message
    # The same check without loading says the same.
    dry = run(world, kind, path, dry_run=True)
    assert [i.message() for i in dry.errors] == [i.message() for i in report.errors]


def test_leading_zero_hint_and_unknown_indicator_lists_known(world, tmp_path):
    path = write_csv(tmp_path / "v.csv", V, [["stockind", "4", "2025-09", 1, 2], ["stokind", "00004", "2025-09", 1, 2]])
    report = run(world, "values", path)
    by_line = {i.line: i.message() for i in report.errors}
    assert "có phải 00004?" in by_line[2] and "did you mean 00004?" in by_line[2]
    assert "flowind, stockind" in by_line[3]


@pytest.mark.parametrize("encoding, named", [("cp1258", "1258"), ("utf-16", "UTF-16"), ("utf-16-le", "UTF-16")])
def test_file_not_in_utf8_is_refused_naming_the_likely_encoding(world, tmp_path, encoding, named):
    path = write_csv(tmp_path / "units.csv", U, [["00009", "Xã Chín Đông Phường", "commune", "001"],
                                                 ["00010", "Phường Mười Hải Dương", "commune", "001"]],
                     encoding=encoding)
    before = table_checksums(world)
    report = run(world, "units", path)
    assert table_checksums(world) == before
    (issue,) = report.errors
    assert issue.key == "imp_not_utf8" and issue.file == "units.csv"
    assert named in issue.message() and "UTF-8" in issue.message()
    if encoding == "cp1258":
        assert issue.line == 2  # the first line with a byte that is not UTF-8


def test_cp1252_mojibake_source_is_refused(world, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes("code,name,level,parent_code\n00009,Caf\u00e9 Ch\u00edn,commune,001\n".encode("cp1252"))
    report = run(world, "units", path)
    (issue,) = report.errors
    assert issue.key == "imp_not_utf8" and issue.line == 2


@pytest.mark.parametrize("content, key", [(b"", "imp_empty_file"), (b"\xef\xbb\xbf \r\n\n", "imp_empty_file"),
                                          ("indicator,unit_code,period,numerator,denominator\n".encode(),
                                           "imp_no_rows")])
def test_empty_files_are_refused(world, tmp_path, content, key):
    path = tmp_path / "values.csv"
    path.write_bytes(content)
    before = table_checksums(world)
    report = run(world, "values", path)
    assert table_checksums(world) == before
    assert [(i.file, i.key) for i in report.errors] == [("values.csv", key)]


def test_empty_workbook_missing_sheet_missing_file_and_old_excel(world, tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "empty.xlsx")
    write_xlsx(tmp_path / "v.xlsx", V, [OK_ROW])
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    before = table_checksums(world)
    cases = [("empty.xlsx", {}, "imp_empty_file"), ("v.xlsx", {"sheet": "Sheet9"}, "imp_no_sheet"),
             ("missing.csv", {}, "imp_file_not_found"), ("old.xls", {}, "imp_xls_old"),
             ("broken.xlsx", {}, "imp_xlsx_unreadable")]
    for name, kwargs, key in cases:
        report = run(world, "values", tmp_path / name, **kwargs)
        assert [i.key for i in report.errors] == [key], name
    assert table_checksums(world) == before


def test_semicolon_csv_from_a_vietnamese_excel_is_read(world, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("indicator;unit_code;period;numerator;denominator\nstockind;00004;2025-09;75;100\n",
                    encoding="utf-8-sig")
    report = run(world, "values", path)
    assert report.ok and report.replaced == 1


# --- the command line ----------------------------------------------------------------------

@pytest.fixture
def cli_db(tmp_path):
    """A SQLite file holding the world, for the command line (its URL carries everything)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(engine)
    load_world(engine)
    engine.dispose()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    yield url
    from dashboard import cache
    from dashboard.database import engine_for

    engine_for(url).dispose()
    figures.set_engine(None)
    cache.clear()


def cli(url, *args):
    return CliRunner().invoke(main, ["--database", url, *map(str, args)], catch_exceptions=False)


def test_cli_import_prints_counts_then_loads_lists_the_audit(cli_db, tmp_path):
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, NEW_VALUES)
    result = cli(cli_db, "import", "values", path, "--user", "tran.thi.b")
    assert result.exit_code == 0, result.output
    assert "thêm 2, thay 2" in result.stdout and "2 rows added, 2 replaced" in result.stdout
    result = cli(cli_db, "import", "values", path, "--user", "tran.thi.b")
    assert "thêm 0, thay 4" in result.stdout
    listing = cli(cli_db, "loads")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert "tran.thi.b" in lines[1] and str(path.resolve()) in lines[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert digest in lines[1] and digest in lines[2]


def test_cli_errors_exit_non_zero_capped_with_total(cli_db, tmp_path):
    rows = [["stockind", "00004", f"20{y:02d}-{m:02d}", "x", 1] for y in range(10, 15) for m in range(1, 13)]
    path = write_csv(tmp_path / "bad.csv", VALUE_HEADER, rows)
    engine = make_engine(cli_db)
    before = table_checksums(engine)
    result = cli(cli_db, "import", "values", path, "--max-errors", "5")
    assert result.exit_code == 1
    assert table_checksums(engine) == before
    engine.dispose()
    printed = [line for line in result.stderr.splitlines() if line.startswith("Lỗi / Error: bad.csv")]
    assert len(printed) == 5
    assert "... và 55 lỗi khác / ... and 55 more error(s)" in result.stderr
    assert "60 lỗi; không có gì được ghi" in result.stderr
    assert "Traceback" not in result.output


def test_cli_dry_run_and_progress_for_long_files(cli_db, tmp_path):
    rows = [["stockind", commune, f"{1950 + i // 12:04d}-{i % 12 + 1:02d}", 1, 2]
            for commune in ("00004", "00005", "00006") for i in range(800)]
    path = write_csv(tmp_path / "long.csv", VALUE_HEADER, rows)
    engine = make_engine(cli_db)
    before = table_checksums(engine)
    result = cli(cli_db, "import", "values", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert table_checksums(engine) == before
    assert "sẽ thêm 2400, thay 0" in result.stdout
    assert "Kiểm tra / Checking: long.csv" in result.stderr
    result = cli(cli_db, "import", "values", path)
    assert "Ghi / Writing" in result.stderr and result.exit_code == 0
    engine.dispose()


def test_cli_refuses_a_database_without_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'blank.db'}"
    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, [OK_ROW])
    result = cli(url, "import", "values", path)
    assert result.exit_code != 0 and "dashboard db upgrade" in result.output
    figures.set_engine(None)


@pytest.mark.parametrize("command", [[], ["import"], ["export"], ["export", "values"], ["loads"]])
def test_every_command_has_bilingual_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert " / " in result.output
    assert any(word in result.output for word in ("số liệu", "Xuất", "Nhật ký", "Nạp", "Quản trị"))


def test_python_dash_m_dashboard_runs():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "dashboard", "import", "--help"], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).parent.parent), timeout=120)
    assert out.returncode == 0 and "units" in out.stdout and "values" in out.stdout


def test_xlsx_unit_codes_typed_as_numbers_are_read_as_excel_shows_them(world, tmp_path):
    path = write_xlsx(tmp_path / "units.xlsx", U, [
        [9, "Xã Chín", "commune", "001"],        # General: Excel shows 9, stored '9', with a warning
        [10, "Xã Mười", "commune", "001"],       # '00000' format: Excel shows 00010
        ["00011", "Xã Mười Một", "commune", 1],  # parent '001' typed as a number, formatted '000'
    ], sheet="units", formats={"code": "General", "parent_code": "000"})
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["units"]["A3"].number_format = "00000"
    book.save(path)
    report = run(world, "units", path)
    assert report.ok, [i.message() for i in report.errors]
    assert [(w.line, w.column, w.cell, w.key) for w in report.warnings] == [(2, "code", "A2", "imp_code_number")]
    assert {"9", "00010", "00011"} <= set(figures.units().index)
    assert figures.units().loc["00011", "parent_code"] == "001"


def test_loads_table_reads_the_audit_of_either_database(world, tmp_path):
    from dashboard.cli.data import loads_table

    path = write_csv(tmp_path / "v.csv", VALUE_HEADER, NEW_VALUES)
    run(world, "values", path, user="le.van.c")
    table = loads_table(figures.data_loads.uncached())
    newest = table.iloc[0]
    assert newest["người/user"] == "le.van.c" and newest["loại/kind"] == "values"
    assert (newest["thêm/added"], newest["thay/replaced"]) == (2, 2)
    assert newest["mã kiểm tra/checksum"] == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    stamp = datetime.strptime(newest["thời điểm/time (UTC)"], "%Y-%m-%d %H:%M:%S")
    assert abs((datetime.utcnow() - stamp).total_seconds()) < 3600
