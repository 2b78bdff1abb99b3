"""Wide workbooks: the reports shaped for people, read into the rows of the long format.

A sheet is read as a grid (merged cells known). Then:

1. **the header** is the first row naming the unit column (Tên đơn vị, Đơn vị, Xã/Phường, Cơ
   sở…) or holding two periods, under any merged title rows; the rows below it that hold no
   figure (sub-headers, a row of column numbers "(1) (2) (3)") belong to it;
2. **each value column** gets an indicator, a period and a part (numerator or denominator)
   from its header cells (merged cells spread over the columns they cover), from the title
   rows, the sheet's name, ``--indicator``/``--period``/``--year`` or the mapping. Rate,
   note, plan and numbering columns are set aside;
3. **each row** is a unit (by its code when a code column exists, else by its name within the
   enclosing zone rows, see :mod:`names`), a zone or group heading, a total or subtotal
   (checked against the sum of its rows, never loaded), a numerator/denominator row belonging
   to the unit row above, an indicator heading (blocks), or text without figures (notes,
   signatures: ignored);
4. the figures become long rows ``indicator, unit_code, period, numerator, denominator`` for
   the same checks (``values.check_values``) and the same loader as every other import; an
   issue on one of them names the cell of the sheet it came from.

What was understood can be written as a small YAML mapping (``save_mapping``) and read back
next month (``read_mapping``): columns by their header text, units by the name written.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .cells import BadCell, CellError, read_code, read_number
from .formats import FORMATS, UNIT_LEVELS
from .names import (PeriodText, UnitNames, fold, numbering, period_in_title, read_period, roman_value, shown,
                    split_numbering, strip_prefix, year_in)
from .readers import Table, _scan_bytes, _xlsx_cell, _zip_problem
from .report import Issue, IssueLog, column_letter

MAX_HEADER_SCAN = 40
MAX_WIDE_ROWS = 50_000
#: Units offered beside a matched one in the upload page's mapping table (same parent, same kind).
BESIDE = 20
LONG_HEADER = list(FORMATS["values"].required)

_NAME_LABELS = ("ten", "don vi", "dia phuong", "xa phuong", "co so", "unit", "name", "khu vuc", "dia ban",
                "tram y te", "benh vien")
_CODE_LABELS = ("ma", "ma so", "code", "unit code", "unit_code", "ma don vi", "ma dvhc", "ma xa", "ma co so",
                "ma tram", "ma huyen", "ma dia ban")
_STT_LABELS = ("stt", "tt", "so tt", "so thu tu", "no", "#")
_NUM_WORDS = ("tu so", "ts", "numerator", "so dat", "thuc hien", "so thuc hien", "dat", "tu")
_DEN_WORDS = ("mau so", "ms", "denominator", "tong so", "doi tuong", "so doi tuong", "so phai", "mau")
_RATE_WORDS = ("ty le", "ti le", "rate", "percent", "phan tram")
_SKIP_WORDS = ("ghi chu", "note", "notes", "ke hoach", "chi tieu giao", "target", "muc tieu", "luy ke", "cong don",
               "so sanh", "xep loai", "xep hang", "nguon")
_GRAND_WORDS = ("tong cong", "toan tinh", "toan thanh pho", "toan tp", "ca tinh", "tong so", "total",
                "grand total", "tong")
_SUB_WORDS = ("cong", "tong khu vuc", "cong khu vuc", "subtotal", "tong nhom", "cong nhom")
_DASHES = {"-", "–", "—", "x", "X", "…", "..."}
_COLUMN_NUMBER = re.compile(r"^\(?[A-Za-z0-9]{1,3}\)?$")
_NUMBERISH = re.compile(r"^[+-]?[0-9][0-9., \u00a0]*$")


_COLUMN_FORMULA = re.compile(r"^[()0-9A-Z=*/+\-x.:% ]{1,24}$")


def _numbers_a_column(v) -> bool:
    """A cell of the row numbering the columns: (1), 2, A, B, '3=1/2', '(5)=(3)/(4)x100'."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return float(v).is_integer() and 0 <= v <= 200
    if not isinstance(v, str):
        return False
    t = v.strip()
    return bool(re.fullmatch(r"\(?(?:\d{1,3}|[A-Z])\)?", t)) or ("=" in t and bool(_COLUMN_FORMULA.match(t)))


def _starts(folded: str, words) -> str | None:
    for w in words:
        if folded == w or folded.startswith(w + " "):
            return w
    return None


# --- the grid -------------------------------------------------------------------------------

@dataclass
class Sheet:
    title: str
    rows: list[list[Any]]                       # rows[i] is line i + 1
    merged: list[tuple[int, int, int, int]]     # (min_row, min_col, max_row, max_col), 1-based
    uncached: set[tuple[int, int]]              # formula cells with no saved value (1-based)

    def cell(self, line: int, col: int) -> Any:
        row = self.rows[line - 1] if 0 < line <= len(self.rows) else []
        return row[col] if col < len(row) else None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def read_sheets(path: Path, sheet: str | None) -> tuple[list[Sheet], str | None, dict]:
    """The sheets of a workbook (or the one CSV) as grids; (sheets, error key, params)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], "imp_not_utf8", {"encoding": "?"}
        first = text.split("\n", 1)[0]
        delimiter = ";" if ("," not in first and ";" in first) else ","
        rows = [[(c.strip() or None) for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
        return [Sheet(path.stem, rows, [], set())], None, {}
    problem = _zip_problem(path)
    if problem is not None:
        return [], problem[0], problem[1]
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
        formulas = load_workbook(path, data_only=False)
    except Exception as exc:  # noqa: BLE001 - an untrusted workbook
        return [], "imp_xlsx_unreadable", {"detail": f"{exc.__class__.__name__}: {exc}"[:200]}
    names = book.sheetnames
    if sheet is not None and sheet not in names:
        return [], "imp_no_sheet", {"sheet": sheet, "sheets": ", ".join(names)}
    out = []
    for title in ([sheet] if sheet else names):
        ws, wf = book[title], formulas[title]
        if getattr(ws, "sheet_state", "visible") != "visible" and sheet is None:
            continue
        if ws.max_row > MAX_WIDE_ROWS:
            return [], "imp_wide_too_big", {"sheet": title, "rows": ws.max_row, "limit": MAX_WIDE_ROWS}
        rows, uncached = [], set()
        for r, (row, frow) in enumerate(zip(ws.iter_rows(), wf.iter_rows()), start=1):
            cells = []
            for c, (cell, fcell) in enumerate(zip(row, frow)):
                value = _xlsx_cell(cell)
                if value is None and isinstance(fcell.value, str) and fcell.value.startswith("="):
                    uncached.add((r, c))
                cells.append(value)
            rows.append(cells)
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        out.append(Sheet(title, rows, merged, uncached))
    return out, None, {}


# --- the mapping ----------------------------------------------------------------------------

@dataclass
class Mapping:
    """What a person may say about a file, reused month after month."""
    indicator: str | None = None
    year: int | None = None
    columns: dict[str, dict | str] = field(default_factory=dict)   # header text (or letter) -> spec or 'ignore'
    units: dict[str, str] = field(default_factory=dict)            # name as written ('Zone > Name' too) -> code

    @classmethod
    def read(cls, path: Path) -> "Mapping":
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, source: str) -> "Mapping":
        """A mapping from its YAML text (a file's, or one saved on the server)."""
        data = yaml.safe_load(source) or {}
        if not isinstance(data, dict):
            raise ValueError("mapping must be a YAML mapping")
        return cls(indicator=data.get("indicator"), year=data.get("year"),
                   columns={str(k): v for k, v in (data.get("columns") or {}).items()},
                   units={str(k): str(v) for k, v in (data.get("units") or {}).items()})

    def write(self, path: Path) -> None:
        Path(path).write_text(self.text(), encoding="utf-8")

    def text(self) -> str:
        """The YAML text (with its bilingual comment) that :meth:`parse` reads back."""
        data: dict[str, Any] = {"layout": "wide"}
        if self.indicator:
            data["indicator"] = self.indicator
        if self.year:
            data["year"] = self.year
        data["columns"] = self.columns
        data["units"] = dict(sorted(self.units.items()))
        head = ("# Cách đọc báo cáo dạng bảng rộng (dashboard import values --mapping tệp này).\n"
                "# How to read a wide report (dashboard import values --mapping this-file).\n"
                "# columns: tiêu đề cột -> chỉ tiêu, phần (numerator = tử số, denominator = mẫu số) hoặc ignore.\n"
                "# units: tên như trong tệp (hoặc 'Khu vực > Tên') -> mã đơn vị.\n")
        return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


@dataclass
class Options:
    indicator: str | None = None
    period: str | None = None       # YYYY-MM for sheets whose columns are indicators
    year: int | None = None
    number_format: str = "plain"
    mapping: Mapping | None = None
    learned: Mapping | None = None  # filled with what was understood (for --save-mapping)
    understood: "Understood | None" = None  # filled row by row (for the upload page's mapping table)


@dataclass
class Understood:
    """What the reader made of each unit row and value column, for a person to check and correct.

    ``units``: one dict per unit row read or refused by name: sheet, line, cell, written (the
    name as in the file), key (how a mapping names it: 'Zone > Name' where the name is shared),
    code (None when refused), status (``name``, ``mapping``, ``ambiguous``, ``unknown``) and
    candidates ((code, name, kind) a person may choose from, the match first).
    ``columns``: sheet, letter, label, months, indicator, part (``block`` rows: an indicator
    heading among the rows)."""
    units: list[dict] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)


# --- issues with the sheet's cells ----------------------------------------------------------

class WideIssues(IssueLog):
    """An issue log whose synthetic long rows point back to the cells of the sheet."""

    def __init__(self, report, name):
        super().__init__(report, name, cell_refs=True)
        self.origins: list[tuple[str, int, dict[str, tuple[str, str]]]] = [("", 0, {})]

    def at(self, sheet: str, key: str, line: int | None, col: int | None, label: str | None, value=None,
           warn: bool = False, **params) -> None:
        cell = None if col is None or line is None else f"{column_letter(col + 1)}{line}"
        issue = Issue(f"{self.name} [{sheet}]", key, params, line, label, value, cell, col)
        (self.report.add_warning if warn else self.report.add_error)(issue)

    def make(self, key, line=None, column=None, value=None, params=None) -> Issue:
        params = dict(params or {})
        if line is None or not 0 < line < len(self.origins):
            return Issue(self.name, key, params, line, column, value)
        sheet, sheet_line, cells = self.origins[line]
        if "first_line" in params and isinstance(params["first_line"], int) and 0 < params["first_line"] < len(
                self.origins):
            params["first_line"] = self.origins[params["first_line"]][1]
        label, ref = cells.get(column) or cells.get("unit_code") or (column, None)
        position = None
        if ref:
            m = re.match(r"[A-Z]+", ref)
            position = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(m.group()))) - 1 if m else None
        return Issue(f"{self.name} [{sheet}]", key, params, sheet_line, label, value, ref, position)


# --- columns --------------------------------------------------------------------------------

@dataclass
class Column:
    index: int
    label: str                         # header texts joined with ' / '
    indicator: str | None = None
    period: PeriodText | None = None
    part: str | None = None            # 'numerator' | 'denominator'
    skip: bool = False
    total_of: list[int] = field(default_factory=list)  # month columns a quarter/year column totals

    @property
    def letter(self) -> str:
        return column_letter(self.index + 1)


class IndicatorNames:
    def __init__(self, known):
        self.known = known
        self.exact: dict[str, str] = {}
        self.inside: list[tuple[str, str]] = []
        self.parts: list[tuple[str, str, str]] = []     # (folded label, indicator, part)
        for code, ind in known.indicators.items():
            self.exact[fold(code)] = code
            for f in ("name_vi", "name_en", "short_vi", "short_en"):
                if ind.get(f) and isinstance(ind.get(f), str):
                    self.exact.setdefault(fold(ind[f]), code)
                    if len(fold(ind[f])) >= 8:
                        self.inside.append((fold(ind[f]), code))
            for f, part in (("numerator_vi", "numerator"), ("numerator_en", "numerator"),
                            ("denominator_vi", "denominator"), ("denominator_en", "denominator")):
                if ind.get(f) and isinstance(ind.get(f), str) and len(fold(ind[f])) >= 4:
                    self.parts.append((fold(ind[f]), code, part))
        self.inside.sort(key=lambda x: -len(x[0]))

    def find(self, text) -> str | None:
        f = fold(text)
        if not f:
            return None
        if f in self.exact:
            return self.exact[f]
        found = {code for name, code in self.inside if name in f}
        return found.pop() if len(found) == 1 else None

    def part(self, text) -> tuple[str | None, str | None]:
        """(indicator, part) when the text is an indicator's numerator or denominator label."""
        f = fold(text)
        hits = {(code, part) for label, code, part in self.parts if f == label or (len(f) >= 8 and label in f)}
        return hits.pop() if len(hits) == 1 else (None, None)


def part_word(text) -> str | None:
    if text is None:
        return None
    raw = str(text)
    f = fold(raw)
    if "%" in raw or _starts(f, _RATE_WORDS):
        return "rate"
    if _starts(f, _DEN_WORDS):
        return "denominator"
    if _starts(f, _NUM_WORDS):
        return "numerator"
    if _starts(f, _SKIP_WORDS) or _starts(f, _STT_LABELS) == f:
        return "skip"
    return None


# --- reading one sheet ----------------------------------------------------------------------

@dataclass
class _Value:
    number: float | None
    line: int
    col: int
    label: str


@dataclass
class _DataRow:
    line: int
    code: str
    name_col: int
    groups: tuple[int, ...]            # ids of the generic groups (and unit groups) it is inside
    values: dict[tuple[str | None, str | None, str | None], _Value] = field(default_factory=dict)


@dataclass
class _TotalRow:
    line: int
    label: str
    unit: str | None                   # a unit subtotal
    group: int | None                  # a generic group's subtotal (id)
    grand: bool
    values: dict[tuple, _Value] = field(default_factory=dict)
    heading: str | None = None         # the unit of a zone row carrying its group's subtotal
    indicator: str | None = None       # inside an indicator's block: only its rows count


class SheetReader:
    def __init__(self, sheet: Sheet, known, issues: WideIssues, options: Options, file_year: int | None):
        self.sheet, self.known, self.issues, self.opt = sheet, known, issues, options
        self.names: UnitNames = known.unit_names()
        self.inds = IndicatorNames(known)
        self.mapping = options.mapping or Mapping()
        self.file_year = file_year
        self.failed = False
        self.unread: list[Column] = []
        self.block_ind: str | None = None
        self._by_parent: dict | None = None

    def error(self, key, line=None, col=None, label=None, value=None, **params):
        self.failed = True
        self.issues.at(self.sheet.title, key, line, col, label, value, **params)

    def warn(self, key, line=None, col=None, label=None, value=None, **params):
        self.issues.at(self.sheet.title, key, line, col, label, value, warn=True, **params)

    # header ----------------------------------------------------------------------------------
    def filled(self, line: int, col: int) -> Any:
        value = self.sheet.cell(line, col)
        if value is not None:
            return value
        for r0, c0, r1, c1 in self.sheet.merged:
            if r0 <= line <= r1 and c0 <= col + 1 <= c1:
                return self.sheet.cell(r0, c0 - 1)
        return None

    def header_cell(self, header: list[int], line: int, col: int) -> Any:
        """A header cell, merged cells spread; a blank upper header cell over a sub-header takes
        the period written to its left ('Tháng 1' centred across its two columns)."""
        value = self.filled(line, col)
        if value is not None or line == header[-1] or self.filled(header[-1], col) is None:
            return value
        for c in range(col - 1, -1, -1):
            left = self.filled(line, c)
            if left is not None:
                return left if read_period(left) is not None else None
            if self.filled(header[-1], c) is None:
                return None
        return None

    def _is_name_label(self, v) -> bool:
        f = fold(v) if isinstance(v, str) else ""
        return bool(f) and (_starts(f, _NAME_LABELS) is not None or f in ("xa phuong thi tran", "don vi bao cao"))

    def find_header(self) -> int | None:
        limit = min(len(self.sheet.rows), MAX_HEADER_SCAN)
        for line in range(1, limit + 1):
            row = self.sheet.rows[line - 1]
            if any(self._is_name_label(v) for v in row) and len([v for v in row if v is not None]) >= 2:
                return line
        for line in range(1, limit + 1):
            row = [self.filled(line, c) for c in range(self.sheet.width)]
            if sum(1 for v in row if read_period(v) is not None or self.inds.find(v)) >= 2:
                return line
        return None

    def header_rows(self, anchor: int) -> list[int]:
        rows = [anchor]
        name_cols = [c for c, v in enumerate(self.sheet.rows[anchor - 1]) if self._is_name_label(v)]
        line = anchor + 1
        while line <= len(self.sheet.rows) and len(rows) < 6:
            row = self.sheet.rows[line - 1]
            present = [v for v in row if v is not None]
            if not present:
                line += 1
                continue
            if len(present) >= 2 and all(_numbers_a_column(v) for v in present) and (
                    all(isinstance(v, str) for v in present) or self._consecutive(present)):
                self.number_row = line   # (1) (2) (3) … or A B 1 2 3: not a header, not data
                line += 1
                continue
            if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
                break
            if any(self._labels_a_unit(v) for v in present):
                break
            if any(row[c] is not None for c in name_cols if c < len(row)):
                break  # the name column holds something of its own: a data row (a block heading…)
            rows.append(line)
            line += 1
        self.first_data = line
        return rows

    @staticmethod
    def _consecutive(values) -> bool:
        """Numbers that count columns: increasing from 0, 1 or 2 (a data row's figures seldom do)."""
        nums = []
        for v in values:
            t = v.strip("() ") if isinstance(v, str) else v
            if isinstance(t, str) and t.isdigit():
                nums.append(int(t))
            elif isinstance(t, (int, float)):
                nums.append(int(t))
        return len(nums) >= 2 and nums[0] <= 2 and all(b > a for a, b in zip(nums, nums[1:]))

    def _labels_a_unit(self, v) -> bool:
        if not isinstance(v, str):
            return False
        f = fold(split_numbering(v)[1])
        return bool(f) and (f in self.names.by_full or _starts(f, _GRAND_WORDS) is not None)

    def columns(self, header: list[int]) -> tuple[list[Column], dict[str, int | None]]:
        width = self.sheet.width
        roles: dict[str, int | None] = {"name": None, "code": None, "stt": None}
        cols: list[Column] = []
        title_ind = self.sheet_indicator(header[0])
        for c in range(width):
            parts = []
            for line in header:
                v = self.header_cell(header, line, c)
                if v is not None and (not parts or parts[-1] != v):
                    parts.append(v)
            label = " / ".join(str(p) if not hasattr(p, "strftime") else p.strftime("%m/%Y") for p in parts)
            col = Column(c, label)
            mapped = self.mapping.columns.get(label, self.mapping.columns.get(col.letter))
            if mapped == "ignore" or (isinstance(mapped, dict) and mapped.get("ignore")):
                col.skip = True
                cols.append(col)
                continue
            folded = [fold(p) if isinstance(p, str) else "" for p in parts]
            if roles["code"] is None and any(f in _CODE_LABELS or f.startswith("ma ") for f in folded if f) and \
                    not any(read_period(p) for p in parts):
                roles["code"] = c
                continue
            if roles["stt"] is None and any(f in _STT_LABELS for f in folded if f):
                roles["stt"] = c
                continue
            if roles["name"] is None and any(self._is_name_label(p) for p in parts) and not any(
                    read_period(p) for p in parts):
                roles["name"] = c
                continue
            for p in parts:
                per = read_period(p, bare_year=True)
                if per is not None and col.period is None:
                    col.period = per
                    continue
                word = part_word(p)
                if word in ("rate", "skip"):
                    col.skip = True
                elif word and col.part is None:
                    col.part = word
                ind, part = self.inds.part(p)
                if ind and col.indicator is None:
                    col.indicator, col.part = ind, col.part or part
                ind = self.inds.find(p)
                if ind and col.indicator is None:
                    col.indicator = ind
            if isinstance(mapped, dict):
                col.indicator = mapped.get("indicator", col.indicator)
                if mapped.get("part"):
                    col.part = mapped["part"]
                if mapped.get("period"):
                    col.period = read_period(str(mapped["period"]))
            if not mapped and col.period is None and col.indicator is None and col.part is None and not col.skip:
                if label:
                    self.unread.append(col)
                continue  # no meaning in the header: a label column (Nội dung, Ghi chú…) or nothing
            if col.indicator is None:
                col.indicator = self.opt.indicator or self.mapping.indicator or title_ind
            cols.append(col)
        return cols, roles

    def sheet_indicator(self, anchor: int) -> str | None:
        found = set()
        for line in range(1, anchor):
            for v in self.sheet.rows[line - 1]:
                ind = self.inds.find(v) if isinstance(v, str) else None
                if ind:
                    found.add(ind)
        return found.pop() if len(found) == 1 else None

    def sheet_period(self, anchor: int) -> tuple[PeriodText | None, int | None]:
        """The period and the year the title rows (or the sheet's name) state."""
        period, year = None, None
        for line in range(1, anchor):
            for v in self.sheet.rows[line - 1]:
                if isinstance(v, str):
                    period = period or period_in_title(v)
                    year = year or year_in(v)
        by_name = read_period(self.sheet.title) or period_in_title(self.sheet.title)
        period = period or by_name
        year = year or year_in(self.sheet.title) or self.file_year
        if period is not None and period.year is None:
            period = period.with_year(year)
        return period, year

    # rows ------------------------------------------------------------------------------------
    def read(self) -> list[tuple[str, str, str, float | None, float | None, dict]]:
        anchor = self.find_header()
        if anchor is None:
            return []
        header = self.header_rows(anchor)
        cols, roles = self.columns(header)
        title_period, title_year = self.sheet_period(anchor)
        year = self.opt.year or self.mapping.year or title_year
        explicit = read_period(self.opt.period) if self.opt.period else None
        values = [c for c in cols if not c.skip and c.index not in roles.values()]
        if roles["name"] is None and roles["code"] is None:
            text_cols = [c for c in range(self.sheet.width) if c not in {v.index for v in values}]
            roles["name"] = text_cols[0] if text_cols else None
        if roles["name"] is None and roles["code"] is None:
            self.error("imp_wide_no_unit_column", anchor, None, None)
            return []
        first_value = min((c.index for c in values), default=self.sheet.width)
        label_cols = [c for c in range(first_value) if c not in (roles["code"], roles["stt"])]
        if roles["name"] is not None and roles["name"] not in label_cols:
            label_cols.append(roles["name"])
        values = [c for c in values if c.index not in label_cols]
        for c in self.unread:
            if c.index > first_value and self._column_has_figures(c.index):
                self.error("imp_wide_unknown_column", header[0], c.index, c.label, c.label)
        for c in values:
            if c.period is None:
                c.period = explicit or title_period
            elif c.period.year is None:
                c.period = c.period.with_year(year or (title_period.year if title_period else None))
            if c.period is None:
                self.error("imp_wide_no_period", header[-1], c.index, c.label, c.label)
            elif c.period.year is None:
                self.error("imp_wide_no_year", header[-1], c.index, c.label, c.label)
            if c.indicator is None and not self._rows_name_indicators():
                self.error("imp_wide_no_indicator", header[-1], c.index, c.label, c.label,
                           known=", ".join(sorted(self.known.indicators))[:300])
            elif c.indicator is not None and c.indicator not in self.known.indicators:
                self.error("imp_unknown_indicator", header[-1], c.index, c.label, c.indicator, hint="")
        if self.failed or not values:
            return []
        self._learn(cols, values)
        self._note_columns(values)
        return self._rows(values, label_cols, roles)

    def _column_has_figures(self, col: int) -> bool:
        for row in self.sheet.rows[self.first_data - 1:]:
            v = row[col] if col < len(row) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return True
        return False

    def _rows_name_indicators(self) -> bool:
        """Blocks: indicator headings among the rows."""
        for row in self.sheet.rows[self.first_data - 1:]:
            for v in row:
                if isinstance(v, str) and self.inds.find(split_numbering(v)[1]):
                    return True
        return False

    def _learn(self, cols: list[Column], values: list[Column]) -> None:
        learned = self.opt.learned
        if learned is None:
            return
        for c in cols:
            if c.skip and c.label:
                learned.columns.setdefault(c.label, "ignore")
        for c in values:
            spec = {}
            if c.indicator:
                spec["indicator"] = c.indicator
            if c.part:
                spec["part"] = c.part
            if spec and c.label:
                learned.columns.setdefault(c.label, spec)

    def _note_columns(self, values: list[Column]) -> None:
        if self.opt.understood is None:
            return
        for c in values:
            self.opt.understood.columns.append({
                "sheet": self.sheet.title, "letter": c.letter, "label": c.label,
                "months": c.period.months() if c.period and c.period.year else [],
                "indicator": c.indicator, "part": c.part})

    def _note_unit(self, line: int, col: int, bare: str, stack, code: str | None, status: str,
                   candidates=()) -> None:
        if self.opt.understood is None:
            return
        if status in ("ambiguous", "unknown"):
            key = f"{self.names.entities[stack[-1][0]].name} > {bare}" if stack else bare
        else:
            key = self._unit_key(bare, stack)
        pool = ([self.names.entities[code]] if code else []) + list(candidates)
        if code:  # the same name elsewhere, then the units beside it (dict look-ups: no fuzzy search per row)
            pool += self.names.by_bare.get(strip_prefix(fold(bare)), []) + self._beside(code)
        choices: list[tuple[str, str, str]] = []
        for e in pool:
            if e.code not in {c[0] for c in choices}:
                choices.append((e.code, e.name, e.kind))
        self.opt.understood.units.append({
            "sheet": self.sheet.title, "line": line, "cell": f"{column_letter(col + 1)}{line}", "written": bare,
            "key": key, "code": code, "status": status, "candidates": choices})

    def _beside(self, code: str) -> list:
        """Up to ``BESIDE`` entities of the same kind under the same parent as ``code``."""
        if self._by_parent is None:
            self._by_parent = {}
            for e in self.names.entities.values():
                self._by_parent.setdefault((e.ancestors[:1], e.kind), []).append(e)
        e = self.names.entities[code]
        return self._by_parent.get((e.ancestors[:1], e.kind), [])[:BESIDE]

    def _number(self, line: int, col: Column) -> tuple[float | None, bool]:
        """(number, ok)."""
        raw = self.sheet.cell(line, col.index)
        if raw is None and (line, col.index) in self.sheet.uncached:
            self.error("imp_wide_formula_uncached", line, col.index, col.label)
            return None, False
        if isinstance(raw, str) and raw.strip() in _DASHES:
            return None, True
        try:
            return read_number(raw, self.opt.number_format), True
        except CellError as exc:
            self.error(exc.key, line, col.index, col.label, raw, **exc.params)
            return None, False

    @staticmethod
    def _has_figure(row: list, cols: list[Column]) -> bool:
        for c in cols:
            v = row[c.index] if c.index < len(row) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return True
            if isinstance(v, BadCell) or (isinstance(v, str) and _NUMBERISH.match(v.strip())):
                return True
        return False

    def _reporters(self, indicators: set[str]) -> set[str]:
        kinds: set[str] = set()
        for i in indicators:
            kinds |= self.known.scopes.get(i, set())
        return kinds

    def _rows(self, values: list[Column], label_cols: list[int], roles: dict) -> list:
        sheet = self.sheet
        indicators = {c.indicator for c in values if c.indicator}
        months = sorted({m for c in values if c.period and c.period.year for m in c.period.months()})
        block_ind: str | None = None
        stack: list[tuple[str, int]] = []           # (unit code, group id) of the enclosing zone rows
        generic: list[tuple[int, int]] = []         # (roman depth marker, group id) of numbered headings
        group_ids = 0
        group_units: dict[int, str] = {}
        data: list[_DataRow] = []
        totals: list[_TotalRow] = []
        seen_units: dict[str, int] = {}
        last_row: _DataRow | None = None
        for line in range(self.first_data, len(sheet.rows) + 1):
            row = sheet.rows[line - 1]
            texts = [(c, row[c]) for c in label_cols if c < len(row) and row[c] is not None]
            label = " ".join(str(v).strip() for _, v in texts if not isinstance(v, BadCell)).strip()
            number_text = sheet.cell(line, roles["stt"]) if roles["stt"] is not None else None
            num_mark = numbering(number_text) if number_text is not None else None
            if not label and isinstance(number_text, str) and num_mark is None:
                label = number_text.strip()  # 'I. KHU VỰC MỘT' merged across the numbering and name columns
                texts = [(roles["stt"], number_text)]
            mark, bare = split_numbering(label) if label else (None, "")
            if texts and num_mark is None and mark is not None and bare:
                num_mark = mark
            elif not bare and label and numbering(label):
                num_mark, bare = numbering(label), ""
            code_raw = sheet.cell(line, roles["code"]) if roles["code"] is not None else None
            has_fig = self._has_figure(row, values)
            name_col = texts[0][0] if texts else (roles["code"] if roles["code"] is not None else 0)
            if not bare and code_raw is None:
                continue  # blank, or numbering alone
            folded = fold(bare)
            # a numerator / denominator row belonging to the unit row above
            part = part_word(bare) if bare else None
            ind_part = self.inds.part(bare) if bare else (None, None)
            if part in ("numerator", "denominator") or ind_part[1]:
                if last_row is None:
                    if has_fig:
                        self.error("imp_wide_part_without_unit", line, name_col, bare, bare)
                    continue
                part = ind_part[1] or part
                self._take(last_row, values, line, part, ind_part[0] or block_ind)
                continue
            # an indicator heading (blocks)
            heading_ind = self.inds.find(bare) if bare else None
            if heading_ind and not has_fig and code_raw is None:
                block_ind, last_row, stack, generic = heading_ind, None, [], []
                self.block_ind = block_ind
                if self.opt.understood is not None:
                    self.opt.understood.columns.append({"sheet": sheet.title, "letter": f"{line}", "label": bare,
                                                        "months": months, "indicator": heading_ind,
                                                        "part": "block"})
                indicators.add(heading_ind)
                continue
            # totals
            sub = _starts(folded, sorted(_SUB_WORDS, key=len, reverse=True))
            grand = None if sub else _starts(folded, sorted(_GRAND_WORDS, key=len, reverse=True))
            if (grand or sub) and code_raw is None:
                rest = folded[len(grand or sub):].strip()
                unit = None
                if rest:
                    res = self.names.resolve(rest, None, [u for u, _ in reversed(stack)], months)
                    unit = res.code
                total = _TotalRow(line, bare, unit, None, False)
                if unit is None:
                    current = (generic[-1][1] if generic and (not stack or generic[-1][1] > stack[-1][1])
                               else stack[-1][1] if stack else None)
                    if sub and current is not None:
                        total.group = current
                        # a bare 'Cộng' may also be the grand total: either sum will do
                        total.grand = not rest
                    else:
                        total.grand = True
                self._take_total(total, values, line)
                totals.append(total)
                last_row = None
                continue
            kinds = self._reporters(indicators | ({block_ind} if block_ind else set()))
            allowed = kinds | self._levels_above(kinds)
            within = [u for u, _ in reversed(stack)]
            code = None
            if code_raw is not None:
                try:
                    code, _ = read_code(code_raw)
                except CellError as exc:
                    self.error(exc.key, line, roles["code"], "code", code_raw, **exc.params)
                    continue
                if code not in self.names.entities:
                    hint = ""
                    if bare:
                        r = self.names.resolve(bare, allowed, within, months)
                        hint = shown([self.names.entities[r.code]]) if r.code else shown(r.candidates + r.suggestions)
                    self.error("imp_wide_unknown_code", line, roles["code"], "code", code,
                               hint=f" — {hint}?" if hint else "")
                    continue
            else:
                mapped = self._mapped_unit(bare, stack)
                if mapped:
                    code = mapped
                    if code not in self.names.entities:
                        self.error("imp_wide_unknown_code", line, name_col, bare, code, hint=" (mapping)")
                        self._note_unit(line, name_col, bare, stack, None, "unknown",
                                        self.names.suggest(fold(bare)))
                        continue
                    status = "mapping"
                else:
                    res = self.names.resolve(bare, allowed, within, months)
                    if res.candidates:
                        if has_fig or any(e.kind not in kinds for e in res.candidates):
                            self.error("imp_wide_ambiguous", line, name_col, bare, bare,
                                       candidates=shown(res.candidates, " hay/or "))
                            self._note_unit(line, name_col, bare, stack, None, "ambiguous", res.candidates)
                        continue
                    code = res.code
                    status = "name"
                    if code is None:
                        if num_mark and roman_value(num_mark) and not has_fig:
                            group_ids += 1
                            generic = [g for g in generic if g[0] < 1] + [(0, group_ids)]
                            stack = []
                            continue
                        if num_mark and roman_value(num_mark) and has_fig:
                            group_ids += 1
                            generic = [(0, group_ids)]
                            stack = []
                            total = _TotalRow(line, bare, None, group_ids, False)
                            self._take_total(total, values, line)
                            totals.append(total)
                            continue
                        if has_fig:
                            hint = shown(res.suggestions)
                            self.error("imp_wide_unknown_unit", line, name_col, bare, bare,
                                       hint=f"; có phải / did you mean {hint}?" if hint else "")
                            self._note_unit(line, name_col, bare, stack, None, "unknown", res.suggestions)
                        continue
            entity = self.names.entities[code]
            if self.opt.learned is not None and code_raw is None:
                self.opt.learned.units.setdefault(self._unit_key(bare, stack), code)
            if code_raw is None:
                self._note_unit(line, name_col, bare, stack, code, status)
            if entity.kind not in kinds:
                # a zone (or commune above its facilities): encloses the rows below; its figures are a subtotal
                while stack and stack[-1][0] not in entity.ancestors:
                    stack.pop()
                group_ids += 1
                stack.append((code, group_ids))
                group_units[group_ids] = code
                if has_fig:
                    total = _TotalRow(line, bare or code, None, group_ids, False)
                    total.heading = code
                    self._take_total(total, values, line)
                    totals.append(total)
                last_row = None
                continue
            if code in seen_units and block_ind is None and len(indicators) == len({c.indicator for c in values}):
                self.error("imp_wide_unit_twice", line, name_col, bare or code, bare or code,
                           first_line=seen_units[code])
                continue
            seen_units.setdefault(code, line)
            drow = _DataRow(line, code, name_col, tuple(g for _, g in stack) + tuple(g for _, g in generic))
            self._take(drow, values, line, None, block_ind)
            data.append(drow)
            last_row = drow
        self.indicators = indicators
        self._check_totals(totals, data, group_units)
        return self._long_rows(data, values)

    def _levels_above(self, kinds: set[str]) -> set[str]:
        deepest = max((UNIT_LEVELS.index(k) if k in UNIT_LEVELS else len(UNIT_LEVELS) for k in kinds), default=0)
        return set(UNIT_LEVELS[:deepest])

    def _mapped_unit(self, bare: str, stack) -> str | None:
        units = self.mapping.units
        if not units:
            return None
        for zone, _ in reversed(stack):
            key = f"{self.names.entities[zone].name} > {bare}"
            if key in units:
                return units[key]
        return units.get(bare)

    def _unit_key(self, bare: str, stack) -> str:
        full = fold(bare)
        if len(self.names.by_full.get(full, []) or self.names.by_bare.get(full, [])) > 1 and stack:
            return f"{self.names.entities[stack[-1][0]].name} > {bare}"
        return bare

    def _take(self, drow: _DataRow, values: list[Column], line: int, part: str | None, ind: str | None) -> None:
        for c in values:
            number, ok = self._number(line, c)
            if not ok:
                drow.values[("bad", c.index, line)] = _Value(None, line, c.index, c.label)
                continue
            p = c.part or part
            indicator = c.indicator or ind
            if number is None:
                continue
            if p is None:
                self.error("imp_wide_no_part", line, c.index, c.label, number)
                continue
            if indicator is None:
                self.error("imp_wide_no_indicator", line, c.index, c.label, number, known="")
                continue
            key = (indicator, c.index, p)
            if key in drow.values:
                self.error("imp_wide_twice", line, c.index, c.label, number, first_line=drow.values[key].line)
                continue
            drow.values[key] = _Value(number, line, c.index, c.label)

    def _take_total(self, total: _TotalRow, values: list[Column], line: int) -> None:
        total.indicator = self.block_ind
        for c in values:
            raw = self.sheet.cell(line, c.index)
            if raw is None:
                continue  # an uncached formula in a total is not checked, and not loaded anyway
            if isinstance(raw, str) and raw.strip() in _DASHES:
                continue
            try:
                number = read_number(raw, self.opt.number_format)
            except CellError as exc:
                self.error(exc.key, line, c.index, c.label, raw, **exc.params)
                continue
            if number is not None:
                total.values[c.index] = _Value(number, line, c.index, c.label)

    def _check_totals(self, totals: list[_TotalRow], data: list[_DataRow], group_units: dict[int, str]) -> None:
        for total in totals:
            scopes = []
            if total.unit is not None:
                scopes.append([r for r in data if total.unit in self.names.entities[r.code].ancestors])
            if total.group is not None:
                scopes.append([r for r in data if total.group in r.groups])
            if total.grand or not scopes:
                scopes.append(data)
            if total.heading is not None and not scopes[0] and total.values:
                first = min(total.values.values(), key=lambda v: v.col)
                kinds = self._reporters(self.indicators)
                below = [e for e in self.names.entities.values() if total.heading in e.ancestors and e.kind in kinds]
                self.error("imp_wide_not_reporter", total.line, first.col, first.label, total.label,
                           kinds=", ".join(sorted(kinds)),
                           hint=f"; có phải / did you mean {shown(below[:3])}?" if 0 < len(below) <= 3 else "")
                continue
            self._check_total(total, scopes)

    def _check_total(self, total: _TotalRow, scopes: list[list[_DataRow]]) -> None:
        for col_index, written in total.values.items():
            sums = []
            for rows in scopes:
                parts = [v.number for r in rows for (ind, c, p), v in r.values.items()
                         if ind != "bad" and c == col_index and v.number is not None
                         and (total.indicator is None or ind == total.indicator)]
                if parts:
                    sums.append((sum(parts), len(parts)))
            if not sums or any(abs(s_ - written.number) <= 1e-6 * max(1.0, abs(s_)) for s_, _ in sums):
                continue
            computed, count = sums[0]
            self.error("imp_wide_total_mismatch", total.line, col_index, written.label, written.number,
                       written=_plain(written.number), computed=_plain(computed), rows=count)

    def _long_rows(self, data: list[_DataRow], values: list[Column]) -> list:
        out = []
        by_index = {c.index: c for c in values}
        month_cols: dict[tuple, set[str]] = {}
        for c in values:
            if c.period and c.period.kind == "month":
                month_cols.setdefault((c.indicator, c.part), set()).add(c.period.label)
        for r in data:
            pairs: dict[tuple[str, str], dict[str, _Value]] = {}
            for key, v in r.values.items():
                ind, c, p = key
                if ind == "bad" or v.number is None:
                    continue
                per = by_index[c].period
                if per.kind != "month":
                    covered = month_cols.get((ind, p), set())
                    if covered & set(per.months()):
                        continue  # a quarter or year column beside its months: a total, not loaded
                    ind_row = self.known.indicators.get(ind, {})
                    if ind_row.get("time_agg") != "stock":
                        self.error("imp_wide_flow_period", v.line, v.col, v.label, v.number, period=per.label)
                        continue
                    month = per.months()[-1]
                else:
                    month = per.label
                pair = pairs.setdefault((ind, month), {})
                if p in pair:
                    self.error("imp_wide_twice", v.line, v.col, v.label, v.number, first_line=pair[p].line)
                    continue
                pair[p] = v
            for (ind, month), pair in pairs.items():
                num, den = pair.get("numerator"), pair.get("denominator")
                if num is None or den is None:
                    have = num or den
                    self.error("imp_wide_half_pair", have.line, have.col, have.label, have.number,
                               missing="mẫu số" if den is None else "tử số",
                               missing_en="denominator" if den is None else "numerator")
                    continue
                label_name = self.sheet.cell(r.line, r.name_col)
                cells = {"unit_code": (str(label_name) if label_name is not None else "unit",
                                       f"{column_letter(r.name_col + 1)}{r.line}"),
                         "numerator": (num.label, f"{column_letter(num.col + 1)}{num.line}"),
                         "denominator": (den.label, f"{column_letter(den.col + 1)}{den.line}"),
                         "period": (num.label, f"{column_letter(num.col + 1)}{num.line}"),
                         "indicator": (num.label, f"{column_letter(num.col + 1)}{num.line}")}
                out.append((ind, r.code, month, num.number, den.number, (r.line, cells)))
        return out


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


# --- a file -----------------------------------------------------------------------------------

def open_wide(path: Path, display: str, known, issues: WideIssues, options: Options,
              sheet: str | None = None) -> Table | None:
    """The figures of a wide workbook (every visible sheet holding a table, or ``sheet``) as a
    :class:`Table` of long rows, or None with the issues recorded."""
    if not path.is_file():
        issues.error("imp_file_not_found")
        return None
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".csv"):
        issues.error("imp_bad_extension", ext=path.suffix.lower() or "?")
        return None
    sheets, key, params = read_sheets(path, sheet)
    if key is not None:
        issues.error(key, **params)
        return None
    checksum = _scan_bytes(path)[0]
    file_year = year_in(path.stem)
    rows = []
    used = []
    for s in sheets:
        reader = SheetReader(s, known, issues, options, file_year)
        try:
            got = reader.read()
        except Exception as exc:  # noqa: BLE001 - a shape not foreseen: said, never a traceback
            reader.error("imp_wide_unreadable_sheet", detail=f"{exc.__class__.__name__}: {exc}"[:200])
            got = []
        if got or reader.failed:
            used.append(s.title)
        for ind, code, month, num, den, (line, cells) in got:
            issues.origins.append((s.title, line, cells))
            rows.append((len(issues.origins) - 1, [ind, code, month, num, den]))
    if not used:
        issues.error("imp_wide_no_table")
        return None
    source = f"{path.resolve()}#{','.join(used)}"
    return Table(display, source, checksum, True, list(LONG_HEADER), 0, iter(rows), len(rows), lambda: 0)


def looks_long(path: Path, sheet: str | None = None) -> bool:
    """True when the file's first row is (an attempt at) the long format's header: two of its
    column names (indicator, unit_code, period, numerator, denominator) or more, so that a long
    file with a column missing is told so rather than read as a report."""
    from .readers import open_table
    from .report import ImportReport

    scratch = ImportReport(kind="values", dry_run=True)
    table = open_table(path, path.name, IssueLog(scratch, path.name, False), sheet=sheet)
    if table is None:
        return True  # let the long reader say what is wrong with the file
    try:
        names = {str(c).strip().lower() for c in table.header if c is not None}
    finally:
        table.close()
    return len(set(LONG_HEADER) & names) >= 2
