"""Write docs/templates/values_template.xlsx: the sheet a hospital or health centre fills in.

Sheet "values": the header row, one example row, code and period columns formatted as
Text (so Excel keeps '00004' and does not turn '2026-09' into a date). Sheet "Hướng dẫn"
(instructions): every column, whether it is required, what it means, in Vietnamese and
English, and the rules the import checks (docs/data-formats.md has the full text).

Run: python docs/templates/make_templates.py [OUTPUT_FOLDER]
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HERE = Path(__file__).resolve().parent

COLUMNS = [
    # name, required, Vietnamese, English, example
    ("indicator", True, "Mã chỉ tiêu (xem `dashboard` hoặc docs/data-formats.md), ví dụ hssk, emr, cashless",
     "Indicator code (see docs/data-formats.md), e.g. hssk, emr, cashless", "hssk"),
    ("unit_code", True, "Mã đơn vị hành chính hoặc mã cơ sở y tế báo cáo; giữ nguyên số 0 ở đầu (00004 khác 4)",
     "Code of the reporting unit or facility; keep leading zeros (00004 is not 4)", "10507"),
    ("period", True, "Tháng báo cáo, dạng YYYY-MM (ví dụ 2026-09); không ghi quý hay năm",
     "Reporting month, written YYYY-MM (e.g. 2026-09); not a quarter or a year", "2026-09"),
    ("numerator", True, "Tử số: số đếm được (ví dụ số người đã có hồ sơ sức khỏe điện tử); số không âm, "
     "dấu chấm thập phân, không dấu phân cách hàng nghìn",
     "Numerator: the count (e.g. people with an electronic health record); not negative, dot decimal, "
     "no thousands separators", 9730),
    ("denominator", True, "Mẫu số (ví dụ dân số); không nhỏ hơn tử số", "Denominator (e.g. population); "
     "not smaller than the numerator", 10180),
]

RULES = [
    ("Mỗi dòng là một chỉ tiêu của một đơn vị trong một tháng; không lặp lại cùng (chỉ tiêu, đơn vị, tháng).",
     "One row per indicator, unit and month; never the same (indicator, unit, month) twice."),
    ("Chưa có số liệu thì bỏ cả dòng, không ghi 0: dashboard hiển thị \"chưa báo cáo\".",
     "A figure not known yet: leave the row out, do not write 0; the dashboard shows \"not reported\"."),
    ("Tử số không được lớn hơn mẫu số; không nhận số âm, chữ, dấu phẩy thập phân.",
     "The numerator may not exceed the denominator; negative numbers, words and decimal commas are refused."),
    ("Nạp lại cùng (chỉ tiêu, đơn vị, tháng) thì số mới thay số cũ; nhật ký ghi số dòng thêm và thay.",
     "Loading the same (indicator, unit, month) again replaces the figure; the audit counts rows added and "
     "replaced."),
    ("Nếu một dòng sai thì cả tệp không được nạp; thông báo lỗi nêu tệp, dòng, cột và lý do.",
     "If any row is wrong nothing is loaded; each error names the file, line, column and reason."),
    ("Chỉ đọc trang tính đầu tiên (hoặc trang chỉ định bằng --sheet); có thể xóa dòng ví dụ.",
     "Only the first sheet is read (or the one named with --sheet); delete the example row."),
    ("Nạp / load:  dashboard import values values_template.xlsx   (kiểm tra trước / check first: --dry-run)",
     "Nạp / load:  dashboard import values values_template.xlsx   (kiểm tra trước / check first: --dry-run)"),
]

FIXED_TIME = datetime(2026, 1, 1)  # same bytes in the workbook properties on every run


def values_template(path: Path) -> Path:
    book = Workbook()
    book.properties.creator = "Dashboard chỉ đạo điều hành"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    ws = book.active
    ws.title = "values"
    ws.append([c[0] for c in COLUMNS])
    ws.append([c[4] for c in COLUMNS])
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, (name, _req, _vi, _en, _ex) in enumerate(COLUMNS, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.cell(row=1, column=index).font = Font(bold=True)
        ws.cell(row=1, column=index).fill = header_fill
        ws.column_dimensions[letter].width = 16
        if name in ("indicator", "unit_code", "period"):
            # Text, for the example row and the next rows people will type in.
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "@"
    ws.freeze_panes = "A2"

    guide = book.create_sheet("Hướng dẫn")
    guide.append(["Cột / Column", "Bắt buộc / Required", "Ý nghĩa", "Meaning", "Ví dụ / Example"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for name, required, vi, en, example in COLUMNS:
        guide.append([name, "có / yes" if required else "không / no", vi, en, str(example)])
    guide.append([])
    guide.append(["Quy tắc / Rules"])
    guide.cell(row=guide.max_row, column=1).font = Font(bold=True)
    for vi, en in RULES:
        guide.append(["", "", vi, en])
    for letter, width in zip("ABCDE", (14, 18, 60, 60, 16)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)
    return path


def build(folder: Path = HERE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [values_template(folder / "values_template.xlsx")]


if __name__ == "__main__":
    for written in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written)
