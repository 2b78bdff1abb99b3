"""Hostile and careless input files: each is refused with file, row and column (and the Excel
cell), or loaded exactly; a refusal changes no table. Both databases."""
from __future__ import annotations

import re
import zipfile

import pytest

from dashboard import figures, importer
from tests.data_files import (VALUE_HEADER, every_table_checksum, kpi_rows, rewrite_xlsx_part, write_csv,
                              write_xlsx)
from tests.world import load_world

U = ["code", "name", "level", "parent_code"]
V = VALUE_HEADER
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def run(engine, kind, *paths, **kwargs) -> importer.ImportReport:
    return importer.import_files(engine, kind, list(paths), user="tester", **kwargs)


def refused(engine, kind, path, **kwargs) -> list[importer.Issue]:
    """Import `path`, check that nothing changed and that no message is a traceback."""
    before = every_table_checksum(engine)
    report = run(engine, kind, path, **kwargs)
    assert not report.ok and not report.written
    assert every_table_checksum(engine) == before
    for issue in report.errors:
        message = issue.message()
        assert message.startswith(path.name) and " / " in message and "Traceback" not in message
    return report.errors


def where(issues) -> set[tuple]:
    return {(i.line, i.column, i.key) for i in issues}


# --- workbooks --------------------------------------------------------------------------

def test_a_workbook_whose_dimension_lies_is_read_to_its_last_row(world, tmp_path):
    rows = [["stockind", "00004", f"20{20 + m // 12:02d}-{m % 12 + 1:02d}", m, 100] for m in range(20)]
    path = write_xlsx(tmp_path / "v.xlsx", V, rows)
    rewrite_xlsx_part(path, SHEET, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:E5"', xml))
    assert b'<dimension ref="A1:E5"' in zipfile.ZipFile(path).read(SHEET)
    report = run(world, "values", path)
    assert report.ok, [i.message() for i in report.errors]
    assert report.added == 20
    stored = kpi_rows(world)
    assert len(stored[(stored.entity_code == "00004") & (stored.period < "2022-09")]) == 20


@pytest.mark.parametrize("case", ["corrupt_xml", "truncated_zip", "no_worksheet", "doctype_entity", "zip_bomb",
                                  "not_a_zip"])
def test_a_malformed_workbook_is_refused_naming_the_file(world, tmp_path, case):
    path = write_xlsx(tmp_path / f"{case}.xlsx", V, [["stockind", "00004", "2025-09", 1, 2]] * 3)
    expected = "imp_xlsx_unreadable"
    if case == "corrupt_xml":      # rows parse lazily: the error surfaces while reading rows
        rewrite_xlsx_part(path, SHEET, lambda xml: xml.replace(b"</row><row", b"</row><row <<", 1))
    elif case == "truncated_zip":
        path.write_bytes(path.read_bytes()[:-200])
    elif case == "no_worksheet":
        rewrite_xlsx_part(path, "xl/workbook.xml",
                          lambda xml: xml[:xml.index(b"<sheets>")] + b"<sheets></sheets>"
                          + xml[xml.index(b"</sheets>") + len(b"</sheets>"):])
        expected = "imp_xlsx_no_worksheet"
    elif case == "doctype_entity":  # billion laughs, shortened
        rewrite_xlsx_part(path, SHEET, lambda xml: b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
                          b'<!ENTITY b "&a;&a;&a;&a;&a;">]>' + xml.replace(b"<t>00004</t>", b"<t>&b;</t>", 1))
        expected = "imp_xlsx_doctype"
    elif case == "zip_bomb":       # 40 MB of blanks inside the sheet, compressed to almost nothing
        rewrite_xlsx_part(path, SHEET, lambda xml: xml.replace(b"</worksheet>", b" " * (40 << 20) + b"</worksheet>"))
        expected = "imp_xlsx_bomb"
    else:
        path.write_bytes(b"PK\x03\x04 this is not a workbook")
    (issue,) = refused(world, "values", path)
    assert issue.key == expected and issue.file.startswith(path.name)
    assert "Excel" in issue.reason("vi")


def test_an_excel_error_cell_is_refused_with_its_cell(world, tmp_path):
    path = write_xlsx(tmp_path / "u.xlsx", U, [["00009", "#N/A", "commune", "001"]], sheet="units")
    (issue,) = refused(world, "units", path)
    assert (issue.line, issue.column, issue.cell, issue.key) == (2, "name", "B2", "imp_excel_error")


def test_control_characters_in_a_workbook_cell_are_refused(world, tmp_path):
    path = write_xlsx(tmp_path / "u.xlsx", U, [["00009", "Xã\tChín", "commune", "001"],
                                               ["00010", "Xã Mười", "commune", "001"]], sheet="units")
    (issue,) = refused(world, "units", path)
    assert (issue.line, issue.column, issue.cell, issue.key) == (2, "name", "B2", "imp_control_char")
    assert "U+0009" in issue.message()


# --- text -------------------------------------------------------------------------------

def test_a_nul_byte_far_into_a_csv_is_refused_with_row_and_column(world, tmp_path):
    rows = [[f"{9000 + i:05d}", f"Xã thử nghiệm số {i}", "commune", "001"] for i in range(300)]
    rows[250][1] = "Xã có\x00ký tự NUL"
    path = write_csv(tmp_path / "units.csv", U, rows)
    assert path.read_bytes().index(b"\x00") > 4096
    issues = refused(world, "units", path)
    assert where(issues) == {(252, "name", "imp_control_char")}
    assert "U+0000" in issues[0].message()


@pytest.mark.parametrize("name, key", [
    ('=HYPERLINK("http://x","Bấm vào đây")', "imp_formula"),
    ("+cmd|'/C calc'!A0", "imp_formula"),
    ("@SUM(1+1)", "imp_formula"),
    ("-2+3", "imp_formula"),
    ("\t=1+1", "imp_control_char"),
    ("\rXã", "imp_control_char"),
    ("Xã\u202eNăm", "imp_control_char"),   # a right-to-left override: shows another name than is stored
    ("Xã\x1bNăm", "imp_control_char"),
])
def test_text_a_spreadsheet_would_run_as_a_formula_or_that_hides_a_control_is_refused(world, tmp_path, name, key):
    path = write_csv(tmp_path / "units.csv", U, [["00009", "Xã Chín", "commune", "001"], ["00010", name, "commune", "001"]])
    assert where(refused(world, "units", path)) == {(3, "name", key)}


def test_a_code_is_never_a_formula_either(world, tmp_path):
    path = write_csv(tmp_path / "f.csv", ["code", "name", "type", "unit_code"],
                     [["=1+1", "Trạm", "station", "00004"], ["TYT9", "Trạm", "station", "-4"]])
    assert where(refused(world, "facilities", path)) == {(2, "code", "imp_formula"), (3, "unit_code", "imp_formula")}


# --- digits and numbers -----------------------------------------------------------------

@pytest.mark.parametrize("column, cell", [
    ("period", "２０２５-０９"),     # full-width: looks like a month, breaks every comparison
    ("numerator", "１２"),
    ("denominator", "١٠٠"),         # Arabic-Indic
    ("unit_code", "００００４"),
])
def test_digits_are_ascii_only(world, tmp_path, column, cell):
    row = dict(zip(V, ["stockind", "00004", "2025-09", 12, 100]))
    row[column] = cell
    path = write_csv(tmp_path / "v.csv", V, [list(row.values())])
    assert where(refused(world, "values", path)) == {(2, column, "imp_non_ascii_digit")}


def test_a_full_width_date_and_deadline_are_refused(world, tmp_path):
    units = write_csv(tmp_path / "u.csv", U + ["valid_from"], [["00009", "Xã Chín", "commune", "001", "２０２５-０７-０１"]])
    assert where(refused(world, "units", units)) == {(2, "valid_from", "imp_non_ascii_digit")}
    targets = write_csv(tmp_path / "t.csv", ["indicator", "unit_code", "value", "deadline"],
                        [["stockind", "01", 90, "２０２６-０９"]])
    assert where(refused(world, "targets", targets)) == {(2, "deadline", "imp_non_ascii_digit")}


@pytest.mark.parametrize("cell, key, fix", [
    ("46.650", "imp_number_ambiguous", "46650"),
    ("46,650", "imp_number_ambiguous", "46650"),
    ("1 000", "imp_number_grouped", "1000"),
    ("1\u00a0000", "imp_number_grouped", "1000"),
    ("1.234.567", "imp_number_grouped", "1234567"),
    ("1,234,567", "imp_number_grouped", "1234567"),
    ("1,234.5", "imp_number_grouped", "1234.5"),
    ("85,3", "imp_decimal_comma", "85.3"),
    ("1.234,5", "imp_decimal_comma", "1234.5"),
])
def test_grouped_numbers_are_refused_with_the_fix(world, tmp_path, cell, key, fix):
    path = write_csv(tmp_path / "v.csv", V, [["flowind", "BV1", "2025-09", 1, cell]])
    (issue,) = refused(world, "values", path)
    assert (issue.line, issue.column, issue.key) == (2, "denominator", key)
    assert f"ghi {fix}" in issue.reason("vi") and f"write {fix}" in issue.reason("en")


def test_with_the_vietnamese_convention_grouped_numbers_load_exactly(world, tmp_path):
    path = write_csv(tmp_path / "v.csv", V, [["flowind", "BV1", "2025-09", "1.234,5", "1.234.567"],
                                             ["stockind", "00004", "2025-09", "46.650", "50.000"]])
    report = run(world, "values", path, number_format="vi")
    assert report.ok, [i.message() for i in report.errors]
    stored = kpi_rows(world).set_index(["indicator_code", "entity_code", "period"])
    assert tuple(stored.loc[("flowind", "BV1", "2025-09")]) == (1234.5, 1234567)
    assert tuple(stored.loc[("stockind", "00004", "2025-09")]) == (46650, 50000)


def test_a_count_holding_a_fraction_is_refused_but_money_may_have_decimals(world, tmp_path):
    path = write_csv(tmp_path / "v.csv", V, [["stockind", "00004", "2025-09", "45.5", 100],
                                             ["stockind", "00005", "2025-09", 45, "100.25"]])
    assert where(refused(world, "values", path)) == {(2, "numerator", "imp_count_fraction"),
                                                     (3, "denominator", "imp_count_fraction")}
    # flowind is counted in đồng (unit_vi): an amount with decimals is an amount.
    money = write_csv(tmp_path / "m.csv", V, [["flowind", "BV1", "2025-09", "55.25", 100]])
    assert run(world, "values", money).ok
    xlsx = write_xlsx(tmp_path / "v.xlsx", V, [["stockind", "00004", "2025-09", 45.5, 100]])
    (issue,) = refused(world, "values", xlsx)
    assert (issue.cell, issue.key) == ("D2", "imp_count_fraction")


def test_what_a_clean_file_says_is_what_is_stored(world, tmp_path):
    """The same rows through CSV and xlsx, numbers as text and as Excel numbers."""
    rows = [["stockind", "00004", "2024-01", "7", "10"], ["stockind", "00005", "2024-01", 0, 3],
            ["flowind", "TYT5", "2024-02", "0.125", "1e3"]]
    for path in (write_csv(tmp_path / "v.csv", V, rows), write_xlsx(tmp_path / "v.xlsx", V, rows)):
        report = run(world, "values", path)
        assert report.ok, [i.message() for i in report.errors]
        stored = kpi_rows(world).set_index(["indicator_code", "entity_code", "period"])
        assert tuple(stored.loc[("stockind", "00004", "2024-01")]) == (7, 10)
        assert tuple(stored.loc[("stockind", "00005", "2024-01")]) == (0, 3)
        assert tuple(stored.loc[("flowind", "TYT5", "2024-02")]) == (0.125, 1000)
    assert figures.figures("stockind", "2024-01", "commune").set_index("code").loc["00004", "value"] == 70
