"""Wide workbooks, the reports departments already keep: built here with openpyxl in the shapes
people make them (merged titles, I/1/1.1 numbering, subtotal formulas saved with their values,
numbers as text with Vietnamese dots, names with and without prefixes, one commune name in two
zones, a signature block). Each loads exactly the numbers a person reads in it, or is refused
with the cell named. Expected rows are written out by hand beside each workbook."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import text

from dashboard import importer, store
from dashboard.cli import main
from dashboard.database import table_checksums
from tests.data_files import save_like_excel
from tests.world import load_world

#: Two communes of the same name in the two zones of tests/world.py.
EXTRA_UNITS = pd.DataFrame([
    ("31402", "Xã An Lão", "commune", "001", None, None),
    ("31403", "Xã An Lão", "commune", "002", None, None),
], columns=["code", "name", "level", "parent_code", "valid_from", "valid_to"])


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    with store.write_transaction(use_engine) as conn:
        store.upsert_units(conn, EXTRA_UNITS)
        store.rebuild_hierarchy(conn)
    return use_engine


def run(engine, *paths, **kwargs) -> importer.ImportReport:
    return importer.import_files(engine, "values", list(paths), user="tester", **kwargs)


def stored(engine, indicator: str, months: list[str]) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT entity_code, period, numerator, denominator FROM kpi_values "
                                 "WHERE indicator_code = :i"), {"i": indicator}).all()
    return {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows if r[1] in months}


def messages(report) -> list[str]:
    return [i.message() for i in report.errors]


def merge(ws, ref: str, value) -> None:
    ws[ref.split(":")[0]] = value
    ws.merge_cells(ref)


# --- 1. a province report: zones and communes as rows, months as paired columns ---------------

#: What a person reads in the workbook below: (commune, month) -> (numerator, denominator).
MONTHLY = {
    ("00004", "2026-01"): (1050, 2000), ("00004", "2026-02"): (1100, 2000), ("00004", "2026-03"): (1180, 2000),
    ("00005", "2026-01"): (10, 200), ("00005", "2026-02"): (20, 200), ("00005", "2026-03"): (35, 200),
    ("31402", "2026-01"): (5, 50), ("31402", "2026-02"): (6, 50), ("31402", "2026-03"): (7, 50),
    ("00006", "2026-01"): (900, 1000), ("00006", "2026-02"): (910, 1000),
    # Xã Sáu has no March figure (blank cells: not reported, not zero).
    ("31403", "2026-01"): (1, 40), ("31403", "2026-02"): (2, 40), ("31403", "2026-03"): (3, 40),
    ("00008", "2026-01"): (12, 60), ("00008", "2026-02"): (13, 60), ("00008", "2026-03"): (14, 60),
}
MONTHS = ["2026-01", "2026-02", "2026-03"]
CODES = {"Phường Bốn": "00004", "Năm": "00005", "An Lão": "31402", "xã sáu": "00006", "Xã  An Lão": "31403",
         "Xã Tám": "00008"}


def vi(n: int) -> str:
    """A number typed as text with Vietnamese thousands dots."""
    return f"{n:,}".replace(",", ".")


def province_book(path, total_typo: bool = False, duplicate_unzoned: bool = False,
                  text_numbers: bool = False) -> Workbook:
    """Numbers as numbers with SUM formulas in the subtotal rows (saved with their values, as
    Excel does), or (``text_numbers``) typed as text with Vietnamese dots, totals typed too."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    merge(ws, "A1:H1", "SỞ Y TẾ TỈNH THỬ")
    merge(ws, "A2:H2", "BÁO CÁO CHỈ TIÊU TỒN QUÝ I NĂM 2026")
    merge(ws, "A3:H3", "(Kèm theo công văn số 123/SYT-KHTC)")
    merge(ws, "A5:A6", "STT")
    merge(ws, "B5:B6", "Tên đơn vị")
    for i, month in enumerate(("Tháng 1", "Tháng 2", "Tháng 3")):
        c = 3 + 2 * i
        ws.cell(5, c, month)
        ws.merge_cells(start_row=5, start_column=c, end_row=5, end_column=c + 1)
        ws.cell(6, c, "Tử số")
        ws.cell(6, c + 1, "Mẫu số")
    for c in range(1, 9):
        ws.cell(7, c, f"({c})")
    layout = [  # (numbering, name as written, code or None for a heading)
        ("I", "KHU VỰC MỘT", None), ("1", "Phường Bốn", "00004"), ("2", "Năm", "00005"),
        ("3", "An Lão", "31402"),
        ("II", "Khu vực Hai", None), ("1", "xã sáu", "00006"), ("2", "Xã  An Lão", "31403"), ("3", "Xã Tám", "00008"),
    ]
    if duplicate_unzoned:
        layout = [(n, name, code) for n, name, code in layout if code is not None]
    ws.cell(8, 2, "TỔNG CỘNG")
    line, zone_lines, communes = 9, [], {}
    for num, name, code in layout:
        ws.cell(line, 1, num)
        ws.cell(line, 2, name)
        if code is None:
            zone_lines.append(line)
        else:
            communes.setdefault(zone_lines[-1] if zone_lines else 0, []).append(line)
            for i, month in enumerate(MONTHS):
                figure = MONTHLY.get((code, month))
                if figure is not None:
                    ws.cell(line, 3 + 2 * i, vi(figure[0]) if text_numbers else figure[0])
                    ws.cell(line, 4 + 2 * i, vi(figure[1]) if text_numbers else figure[1])
        line += 1
    for c in range(3, 9):
        letter = get_column_letter(c)
        for z in zone_lines:
            rows = communes[z]
            ws.cell(z, c, f"=SUM({letter}{rows[0]}:{letter}{rows[-1]})")
        parts = zone_lines or communes[0]
        ws.cell(8, c, "=" + "+".join(f"{letter}{z}" for z in parts))
        if text_numbers:  # the person typed the totals: what Excel would have summed
            month, part = MONTHS[(c - 3) // 2], (c - 3) % 2
            for z, rows in communes.items():
                if z:
                    ws.cell(z, c, vi(sum(MONTHLY.get((ws.cell(r, 2).value and CODES[ws.cell(r, 2).value], month),
                                                     (0, 0))[part] for r in rows)))
            ws.cell(8, c, vi(sum(v[part] for (code, m), v in MONTHLY.items() if m == month)))
    if total_typo:
        ws["C8"] = 1990  # typed by hand, wrong: 1050 + 10 + 5 + 900 + 1 + 12 = 1978
    ws.cell(line + 1, 2, "Người lập biểu")
    ws.cell(line + 1, 6, "Thủ trưởng đơn vị")
    ws.cell(line + 2, 6, "(Ký, ghi rõ họ tên, đóng dấu)")
    ws.cell(line + 5, 2, "Nguyễn Văn A")
    ws.cell(line + 5, 6, "Trần Thị B")
    ws.cell(line + 6, 1, "Ghi chú: số liệu tính đến ngày 31/3/2026")
    save_like_excel(wb, path)
    return wb


@pytest.mark.parametrize("text_numbers", [False, True], ids=["formulas", "text-with-dots"])
def test_a_province_report_loads_exactly_the_numbers_a_person_reads(world, tmp_path, text_numbers):
    path = tmp_path / "bao_cao_quy_1.xlsx"
    province_book(path, text_numbers=text_numbers)

    report = run(world, path, number_format="vi")

    assert report.ok and report.written, messages(report)
    assert report.files[0].rows == len(MONTHLY)
    assert stored(world, "stockind", MONTHS) == {k: (float(n), float(d)) for k, (n, d) in MONTHLY.items()}
    with world.connect() as conn:
        audit = conn.execute(text("SELECT kind, rows_added, source_file FROM data_loads ORDER BY id DESC")).first()
    assert audit[0] == "values" and audit[1] == len(MONTHLY) and audit[2].endswith("bao_cao_quy_1.xlsx#Báo cáo")


def test_the_same_report_without_the_file_convention_is_refused_at_the_cell(world, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    province_book(path, text_numbers=True)
    before = table_checksums(world)

    report = run(world, path)  # 1.050 read without --number-format vi: ambiguous

    assert not report.ok
    cells = {i.cell: i.key for i in report.errors}
    assert cells["C8"] == cells["C10"] == "imp_number_ambiguous"   # the typed total 1.978, Phường Bốn's 1.050
    assert "1050" in next(i.message() for i in report.errors if i.cell == "C10")
    assert table_checksums(world) == before


def test_a_wrong_total_is_reported_and_nothing_is_loaded(world, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    province_book(path, total_typo=True)
    before = table_checksums(world)

    report = run(world, path, number_format="vi")

    assert [(i.key, i.cell) for i in report.errors] == [("imp_wide_total_mismatch", "C8")]
    assert "1978" in report.errors[0].message() and "1990" in report.errors[0].message()
    assert table_checksums(world) == before


def test_a_commune_name_in_two_zones_without_zone_rows_is_refused_with_its_candidates(world, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    province_book(path, duplicate_unzoned=True)

    report = run(world, path, number_format="vi")

    ambiguous = [i for i in report.errors if i.key == "imp_wide_ambiguous"]
    assert [i.cell for i in ambiguous] == ["B11", "B13"]
    assert "'Xã An Lão' (31402)" in ambiguous[0].message() and "'Xã An Lão' (31403)" in ambiguous[0].message()


def test_the_saved_mapping_settles_the_ambiguity_and_is_reused(world, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    province_book(path)
    mapping = tmp_path / "mapping.yaml"
    report = run(world, path, number_format="vi", dry_run=True, save_mapping=mapping)
    assert report.ok, messages(report)
    saved = mapping.read_text(encoding="utf-8")
    assert "Tháng 1 / Tử số" in saved and "stockind" in saved and "Khu vực Hai > Xã  An Lão" in saved

    # Next month the zone rows are gone: the mapping still says which An Lão is which.
    other = tmp_path / "thang_sau.xlsx"
    province_book(other, duplicate_unzoned=True)
    text_ = mapping.read_text(encoding="utf-8").replace("Khu vực Một > An Lão", "An Lão")
    mapping.write_text(text_.replace("Khu vực Hai > Xã  An Lão", "Xã  An Lão"), encoding="utf-8")
    wide = importer.WideOptions(mapping=importer.Mapping.read(mapping))
    report = run(world, other, number_format="vi", wide=wide)
    assert report.ok, messages(report)
    assert stored(world, "stockind", MONTHS) == {k: (float(n), float(d)) for k, (n, d) in MONTHLY.items()}


# --- 2. one month per sheet, indicators as columns, facilities by name, code column ------------

def test_one_month_per_sheet_with_indicators_as_columns_and_a_code_column(world, tmp_path):
    wb = Workbook()
    for sheet, month, figures in (("T1", 1, {"BV1": (30, 100), "TYT4": (2, 4)}),
                                  ("T2", 2, {"BV1": (35, 100), "TYT6": (0, 5)})):
        ws = wb.create_sheet(sheet)
        merge(ws, "A1:E1", f"BÁO CÁO THÁNG {month} NĂM 2026")
        ws.append([])
        ws.append(["Mã cơ sở", "Tên cơ sở", "Chỉ tiêu dòng", None, "Ghi chú"])
        ws.append([None, None, "Tử số", "Mẫu số", None])
        ws.merge_cells("C3:D3")
        for code, (n, d) in figures.items():
            ws.append([code, {"BV1": "BV Một", "TYT4": "Trạm Y tế Bốn", "TYT6": "TYT Sáu"}[code], n, d, "đủ"])
        ws.append([])
        ws.append([None, "Giám đốc", None, None, "Kế toán"])
    del wb["Sheet"]
    path = tmp_path / "thang.xlsx"
    wb.save(path)

    report = run(world, path, layout="wide")

    assert report.ok, messages(report)
    assert stored(world, "flowind", ["2026-01", "2026-02"]) == {
        ("BV1", "2026-01"): (30.0, 100.0), ("TYT4", "2026-01"): (2.0, 4.0),
        ("BV1", "2026-02"): (35.0, 100.0), ("TYT6", "2026-02"): (0.0, 5.0)}


def test_an_unknown_code_and_an_unknown_name_are_named_with_suggestions(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Báo cáo chỉ tiêu tồn tháng 01/2026"])
    ws.append(["STT", "Xã/Phường", "Số đạt", "Tổng số"])
    ws.append([1, "Xã Nămm", 10, 200])
    ws.append([2, "Phường Bốn", 1050, 2000])
    path = tmp_path / "t.xlsx"
    wb.save(path)

    report = run(world, path)

    assert [(i.key, i.cell) for i in report.errors] == [("imp_wide_unknown_unit", "B3")]
    assert "'Xã Năm' (00005)" in report.errors[0].message()


# --- 3. paired rows, indicator blocks, quarters -------------------------------------------------

def test_numerator_and_denominator_as_rows_under_each_unit(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["CHỈ TIÊU TỒN - NĂM 2026"])
    ws.append(["TT", "Đơn vị", "Nội dung", "01/2026", "02/2026"])
    ws.append(["1", "Phường Bốn", None, None, None])
    ws.append([None, None, "Tử số", 50, 55])
    ws.append([None, None, "Mẫu số", 100, 100])
    ws.append(["2", "Xã Sáu", None, None, None])
    ws.append([None, None, "Tử số", 7, None])
    ws.append([None, None, "Mẫu số", 10, None])
    path = tmp_path / "rows.xlsx"
    wb.save(path)

    report = run(world, path)

    assert report.ok, messages(report)
    assert stored(world, "stockind", ["2026-01", "2026-02"]) == {
        ("00004", "2026-01"): (50.0, 100.0), ("00004", "2026-02"): (55.0, 100.0), ("00006", "2026-01"): (7.0, 10.0)}


def test_half_a_pair_and_a_flow_quarter_are_refused_at_their_cells(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Chỉ tiêu dòng"])
    ws.append(["Tên đơn vị", "Quý I/2026", None, "T4/2026", None])
    ws.append([None, "Tử số", "Mẫu số", "Tử số", "Mẫu số"])
    ws.append(["Bệnh viện Một", 10, 100, 5, None])
    path = tmp_path / "q.xlsx"
    wb.save(path)

    report = run(world, path)

    assert [(i.key, i.cell) for i in report.errors] == [("imp_wide_flow_period", "B4"),
                                                        ("imp_wide_flow_period", "C4"),
                                                        ("imp_wide_half_pair", "D4")]


def test_a_date_header_and_the_year_from_the_command_line(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Đơn vị", "Tháng 5", None, datetime(2026, 6, 1), None])
    ws.append([None, "Tử số", "Mẫu số", "Tử số", "Mẫu số"])
    ws.append(["Xã Tám", 1, 2, 3, 4])
    path = tmp_path / "d.xlsx"
    wb.save(path)

    refused = run(world, path, layout="wide", wide=importer.WideOptions(indicator="stockind"))
    assert [(i.key, i.cell) for i in refused.errors] == [("imp_wide_no_year", "B2"), ("imp_wide_no_year", "C2")]

    report = run(world, path, wide=importer.WideOptions(year=2026, indicator="stockind"))
    assert report.ok, messages(report)
    assert stored(world, "stockind", ["2026-05", "2026-06"]) == {("00008", "2026-05"): (1.0, 2.0),
                                                               ("00008", "2026-06"): (3.0, 4.0)}


def test_the_cli_takes_layout_year_and_mapping(world, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    province_book(path)
    mapping = tmp_path / "m.yaml"
    db = world.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--database", db, "import", "values", str(path), "--layout", "wide",
                                       "--number-format", "vi", "--save-mapping", str(mapping), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert mapping.exists()
    result = CliRunner().invoke(main, ["--database", db, "import", "values", str(path), "--mapping", str(mapping),
                                       "--number-format", "vi"])
    assert result.exit_code == 0, result.output
    assert stored(world, "stockind", MONTHS) == {k: (float(n), float(d)) for k, (n, d) in MONTHLY.items()}


def test_long_files_still_load_as_before(world, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("indicator,unit_code,period,numerator,denominator\nstockind,00004,2026-01,1,2\n", encoding="utf-8")
    report = run(world, path)
    assert report.ok and report.written, messages(report)


def test_a_name_in_the_long_format_gets_a_suggestion(world, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("indicator,unit_code,period,numerator,denominator\nstockind,Xã Năm,2026-01,1,2\n",
                    encoding="utf-8")
    report = run(world, path)
    assert "'Xã Năm' (00005)" in report.errors[0].message()


# --- 4. another province's shape: zone labels across the numbering column, subtotals below ---

def test_subtotals_under_each_group_column_numbers_and_a_signature_block(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "T10"
    merge(ws, "A1:C1", "UBND TỈNH THỬ")
    merge(ws, "D1:F1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    merge(ws, "A2:C2", "SỞ Y TẾ")
    merge(ws, "D2:F2", "Độc lập - Tự do - Hạnh phúc")
    merge(ws, "A4:F4", "KẾT QUẢ THỰC HIỆN CHỈ TIÊU TỒN THÁNG 10 NĂM 2026")
    ws.append([])
    ws.append(["TT", "Xã, phường, thị trấn", "Số đạt", "Tổng số", "Tỷ lệ (%)", "Ghi chú"])      # row 6
    ws.append(["A", "B", 1, 2, "3=1/2", 4])                                                     # row 7
    rows = [
        ("I. KHU VỰC MỘT", None, None, None),                      # 8: label across A:B
        ("1.1", "P. Bốn", 1000, 2000), ("1.2", "Xã Năm", "-", "-"),  # 9, 10: Năm not reported
        ("1.3", "Xã An Lão", 5, 50),                                # 11
        (None, "Cộng khu vực I", 1005, 2050),                       # 12
        ("II. KHU VỰC HAI", None, None, None),                     # 13
        ("2.1", "Sáu", 900, 1000), ("2.2", "An Lão", 1, 40),       # 14, 15
        (None, "Cộng khu vực II", 901, 1040),                      # 16
        (None, "Tổng cộng", 1906, 3090),                           # 17
    ]
    for r, (num, name, n, d) in enumerate(rows, start=8):
        ws.cell(r, 1, num)
        ws.cell(r, 2, name)
        if name is None:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        ws.cell(r, 3, n)
        ws.cell(r, 4, d)
        if isinstance(n, int):
            ws.cell(r, 5, round(100 * n / d, 1))
    ws.cell(19, 4, "Thử, ngày 05 tháng 11 năm 2026")
    ws.cell(20, 2, "NGƯỜI LẬP BIỂU")
    ws.cell(20, 4, "KT. GIÁM ĐỐC")
    ws.cell(21, 4, "PHÓ GIÁM ĐỐC")
    ws.cell(24, 2, "Nguyễn Văn A")
    ws.cell(24, 4, "Lê Văn C")
    path = tmp_path / "t10.xlsx"
    wb.save(path)

    report = run(world, path)

    assert report.ok, messages(report)
    assert stored(world, "stockind", ["2026-10"]) == {
        ("00004", "2026-10"): (1000.0, 2000.0), ("31402", "2026-10"): (5.0, 50.0),
        ("00006", "2026-10"): (900.0, 1000.0), ("31403", "2026-10"): (1.0, 40.0)}

    ws.cell(16, 3, 902)  # a subtotal that disagrees with its group
    wb.save(path)
    refused = run(world, path)
    assert [(i.key, i.cell) for i in refused.errors] == [("imp_wide_total_mismatch", "C16")]


def test_stations_by_name_with_a_commune_row_that_does_not_report(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["CHỈ TIÊU DÒNG - THÁNG 11/2026"])
    ws.append(["STT", "Tên cơ sở", "Tử số", "Mẫu số"])
    ws.append([1, "TYT Năm", 3, 4])            # the station of Xã Năm, not the commune
    ws.append([2, "Bệnh viện Hai", 5, 10])
    ws.append([3, "Xã Sáu", 1, 2])             # a commune: it does not report this indicator
    path = tmp_path / "tram.xlsx"
    wb.save(path)

    report = run(world, path)

    assert [(i.key, i.cell) for i in report.errors] == [("imp_wide_not_reporter", "C5")]
    assert "'Trạm Y tế Sáu' (TYT6)" in report.errors[0].message()
    ws.delete_rows(5)
    wb.save(path)
    report = run(world, path)
    assert report.ok, messages(report)
    assert stored(world, "flowind", ["2026-11"]) == {("TYT5", "2026-11"): (3.0, 4.0), ("BV2", "2026-11"): (5.0, 10.0)}


def without_prefix(name: str) -> str:
    for prefix in ("Thị trấn ", "Đặc khu ", "Phường ", "Xã "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# --- 5. the demo province: every commune by name, under its zone, the indicator's own labels ---

def test_the_demo_province_by_name_under_its_zones(demo_db, tmp_path):
    from dashboard.importer.names import fold, strip_prefix

    with demo_db.connect() as conn:
        # today's units (a report for 2026-10 names no unit that ended with the 2025 reform)
        units = pd.read_sql(text("SELECT code, name, level, parent_code FROM units WHERE valid_to IS NULL"), conn)
    zones = units[units.level == "district"].sort_values("code")
    communes = units[units.level == "commune"]
    bare = communes.name.map(lambda n: strip_prefix(fold(n)))
    wb = Workbook()
    ws = wb.active
    merge(ws, "A1:D1", "SỞ Y TẾ THÀNH PHỐ HẢI PHÒNG")
    merge(ws, "A2:D2", "BÁO CÁO TỶ LỆ NGƯỜI DÂN CÓ HỒ SƠ SỨC KHỎE ĐIỆN TỬ THÁNG 10 NĂM 2026")
    ws.append([])
    ws.append(["STT", "Đơn vị", "Số người dân đã có hồ sơ sức khỏe điện tử", "Dân số"])
    expected, n = {}, 0
    for z, zone in enumerate(zones.itertuples(), start=1):
        ws.append([z, zone.name.upper()])
        for i, c in enumerate(communes[communes.parent_code == zone.code].sort_values("code").itertuples(), start=1):
            n += 1
            # Half the names without their prefix, unless another commune would then share it.
            name = c.name if n % 2 or (bare == bare[c.Index]).sum() > 1 else without_prefix(c.name)
            ws.append([f"{z}.{i}", name, 100 + n, 1000 + n])
            expected[c.code] = (100 + n, 1000 + n)
    path = tmp_path / "hai_phong.xlsx"
    wb.save(path)

    report = importer.import_files(demo_db, "values", [path], user="tester", dry_run=True)

    assert report.ok, messages(report)[:5]
    assert report.files[0].rows == len(expected) == len(communes)


# --- 6. indicators as blocks of rows, custom groups numbered I/II that are not units -----------

def test_indicator_blocks_and_numbered_groups_that_are_not_units(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    merge(ws, "A1:D1", "BÁO CÁO TỔNG HỢP THÁNG 9/2026")
    ws.append([])
    ws.append(["STT", "Đơn vị", "Tử số", "Mẫu số"])                       # row 3
    ws.append(["A", "Chỉ tiêu tồn", None, None])                          # 4: a block heading
    ws.append(["I", "Nhóm phường", None, None])                           # 5: a group, not a unit
    ws.append(["1", "Phường Bốn", 60, 100])                               # 6
    ws.append(["II", "Nhóm xã", 32, 250])                                 # 7: the group's subtotal on its heading
    ws.append(["1", "Xã Năm", 30, 200])                                   # 8
    ws.append(["2", "Xã Tám", 2, 50])                                     # 9
    ws.append(["B", "Chỉ tiêu dòng", None, None])                         # 10
    ws.append(["1", "Bệnh viện Một", 7, 10])                              # 11
    ws.append(["2", "Trạm Y tế Bốn", 1, 4])                               # 12
    ws.append([None, "Cộng", 8, 14])                                      # 13
    path = tmp_path / "blocks.xlsx"
    wb.save(path)

    report = run(world, path)

    assert report.ok, messages(report)
    assert stored(world, "stockind", ["2026-09"]) == {("00004", "2026-09"): (60.0, 100.0),
                                                      ("00005", "2026-09"): (30.0, 200.0),
                                                      ("00008", "2026-09"): (2.0, 50.0)}
    assert stored(world, "flowind", ["2026-09"]) == {("BV1", "2026-09"): (7.0, 10.0),
                                                     ("TYT4", "2026-09"): (1.0, 4.0)}

    ws["C7"] = 33  # the group's subtotal no longer agrees
    wb.save(path)
    assert [(i.key, i.cell) for i in run(world, path).errors] == [("imp_wide_total_mismatch", "C7")]


def test_paired_rows_named_in_the_name_column_with_the_indicator_labels(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Chỉ tiêu tồn năm 2026"])
    ws.append(["STT", "Tên đơn vị", "T7", "T8", "Tỷ lệ T8 (%)"])
    ws.append(["1", "Xã Năm", None, None, None])
    ws.append([None, "- Số đạt", "1.200", "1.250", None])
    ws.append([None, "- Tổng số", "2.000", "2.000", "62,5"])
    ws.append(["2", "Sáu", None, None, None])
    ws.append([None, "- Số đạt", "7", None, None])
    ws.append([None, "- Tổng số", "10", None, None])
    path = tmp_path / "pairs.xlsx"
    wb.save(path)

    report = run(world, path, number_format="vi")

    assert report.ok, messages(report)
    assert stored(world, "stockind", ["2026-07", "2026-08"]) == {
        ("00005", "2026-07"): (1200.0, 2000.0), ("00005", "2026-08"): (1250.0, 2000.0),
        ("00006", "2026-07"): (7.0, 10.0)}


def test_odd_sheets_never_raise(world, tmp_path):
    """Random grids (text, numbers, dates, merged cells, periods, totals words): an issue or a
    load, never an exception."""
    import random

    rnd = random.Random(14)
    words = ["Tháng 1", "T2/2026", "Quý I/2026", "Tử số", "Mẫu số", "Tên đơn vị", "Tổng cộng", "Cộng", "I", "1.1",
             "Xã Năm", "Phường Bốn", "An Lão", "Khu vực Một", "1.050", "-", "x", "=SUM(A1:A2)", "Chỉ tiêu tồn",
             "Ghi chú", "Mã", "00004", "STT", "(1)", "Năm 2026", None, None, None]
    for n in range(12):  # 300 tried by hand: no exception
        wb = Workbook()
        ws = wb.active
        for r in range(1, rnd.randint(2, 14)):
            for c in range(1, rnd.randint(2, 8)):
                pick = rnd.random()
                ws.cell(r, c, rnd.choice(words) if pick < 0.7 else rnd.randint(0, 3000) if pick < 0.9
                        else datetime(2026, rnd.randint(1, 12), 1))
        if rnd.random() < 0.5:
            ws.merge_cells("A1:C1")
        path = tmp_path / f"odd{n}.xlsx"
        wb.save(path)
        report = run(world, path, layout="wide", dry_run=True)
        assert not [i for i in report.errors if i.key == "imp_wide_unreadable_sheet"], messages(report)
