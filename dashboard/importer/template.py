"""Workbooks made from the database for one reporting round, which the wide reader takes back
with no mapping (``dashboard template values``), and the unit list the importer accepts
(``dashboard export units``).

One sheet per indicator: a title, the indicator over its months, each month over "Tử số" and
"Mẫu số"; one row per expected reporter (code and name) grouped under its zone's row; data
validation (a drop-down of the known codes, whole numbers ≥ 0 for counts); the header
protected (only the figures can be typed); a "Hướng dẫn" sheet with the instructions and a
"Đơn vị" sheet with the units.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..catalog.defaults import is_money
from ..periods import parse_period
from .known import Known

#: A unit's key (``code@YYYY-MM`` for an ended unit), its official code, and its validity: what
#: ``import units`` takes back (the key makes two units of one code two rows).
UNIT_COLUMNS = ["code", "official_code", "name", "level", "parent_code", "valid_from", "valid_to"]

INSTRUCTIONS = [
    "HƯỚNG DẪN ĐIỀN MẪU BÁO CÁO",
    "1. Mỗi trang tính là một chỉ tiêu; mỗi dòng là một đơn vị phải báo cáo, xếp theo khu vực.",
    "2. Với mỗi tháng, ghi Tử số và Mẫu số (số nguyên, không âm; tử số không lớn hơn mẫu số).",
    "3. Đơn vị chưa có số liệu thì để trống ô (không ghi 0): để trống là \"chưa báo cáo\".",
    "4. Không sửa các dòng tiêu đề, mã và tên đơn vị; không chèn cột. Dòng khu vực không cần ghi số.",
    "5. Danh sách mã đơn vị ở trang \"Đơn vị\".",
    "6. Nạp tệp: dashboard import values <tệp>.xlsx (không cần tệp ánh xạ). Thử trước với --dry-run.",
]


def expected_reporters(known: Known, indicator: str, months: list[str]) -> list[str]:
    kinds = known.scopes.get(indicator, set())
    out = []
    for code in (*known.units, *known.facilities):
        if known.entity_kind(code) not in kinds:
            continue
        vf, vt = known.validity(code)
        if any(not ((vf and m < vf) or (vt and m > vt)) for m in months):
            out.append(code)
    return out


def _zone_of(names, code: str, zone_level: str | None) -> str | None:
    for a in names.entities[code].ancestors:
        if names.entities.get(a) is not None and names.entities[a].kind == zone_level:
            return a
    return None


def write_template(conn, indicators: list[str], period: str, out: Path) -> int:
    """Write the workbook; returns the number of reporter rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    known = Known.load(conn)
    names = known.unit_names()
    months = parse_period(period).months
    missing = [i for i in indicators if i not in known.indicators]
    if missing:
        raise ValueError(", ".join(missing))
    wb = Workbook()
    guide = wb.active
    guide.title = "Hướng dẫn"
    for i, line in enumerate(INSTRUCTIONS, start=1):
        guide.cell(i, 1, line).font = Font(bold=i == 1)
    guide.column_dimensions["A"].width = 110
    units = wb.create_sheet("Đơn vị")
    units.append(["Mã đơn vị", "Tên", "Cấp", "Mã cấp trên"])
    unit_codes = sorted(known.units) + sorted(known.facilities)
    for code in unit_codes:
        e = names.entities[code]
        units.append([code, e.name, e.kind, e.ancestors[0] if e.ancestors else None])
        units.cell(units.max_row, 1).number_format = "@"
    units.column_dimensions["B"].width = 40
    codes_ref = f"='Đơn vị'!$A$2:$A${len(unit_codes) + 1}"
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    zone_fill = PatternFill("solid", fgColor="F2F2F2")
    rows_written = 0
    levels = [lv for lv in ("district", "province")]
    for ind in indicators:
        info = known.indicators[ind]
        ws = wb.create_sheet(ind[:31])
        width = 3 + 2 * len(months)
        ws.cell(1, 1, "SỞ Y TẾ")
        ws.cell(2, 1, f"BÁO CÁO: {info['name_vi']} — {_period_words(months)}")
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
        ws.cell(2, 1).font = Font(bold=True, size=13)
        ws.cell(3, 1, "Ghi tử số và mẫu số từng tháng; để trống nếu chưa có số liệu (xem trang \"Hướng dẫn\").")
        ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
        for c, label in ((1, "STT"), (2, "Mã đơn vị"), (3, "Tên đơn vị")):
            ws.cell(5, c, label)
            ws.merge_cells(start_row=5, start_column=c, end_row=7, end_column=c)
        ws.cell(5, 4, info["name_vi"])
        ws.merge_cells(start_row=5, start_column=4, end_row=5, end_column=width)
        for i, month in enumerate(months):
            c = 4 + 2 * i
            ws.cell(6, c, f"T{int(month[5:])}/{month[:4]}")
            ws.merge_cells(start_row=6, start_column=c, end_row=6, end_column=c + 1)
            ws.cell(7, c, "Tử số")
            ws.cell(7, c + 1, "Mẫu số")
        for r in range(5, 8):
            for c in range(1, width + 1):
                cell = ws.cell(r, c)
                cell.font = Font(bold=True)
                cell.fill = head_fill
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        reporters = expected_reporters(known, ind, months)
        zone_level = next((lv for lv in levels if any(_zone_of(names, r, lv) for r in reporters)), None)
        by_zone: dict[str | None, list[str]] = {}
        for code in reporters:
            by_zone.setdefault(_zone_of(names, code, zone_level), []).append(code)
        line = 8
        number_kind = "decimal" if is_money(info) else "whole"
        counts = DataValidation(type=number_kind, operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                showErrorMessage=True, errorTitle="Số không hợp lệ",
                                error="Ghi số nguyên không âm (để trống nếu chưa có số liệu)."
                                if number_kind == "whole" else "Ghi số không âm.")
        code_list = DataValidation(type="list", formula1=codes_ref, allow_blank=True, showErrorMessage=True,
                                   errorTitle="Mã không có", error="Chọn mã trong danh sách (trang \"Đơn vị\").")
        ws.add_data_validation(counts)
        ws.add_data_validation(code_list)
        roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"]
        for z, zone in enumerate(sorted(by_zone, key=lambda x: (x is None, x or ""))):
            if zone is not None:
                ws.cell(line, 1, roman[z] if z < len(roman) else str(z + 1))
                ws.cell(line, 2, zone).number_format = "@"
                ws.cell(line, 3, names.entities[zone].name)
                for c in range(1, width + 1):
                    ws.cell(line, c).fill = zone_fill
                    ws.cell(line, c).font = Font(bold=True)
                line += 1
            members = sorted(by_zone[zone])
            for n, code in enumerate(members, start=1):
                ws.cell(line, 1, n)
                ws.cell(line, 2, code).number_format = "@"
                ws.cell(line, 3, names.entities[code].name)
                code_list.add(ws.cell(line, 2))
                for c in range(4, width + 1):
                    cell = ws.cell(line, c)
                    cell.protection = Protection(locked=False)
                    cell.number_format = "0" if number_kind == "whole" else "0.00"
                counts.add(f"{get_column_letter(4)}{line}:{get_column_letter(width)}{line}")
                line += 1
                rows_written += 1
        line += 1
        ws.cell(line, 3, "Người lập biểu")
        ws.cell(line, max(4, width - 1), "Thủ trưởng đơn vị")
        ws.column_dimensions["B"].width = 12
        ws.column_dimensions["C"].width = 36
        ws.freeze_panes = "D8"
        ws.protection.sheet = True
        ws.protection.formatCells = False
    wb.move_sheet("Hướng dẫn", offset=len(wb.sheetnames))
    wb.move_sheet("Đơn vị", offset=len(wb.sheetnames))
    wb.active = 0
    wb.save(out)
    return rows_written


def _period_words(months: list[str]) -> str:
    if len(months) == 1:
        return f"THÁNG {int(months[0][5:])} NĂM {months[0][:4]}"
    return f"TỪ THÁNG {int(months[0][5:])}/{months[0][:4]} ĐẾN THÁNG {int(months[-1][5:])}/{months[-1][:4]}"


def units_csv(conn, kind: str = "units") -> tuple[str, int]:
    """The units (or facilities) the importer accepts, in its own import format."""
    from .. import sql
    from ..unitkeys import official

    name = "units" if kind == "units" else "facilities"
    frame = sql.fetch_df(conn, name)
    columns = UNIT_COLUMNS if kind == "units" else ["code", "name", "type", "unit_code", "lat", "lon"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in frame.to_dict("records"):
        if kind == "units":
            r["official_code"] = official(str(r["code"]))
        w.writerow(["" if r.get(c) is None or r.get(c) != r.get(c) else _cell(r.get(c)) for c in columns])
    return out.getvalue(), len(frame)


def _cell(value) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text
