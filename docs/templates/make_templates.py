"""Write the Excel templates in docs/templates/:

* ``values_template.xlsx``: the sheet a hospital or health centre fills in every month;
* ``indicators_template.xlsx``: the sheet a department fills in to add its own indicators.

Each has a data sheet (the header row and example rows, code and month columns formatted
as Text so Excel keeps '00004' and does not turn '2026-09' into a date) and a sheet
"Hướng dẫn" (instructions): every column, whether it is required, what it means and what
it defaults to, in Vietnamese and English, and the rules the import checks
(docs/data-formats.md has the full text).

Run: python docs/templates/make_templates.py [OUTPUT_FOLDER]   (writes both)
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
    ("numerator", True, "Tử số: số đếm được (ví dụ số người đã có hồ sơ sức khỏe điện tử); số nguyên không âm "
     "(số tiền của chỉ tiêu tính bằng đồng được có phần thập phân, viết bằng dấu chấm); không dấu phân cách "
     "hàng nghìn: ghi 46650, không ghi 46.650",
     "Numerator: the count (e.g. people with an electronic health record); a whole number, not negative "
     "(amounts of an indicator counted in đồng may have decimals, written with a dot); no thousands "
     "separators: write 46650, not 46.650", 9730),
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
    ("Không đoán số: 46.650, 46,650 và 1 000 đều bị từ chối (ghi 46650). Tệp viết số kiểu Việt Nam "
     "(1.165.558 và 85,3) thì nạp với --number-format vi.",
     "Numbers are never guessed: 46.650, 46,650 and 1 000 are refused (write 46650). A file writing "
     "Vietnamese numbers (1.165.558 and 85,3) loads with --number-format vi."),
    ("Ô văn bản không được bắt đầu bằng = + - @ (bảng tính sẽ chạy như công thức) và không có ký tự ẩn.",
     "A text cell may not start with = + - @ (a spreadsheet would run it as a formula) nor hold hidden "
     "control characters."),
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

#: The indicators format: name, required, Vietnamese, English, default when left blank.
INDICATOR_COLUMNS = [
    ("code", True, "Mã chỉ tiêu: chữ không dấu, số, dấu chấm, gạch dưới, gạch ngang (xuất hiện trong đường dẫn)",
     "Indicator code: ASCII letters, digits, '.', '_', '-' (it appears in URLs)", "—"),
    ("name_vi", True, "Tên đầy đủ tiếng Việt", "Full name in Vietnamese", "—"),
    ("name_en", True, "Tên đầy đủ tiếng Anh", "Full name in English", "—"),
    ("time", True, "stock: một kỳ lấy tháng gần nhất của mỗi đơn vị (số người có hồ sơ, số bệnh viện triển khai); "
     "flow: cộng các tháng (số tiền, số hồ sơ)",
     "stock: a period takes each entity's latest month (people with a record, hospitals running EMR); "
     "flow: months are summed (payments, dossiers)", "—"),
    ("higher_is_better", True, "true nếu càng cao càng tốt (có/không, 1/0 cũng được)",
     "true if higher is better (also có/không, yes/no, 1/0)", "—"),
    ("short_vi", False, "Tên ngắn trên thẻ, bảng và bản đồ", "Short name on cards, tables and maps",
     "tên đầy đủ bỏ \"Tỷ lệ\", cắt ở ranh giới từ, tối đa 32 ký tự / the full name without \"Share of\", cut at "
     "a word boundary, at most 32 characters"),
    ("short_en", False, "Tên ngắn tiếng Anh", "Short name in English", "như trên / as above"),
    ("numerator_vi", False, "Tử số đếm gì, ví dụ \"Số trẻ tiêm đủ mũi\"", "What the numerator counts",
     "Tử số"),
    ("denominator_vi", False, "Mẫu số đếm gì, ví dụ \"Số trẻ dưới 1 tuổi\"", "What the denominator counts",
     "Mẫu số"),
    ("numerator_en", False, "Tử số tiếng Anh", "Numerator in English, e.g. \"Children fully vaccinated\"",
     "Numerator"),
    ("denominator_en", False, "Mẫu số tiếng Anh", "Denominator in English", "Denominator"),
    ("unit_vi", False, "Đơn vị đếm của tử số (người, trẻ, bệnh viện, hồ sơ; đồng cho số tiền: số tiền được có phần "
     "thập phân và hiển thị dạng tỷ/triệu)",
     "What the numerator is counted in (people, hospitals, dossiers; đồng for money: amounts may have decimals "
     "and show as tỷ/triệu)",
     "đọc từ tử số (\"Số trẻ …\" → trẻ), nếu không: trường hợp / read off the numerator (\"Số trẻ …\" → trẻ), "
     "else: trường hợp"),
    ("unit_en", False, "Đơn vị đếm tiếng Anh", "Unit word in English",
     "read off the numerator (\"Number of households …\" → households), else: cases"),
    ("gap_vi", False, "Câu nói phần còn thiếu để đạt 100 %: {gap} (đúng một lần) là mẫu số − tử số, ví dụ "
     "\"còn {gap} trẻ chưa tiêm đủ\"; khoảng cách đến mục tiêu thì trang tự ghi",
     "Sentence for what is still missing to 100 %: {gap} (exactly once) is denominator − numerator; the pages "
     "word the gap to the target themselves",
     "còn thiếu {gap} <đơn vị đếm> để đạt 100 % (<tử số>)"),
    ("gap_en", False, "Câu phần còn thiếu tiếng Anh", "The same in English, e.g. \"{gap} children still "
     "not fully vaccinated\"", "{gap} <unit> short of 100% (<numerator>)"),
    ("decimals", False, "Số chữ số thập phân hiển thị, 0 đến 4", "Decimals shown, 0 to 4", "1"),
    ("display_unit", False, "Ký hiệu sau giá trị (giá trị luôn là 100 × tử số / mẫu số)",
     "Sign after the value (the value is always 100 × numerator / denominator)", "%"),
    ("reported_by", False, "Ai báo cáo, cách nhau bởi dấu ;: province, district, commune, facility:hospital, "
     "facility:health_centre, facility:station, facility:other",
     "Who reports it, separated by ';': province, district, commune, facility:hospital, facility:health_centre, "
     "facility:station, facility:other",
     "chỉ tiêu mới: commune; chỉ tiêu đã có: giữ nguyên / new indicator: commune; existing: kept"),
    ("group", False, "Nhóm chỉ tiêu (chữ không dấu), để xếp chỉ tiêu cùng loại với nhau",
     "Group of indicators (ASCII word), to keep related ones together", "other"),
    ("headline", False, "Vị trí thẻ trên trang tổng quan, 1 đến 8; để trống: không lên trang tổng quan",
     "Position of its card on the overview, 1 to 8; blank: not on the overview", "trống / blank"),
    ("sort_order", False, "Thứ tự trong danh sách chỉ tiêu, 0 đến 9999", "Order in lists of indicators, 0 to 9999",
     "sau các chỉ tiêu đã có / after the existing ones"),
]

INDICATOR_EXAMPLES = [
    # Only the required columns: every other field gets its default.
    {"code": "tiem_chung", "name_vi": "Tỷ lệ trẻ dưới 1 tuổi được tiêm chủng đầy đủ",
     "name_en": "Children under one fully immunised", "time": "stock", "higher_is_better": "true"},
    {"code": "kham_tu_xa", "name_vi": "Tỷ lệ bệnh viện triển khai khám chữa bệnh từ xa",
     "name_en": "Hospitals offering telehealth", "time": "stock", "higher_is_better": "true",
     "short_vi": "Khám từ xa", "short_en": "Telehealth", "numerator_vi": "Số bệnh viện đã triển khai",
     "denominator_vi": "Tổng số bệnh viện", "numerator_en": "Hospitals offering telehealth",
     "denominator_en": "Hospitals", "unit_vi": "bệnh viện", "unit_en": "hospitals",
     "gap_vi": "còn {gap} bệnh viện chưa triển khai khám từ xa", "gap_en": "{gap} hospitals still without telehealth",
     "decimals": 0, "display_unit": "%", "reported_by": "facility:hospital", "group": "telehealth",
     "headline": None, "sort_order": 50},
]

INDICATOR_RULES = [
    ("Mỗi dòng là một chỉ tiêu; chỉ 5 cột đầu là bắt buộc, các cột khác để trống thì lấy giá trị mặc định.",
     "One row per indicator; only the first 5 columns are required, blank ones take their default."),
    ("Nạp lại một chỉ tiêu đã có thì sửa các cột có trong tệp; cột để trống giữ giá trị cũ. Số liệu và mục tiêu "
     "của chỉ tiêu không bị mất khi đổi tên.",
     "Loading an existing indicator again changes the columns the file fills in; blank ones keep their value. "
     "Renaming never loses the indicator's values or targets."),
    ("Ô văn bản không được bắt đầu bằng = + - @ và không có ký tự ẩn; tệp có một lỗi là không nạp gì.",
     "A text cell may not start with = + - @ nor hold hidden characters; one error and nothing is loaded."),
    ("Nạp / load:  dashboard import indicators indicators_template.xlsx   (kiểm tra trước / check first: --dry-run)",
     "Then the values: dashboard import values …  and targets: dashboard import targets …"),
]

FIXED_TIME = datetime(2026, 1, 1)  # same bytes in the workbook properties on every run
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _book(title: str):
    book = Workbook()
    book.properties.creator = "Dashboard chỉ đạo điều hành"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    ws = book.active
    ws.title = title
    return book, ws


def _header(ws, names: list[str], text_columns: tuple[str, ...], width: int = 16) -> None:
    for index, name in enumerate(names, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        ws.column_dimensions[cell.column_letter].width = width
        if name in text_columns:
            # Text, for the example rows and the next rows people will type in.
            for row in range(2, 1002):
                ws.cell(row=row, column=index).number_format = "@"
    ws.freeze_panes = "A2"


def _guide(book, heading: list[str], rows: list[list], rules: list[tuple[str, str]]) -> None:
    guide = book.create_sheet("Hướng dẫn")
    guide.append(heading)
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in rows:
        guide.append(row)
    guide.append([])
    guide.append(["Quy tắc / Rules"])
    guide.cell(row=guide.max_row, column=1).font = Font(bold=True)
    for vi, en in rules:
        guide.append(["", "", vi, en])
    for letter, width in zip("ABCDE", (14, 18, 60, 60, 30)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def values_template(path: Path) -> Path:
    book, ws = _book("values")
    ws.append([c[0] for c in COLUMNS])
    ws.append([c[4] for c in COLUMNS])
    _header(ws, [c[0] for c in COLUMNS], ("indicator", "unit_code", "period"))
    _guide(book, ["Cột / Column", "Bắt buộc / Required", "Ý nghĩa", "Meaning", "Ví dụ / Example"],
           [[name, "có / yes" if required else "không / no", vi, en, str(example)]
            for name, required, vi, en, example in COLUMNS], RULES)
    book.save(path)
    return path


def indicators_template(path: Path) -> Path:
    book, ws = _book("indicators")
    names = [c[0] for c in INDICATOR_COLUMNS]
    ws.append(names)
    for example in INDICATOR_EXAMPLES:
        ws.append([example.get(name) for name in names])
    _header(ws, names, ("code", "reported_by", "group"), width=18)
    _guide(book, ["Cột / Column", "Bắt buộc / Required", "Ý nghĩa", "Meaning", "Mặc định / Default"],
           [[name, "có / yes" if required else "không / no", vi, en, default]
            for name, required, vi, en, default in INDICATOR_COLUMNS], INDICATOR_RULES)
    book.save(path)
    return path


TEMPLATES = {"values": values_template, "indicators": indicators_template}


def build(folder: Path = HERE, kinds: tuple[str, ...] = ("values",)) -> list[Path]:
    """Write the templates of `kinds` into `folder` (the script writes all of them)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [TEMPLATES[kind](folder / f"{kind}_template.xlsx") for kind in kinds]


if __name__ == "__main__":
    for written in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE, tuple(TEMPLATES)):
        print(written)
