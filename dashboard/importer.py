"""Import CSV and Excel files into the KPI tables, all or nothing.

``import_files(engine, kind, paths, user, dry_run)`` is the whole job, in three steps:

1. **read** every file into text cells (``read_table``): CSV must be UTF-8 (with or
   without BOM), ``.xlsx`` is read from its first sheet or a named one;
2. **check** every row of every file against the codes already in the database and
   against the other rows of the same batch (``check_*``), collecting *every* problem
   as an :class:`Issue` with file, line, column, value and a bilingual reason;
3. **load** in one transaction (``store.write_transaction``), only if step 2 found no
   error and this is not a dry run. One ``data_loads`` row per file says how many
   rows were added and how many replaced.

Nothing is written when anything is wrong, so the database stays byte-for-byte as it
was. The formats and rules are documented in ``docs/data-formats.md``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from . import sql, store
from .i18n import t

KINDS = ("units", "facilities", "indicators", "targets", "values")
UNIT_LEVELS = store.UNIT_LEVELS
FACILITY_TYPES = store.FACILITY_TYPES
LEVEL_ORDER = store.LEVEL_ORDER
ENTITY_KINDS = UNIT_LEVELS + tuple(f"facility:{t_}" for t_ in FACILITY_TYPES)
DEFAULT_SCOPE = ("commune",)
CODE_LIMIT = 32  # the width of every code column in the schema
VALUES_CHUNK = 5000

_TRUE = {"true", "1", "yes", "y", "có", "co", "x", "đúng"}
_FALSE = {"false", "0", "no", "n", "không", "khong", "sai"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}([.,]\d{3})+([.,]\d+)?$|^[+-]?\d+,\d+$")
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_INDICATOR_CODE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ZERO_PADDED = re.compile(r"^0+$")


@dataclass(frozen=True)
class Format:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


FORMATS: dict[str, Format] = {
    "units": Format(("code", "name", "level", "parent_code"), ("valid_from", "valid_to"), ("code",)),
    "facilities": Format(("code", "name", "type", "unit_code"), ("lat", "lon"), ("code",)),
    "indicators": Format(("code", "name_vi", "name_en", "time", "higher_is_better"),
                         ("numerator_vi", "denominator_vi", "numerator_en", "denominator_en", "decimals",
                          "reported_by"), ("code",)),
    "targets": Format(("indicator", "unit_code", "value", "deadline"), ("source", "note"),
                      ("indicator", "unit_code", "deadline")),
    "values": Format(("indicator", "unit_code", "period", "numerator", "denominator"), (),
                     ("indicator", "unit_code", "period")),
}

#: Columns holding codes: read as text, never as numbers.
CODE_COLUMNS = {"code", "parent_code", "unit_code", "indicator"}


# --- issues and reports ------------------------------------------------------------------

def both(key: str, **params) -> str:
    """'Vietnamese / English' for one locale key."""
    return f"{t(key, 'vi', **params)} / {t(key, 'en', **params)}"


@dataclass
class Issue:
    """One problem found in a file, in enough detail to find and fix it."""
    file: str
    key: str
    params: dict = field(default_factory=dict)
    line: int | None = None
    column: str | None = None
    value: Any = None
    cell: str | None = None  # 'C5' in a spreadsheet
    position: int | None = None  # the column's place in the file, to sort issues

    def reason(self, lang: str) -> str:
        return t(self.key, lang, **self.params)

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"dòng/line {self.line}")
        if self.column is not None:
            col = f"cột/column {self.column}"
            if self.cell:
                col += f" ({self.cell})"
            parts.append(col)
        return ", ".join(parts)

    def message(self) -> str:
        shown = "" if self.value is None else f" = {_show(self.value)!s}"
        return f"{self.where}{shown}: {self.reason('vi')} / {self.reason('en')}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "cell": self.cell,
                "value": None if self.value is None else str(self.value), "reason_vi": self.reason("vi"),
                "reason_en": self.reason("en"), "key": self.key}


def _show(value) -> str:
    text_ = value if isinstance(value, str) else str(value)
    if len(text_) > 60:
        text_ = text_[:57] + "..."
    return repr(text_)


@dataclass
class FileResult:
    name: str          # as shown in messages
    source: str        # as recorded in the audit (absolute path, '#sheet' for a workbook)
    checksum: str      # sha256 of the file's bytes
    rows: int = 0
    added: int = 0
    replaced: int = 0
    load_id: int | None = None


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    files: list[FileResult] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def replaced(self) -> int:
        return sum(f.replaced for f in self.files)

    def summary(self) -> str:
        if self.errors:
            return both("imp_summary_failed", errors=len(self.errors))
        key = "imp_summary_dry" if self.dry_run else "imp_summary_ok"
        return both(key, files=len(self.files), kind=self.kind, added=self.added, replaced=self.replaced)


class Progress:
    """Progress of long steps; the CLI shows a bar on stderr. This one shows nothing."""

    def start(self, stage: str, label: str, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def end(self) -> None:
        pass


class _Issues:
    """Collects issues for one file."""

    def __init__(self, report: ImportReport, name: str, cell_refs: bool):
        self.report, self.name, self.cell_refs = report, name, cell_refs
        self.columns: dict[str, int] = {}

    def _make(self, msg, line, column, value, params) -> Issue:
        cell, position = None, self.columns.get(column)
        if self.cell_refs and line is not None and position is not None:
            cell = f"{_column_letter(position + 1)}{line}"
        return Issue(self.name, msg, params, line, column, value, cell, position)

    def error(self, msg, line=None, column=None, value=None, **params) -> None:
        self.report.errors.append(self._make(msg, line, column, value, params))

    def warn(self, msg, line=None, column=None, value=None, **params) -> None:
        self.report.warnings.append(self._make(msg, line, column, value, params))


def _column_letter(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


# --- reading -----------------------------------------------------------------------------

@dataclass
class Table:
    """One file's cells. CSV cells are text; workbook cells keep Excel's type (text,
    int, float, bool, datetime) except that a number in a zero-padded format ('00000')
    becomes the text Excel shows."""
    name: str
    source: str
    checksum: str
    is_workbook: bool
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (line, cells)


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\ufeff", "")).strip()
    return value


def _encoding_name(raw: bytes) -> str:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
        name = best.encoding if best is not None else None
    except Exception:  # noqa: BLE001 - a guess only
        name = None
    if not name:
        return "?"
    friendly = {"cp1258": "Windows-1258 (cp1258)", "cp1252": "Windows-1252 (cp1252)",
                "cp1250": "Windows-1250 (cp1250)", "utf_16": "UTF-16", "utf_16_le": "UTF-16 LE",
                "utf_16_be": "UTF-16 BE", "utf_32": "UTF-32", "latin_1": "Latin-1 (ISO-8859-1)"}
    return friendly.get(name, name)


def read_table(path: Path, display: str, issues: _Issues, sheet: str | None = None,
               progress: Progress | None = None) -> Table | None:
    """Read a .csv or .xlsx file; None (with an issue recorded) if it cannot be read."""
    progress = progress or Progress()
    if not path.is_file():
        issues.error("imp_file_not_found")
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        issues.error("imp_xls_old")
        return None
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        issues.error("imp_bad_extension", ext=suffix or "?")
        return None
    raw = path.read_bytes()
    checksum = hashlib.sha256(raw).hexdigest()
    if suffix == ".csv":
        return _read_csv(raw, path, display, checksum, issues)
    return _read_xlsx(raw, path, display, checksum, issues, sheet, progress)


def _read_csv(raw: bytes, path: Path, display: str, checksum: str, issues: _Issues) -> Table | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        issues.error("imp_not_utf8", encoding=_encoding_name(raw))
        return None
    try:
        text_ = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        issues.error("imp_not_utf8", line=line, encoding=_encoding_name(raw))
        return None
    if not text_.strip():
        issues.error("imp_empty_file")
        return None
    first = text_.split("\n", 1)[0]
    delimiter = ";" if ("," not in first and ";" in first) else ","
    table = Table(display, str(path.resolve()), checksum, is_workbook=False)
    reader = csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            cells = [(c.strip() if c.isascii() else _nfc(c)) or None for c in cells]
            if not table.header:
                table.header = [c or "" for c in cells]
                table.header_line = line
                continue
            table.rows.append((line, cells))
    except csv.Error as exc:
        issues.error("imp_csv_syntax", line=reader.line_num, detail=str(exc))
        return None
    return table


def _xlsx_cell(cell) -> Any:
    value = cell.value
    if value is None:
        return None
    if isinstance(value, str):
        return _nfc(value) or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        fmt = getattr(cell, "number_format", "General") or "General"
        if _ZERO_PADDED.match(fmt) and float(value).is_integer():
            return str(int(value)).zfill(len(fmt))  # what Excel shows: '00004'
    return value


def _read_xlsx(raw: bytes, path: Path, display: str, checksum: str, issues: _Issues,
               sheet: str | None, progress: Progress) -> Table | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        issues.error("imp_xlsx_unreadable", detail=f"{exc.__class__.__name__}: {exc}"[:200])
        return None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            issues.error("imp_no_sheet", sheet=sheet, sheets=", ".join(book.sheetnames))
            return None
        table = Table(f"{display} [{ws.title}]", f"{path.resolve()}#{ws.title}", checksum, is_workbook=True)
        issues.name = table.name
        total = ws.max_row or 0
        progress.start("read", display, total)
        for line, row in enumerate(ws.iter_rows(), start=1):
            if line % 1000 == 0:
                progress.advance(1000)
            cells = [_xlsx_cell(c) for c in row]
            if all(c is None or c == "" for c in cells):
                continue
            if not table.header:
                table.header = ["" if c is None else _nfc(str(c)) for c in cells]
                table.header_line = line
                continue
            table.rows.append((line, cells))
        progress.end()
    finally:
        book.close()
    if not table.header:
        issues.error("imp_empty_file")
        return None
    return table


def map_header(table: Table, fmt: Format, issues: _Issues) -> dict[str, int] | None:
    """Column name -> position; None (with issues) if a required column is missing or a
    column is unknown. Names are compared without case and surrounding spaces."""
    positions: dict[str, int] = {}
    unknown, ok, line = [], True, table.header_line
    for i, name in enumerate(table.header):
        name = name.strip().lower()
        if not name:
            if any(i < len(cells) and cells[i] not in (None, "") for _, cells in table.rows):
                issues.error("imp_header_blank", line=line, position=i + 1)
                ok = False
            continue
        if name in positions:
            issues.error("imp_header_duplicate", line=line, column=name)
            ok = False
        elif name not in fmt.columns:
            unknown.append(name)
        positions.setdefault(name, i)
    if unknown:
        issues.error("imp_header_unknown", line=line, columns=", ".join(unknown), allowed=", ".join(fmt.columns))
        ok = False
    missing = [c for c in fmt.required if c not in positions]
    if missing:
        issues.error("imp_header_missing", line=line, columns=", ".join(missing))
        ok = False
    issues.columns = positions
    return positions if ok else None


# --- cell readers: (value or None, and an issue when wrong) --------------------------------

class _Bad(Exception):
    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def read_code(value) -> tuple[str | None, bool]:
    """A code as text; (code, was_a_number). Raises _Bad."""
    if value is None or value == "":
        return None, False
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        raise _Bad("imp_bad_code")
    if isinstance(value, (int, float)):
        if not float(value).is_integer():
            raise _Bad("imp_code_fraction")
        return str(int(value)), True
    code = str(value)
    if len(code) > CODE_LIMIT:
        raise _Bad("imp_code_too_long", limit=CODE_LIMIT)
    return code, False


def read_number(value) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        raise _Bad("imp_not_number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text_ = str(value).replace(" ", "").replace("\u00a0", "")
        if not _NUMBER.match(text_):
            raise _Bad("imp_decimal_comma" if _GROUPED.match(text_) else "imp_not_number")
        number = float(text_)
    if number != number or number in (float("inf"), float("-inf")):
        raise _Bad("imp_not_number")
    return number


def read_month(value, key: str = "imp_bad_month") -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):  # Excel turns '2025-07' into 1 July 2025
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH.match(str(value))
    if not m or not (1900 <= int(m[1]) <= 2200 and 1 <= int(m[2]) <= 12):
        raise _Bad(key)
    return str(value)


def read_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DATE.match(str(value))
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise _Bad("imp_bad_date") from None


def read_bool(value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text_ = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
    if text_ in _TRUE:
        return True
    if text_ in _FALSE:
        return False
    raise _Bad("imp_bad_bool")


def read_int(value, low: int, high: int) -> int | None:
    number = read_number(value)
    if number is None:
        return None
    if not number.is_integer() or not low <= number <= high:
        raise _Bad("imp_not_integer", low=low, high=high)
    return int(number)


# --- what the database already holds -----------------------------------------------------

def _month_of(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if isinstance(value, (date, datetime, pd.Timestamp)):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


@dataclass
class Known:
    """Codes in the database, loaded once per import so that rows are checked with set
    and dict look-ups, never one query per row."""
    units: dict[str, dict]
    facilities: dict[str, dict]
    indicators: dict[str, dict]
    scopes: dict[str, set[str]]
    targets: set[tuple[str, str, str]]

    @classmethod
    def load(cls, conn: Connection) -> "Known":
        units = sql.fetch_df(conn, "units")
        facilities = sql.fetch_df(conn, "facilities")
        indicators = sql.fetch_df(conn, "indicators")
        scopes = sql.fetch_df(conn, "indicator_scopes")
        targets = sql.fetch_df(conn, "targets")
        unit_map = {str(r.code): {"level": r.level, "parent_code": None if pd.isna(r.parent_code) else str(r.parent_code),
                                  "valid_from": _month_of(r.valid_from), "valid_to": _month_of(r.valid_to)}
                    for r in units.itertuples()}
        fac_map = {str(r.code): {"type": r.type, "unit_code": str(r.unit_code)} for r in facilities.itertuples()}
        ind_map = {str(r["code"]): r for r in indicators.to_dict("records")}
        scope_map: dict[str, set[str]] = {}
        for r in scopes.itertuples():
            scope_map.setdefault(str(r.indicator_code), set()).add(r.entity_kind)
        keys = {(str(r.indicator_code), str(r.scope_code), str(r.deadline)) for r in targets.itertuples()}
        return cls(unit_map, fac_map, ind_map, scope_map, keys)

    def entity_kind(self, code: str) -> str | None:
        if code in self.units:
            return self.units[code]["level"]
        if code in self.facilities:
            return f"facility:{self.facilities[code]['type']}"
        return None

    def validity(self, code: str) -> tuple[str | None, str | None]:
        unit = code if code in self.units else self.facilities.get(code, {}).get("unit_code")
        info = self.units.get(unit or "", {})
        return info.get("valid_from"), info.get("valid_to")


class _Suggest:
    """'Did you mean' hints for unknown codes, memoised per value."""

    def __init__(self, codes: Iterable[str], list_all: bool = False):
        self.codes = sorted(set(codes))
        self.list_all = list_all
        self.by_stripped: dict[str, list[str]] = {}
        self.by_fold: dict[str, list[str]] = {}
        for c in self.codes:
            self.by_stripped.setdefault(c.lstrip("0"), []).append(c)
            self.by_fold.setdefault(c.casefold(), []).append(c)
        self.memo: dict[tuple[str, bool], dict] = {}

    def hint(self, code: str, was_number: bool) -> dict:
        key = (code, was_number)
        if key not in self.memo:
            near = [c for c in self.by_stripped.get(code.lstrip("0"), []) + self.by_fold.get(code.casefold(), [])
                    if c != code]
            near = list(dict.fromkeys(near))[:5]
            hint_vi = hint_en = ""
            if near:
                hint_vi = t("imp_hint_did_you_mean", "vi", codes=", ".join(near))
                hint_en = t("imp_hint_did_you_mean", "en", codes=", ".join(near))
            elif self.list_all and self.codes:
                shown = ", ".join(self.codes[:20]) + (" …" if len(self.codes) > 20 else "")
                hint_vi = t("imp_hint_known", "vi", codes=shown)
                hint_en = t("imp_hint_known", "en", codes=shown)
            if was_number:
                hint_vi += t("imp_hint_number", "vi")
                hint_en += t("imp_hint_number", "en")
            self.memo[key] = {"vi": hint_vi, "en": hint_en}
        return self.memo[key]


class _HintIssue(Issue):
    """An issue whose {hint} differs by language."""

    def reason(self, lang: str) -> str:
        params = dict(self.params)
        params["hint"] = params.get("hint", {}).get(lang, "")
        return t(self.key, lang, **params)


# --- checking ----------------------------------------------------------------------------

class _Row:
    """Typed access to one row's cells, recording an issue for each bad cell."""

    __slots__ = ("line", "cells", "cols", "issues", "bad")

    def __init__(self, line: int, cells: list, cols: dict[str, int], issues: _Issues):
        self.line, self.cells, self.cols, self.issues, self.bad = line, cells, cols, issues, False

    def raw(self, column: str):
        i = self.cols.get(column)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def get(self, column: str, reader: Callable, *args, required: bool = False, missing: str = "imp_missing_value"):
        raw = self.raw(column)
        try:
            value = reader(raw, *args)
        except _Bad as bad:
            self.fail(bad.key, column, raw, **bad.params)
            return None
        if value is None and required:
            self.fail(missing, column)
        return value

    def code(self, column: str, required: bool = True) -> tuple[str | None, bool]:
        raw = self.raw(column)
        try:
            code, was_number = read_code(raw)
        except _Bad as bad:
            self.fail(bad.key, column, raw, **bad.params)
            return None, False
        if code is None and required:
            self.fail("imp_missing_value", column)
        return code, was_number

    def text(self, column: str, required: bool = False) -> str | None:
        raw = self.raw(column)
        value = None if raw is None or raw == "" else _nfc(str(raw))
        if value is None and required:
            self.fail("imp_missing_value", column)
        return value

    def fail(self, msg: str, column: str | None = None, value=None, **params) -> None:
        self.bad = True
        self.issues.error(msg, self.line, column, value, **params)

    def fail_hint(self, msg: str, column: str, value, hint: dict, **params) -> None:
        self.bad = True
        issue = self.issues._make(msg, self.line, column, value, {**params, "hint": hint})
        self.issues.report.errors.append(_HintIssue(**issue.__dict__))


@dataclass
class _Batch:
    """Rows of one kind from every file of one command, with where each came from."""
    kind: str
    known: Known
    report: ImportReport
    rows: list[dict] = field(default_factory=list)
    keys: dict[tuple, tuple[str, int]] = field(default_factory=dict)  # key -> (file, line)

    def claim(self, key: tuple, row: _Row, column: str) -> bool:
        """Register a key; an issue if another row already holds it."""
        first = self.keys.get(key)
        shown = "/".join(str(k) for k in key)
        if first is None:
            self.keys[key] = (row.issues.name, row.line)
            return True
        if first[0] == row.issues.name:
            row.fail("imp_duplicate", column, None, dup_key=shown, first_line=first[1])
        else:
            row.fail("imp_duplicate_file", column, None, dup_key=shown, first_file=first[0], first_line=first[1])
        return False


def _this_month() -> str:
    now = datetime.now(timezone.utc)
    return f"{now.year:04d}-{now.month:02d}"


def check_values(batch: _Batch, table: Table, cols: dict[str, int], issues: _Issues, file: FileResult,
                 progress: Progress) -> None:
    known = batch.known
    ind_hint = _Suggest(known.indicators, list_all=True)
    ent_hint = _Suggest(list(known.units) + list(known.facilities))
    now = _this_month()
    ix = [cols[c] for c in FORMATS["values"].required]
    width = len(table.header)
    progress.start("check", table.name, len(table.rows))
    for n, (line, cells) in enumerate(table.rows, start=1):
        if n % 1000 == 0:
            progress.advance(1000)
        good = _clean_value_row(cells, ix, width, known, now, batch.keys)
        if good is not None:
            key, num, den = good
            batch.keys[key] = (issues.name, line)
            batch.rows.append({"indicator": key[0], "unit_code": key[1], "period": key[2], "numerator": num,
                               "denominator": den, "_file": file})
            file.rows += 1
            continue
        row = _Row(line, cells, cols, issues)
        _check_width(row, table)
        ind, ind_num = row.code("indicator")
        ent, ent_num = row.code("unit_code")
        period = row.get("period", read_month, "imp_bad_period", required=True)
        num = row.get("numerator", read_number, required=True, missing="imp_missing_number")
        den = row.get("denominator", read_number, required=True, missing="imp_missing_number")
        if ind is not None and ind not in known.indicators:
            row.fail_hint("imp_unknown_indicator", "indicator", ind, ind_hint.hint(ind, ind_num))
            ind = None
        kind = None
        if ent is not None:
            kind = known.entity_kind(ent)
            if kind is None:
                row.fail_hint("imp_unknown_entity", "unit_code", ent, ent_hint.hint(ent, ent_num))
        if period is not None and period > now:
            row.fail("imp_future_period", "period", period, month=now)
        for column, number in (("numerator", num), ("denominator", den)):
            if number is not None and number < 0:
                row.fail("imp_negative", column, row.raw(column))
            elif number is not None:
                _warn_thousands(row, column)
        if num is not None and den is not None and 0 <= den < num:
            row.fail("imp_num_gt_den", "numerator", row.raw("numerator"),
                     numerator=_plain(num), denominator=_plain(den))
        if ind is not None and kind is not None:
            scopes = known.scopes.get(ind, set())
            if not scopes:
                row.fail("imp_no_scopes", "indicator", ind, indicator=ind)
            elif kind not in scopes:
                row.fail("imp_not_expected", "unit_code", ent, indicator=ind, kinds=", ".join(sorted(scopes)),
                         kind=kind)
            elif period is not None:
                vf, vt = known.validity(ent)
                if (vf and period < vf) or (vt and period > vt):
                    row.fail("imp_not_valid", "period", period, code=ent, period=period,
                             valid=f"{vf or '…'} → {vt or '…'}")
        if ind is not None and ent is not None and period is not None:
            if not batch.claim((ind, ent, period), row, "unit_code"):
                continue
        if not row.bad:
            batch.rows.append({"indicator": ind, "unit_code": ent, "period": period, "numerator": num,
                               "denominator": den, "_file": file})
            file.rows += 1
    progress.end()


def _clean_value_row(cells: list, ix: list[int], width: int, known: Known, now: str, keys: dict):
    """The common case, a row with nothing to report, checked in one pass: ((indicator,
    entity, month), numerator, denominator), or None to send the row through the full
    checks above, which say what is wrong. Stricter than those, never looser."""
    if len(cells) > width:
        return None
    try:
        ind, ent, period, num, den = [cells[i] for i in ix]
    except IndexError:
        return None
    if ind.__class__ is not str or ent.__class__ is not str or period.__class__ is not str:
        return None
    if ind not in known.indicators or len(ent) > CODE_LIMIT or period > now or not _MONTH.match(period):
        return None
    if not (1900 <= int(period[:4]) <= 2200 and 1 <= int(period[5:]) <= 12):
        return None
    num, den = _clean_number(num), _clean_number(den)
    if num is None or den is None or num < 0 or den < num:
        return None
    kind = known.entity_kind(ent)
    if kind is None or kind not in known.scopes.get(ind, ()):
        return None
    vf, vt = known.validity(ent)
    if (vf and period < vf) or (vt and period > vt):
        return None
    key = (ind, ent, period)
    if key in keys:
        return None
    return key, num, den


def _clean_number(value) -> float | None:
    if value.__class__ is str:
        if not _NUMBER.match(value) or _THOUSANDS.match(value):
            return None
        number = float(value)
    elif value.__class__ in (int, float):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def _warn_thousands(row: _Row, column: str) -> None:
    raw = row.raw(column)
    if isinstance(raw, str) and _THOUSANDS.match(raw.strip()):
        row.issues.warn("imp_thousands", row.line, column, raw, number=raw.strip())


def _check_width(row: _Row, table: Table) -> None:
    width = len(table.header)
    if len(row.cells) > width and any(c not in (None, "") for c in row.cells[width:]):
        row.fail("imp_extra_cells", None, None, cells=len(row.cells), columns=width)


def check_units(batch: _Batch, table: Table, cols, issues: _Issues, file: FileResult, progress: Progress) -> None:
    known = batch.known
    for line, cells in table.rows:
        row = _Row(line, cells, cols, issues)
        _check_width(row, table)
        code, code_num = row.code("code")
        name = row.text("name", required=True)
        level = row.text("level", required=True)
        parent, parent_num = row.code("parent_code", required=False)
        vf = row.get("valid_from", read_date)
        vt = row.get("valid_to", read_date)
        if level is not None and level not in UNIT_LEVELS:
            row.fail("imp_bad_choice", "level", level, allowed=", ".join(UNIT_LEVELS))
            level = None
        if code_num:
            issues.warn("imp_code_number", line, "code", row.raw("code"), code=code)
        if vf and vt and vt < vf:
            row.fail("imp_date_order", "valid_to", row.raw("valid_to"))
        if code is not None and code in known.facilities:
            row.fail("imp_code_is_facility", "code", code)
        if code is not None and not batch.claim((code,), row, "code"):
            continue
        if not row.bad:
            batch.rows.append({"code": code, "name": name, "level": level, "parent_code": parent,
                               "valid_from": vf, "valid_to": vt, "_file": file, "_line": line,
                               "_issues": issues, "_parent_num": parent_num})
            file.rows += 1


def check_unit_tree(batch: _Batch) -> None:
    """After every units row is read: parents exist (in the database or the batch), sit
    above their children, and no chain loops. Existing children stay below changed units."""
    known = batch.known
    level = {c: u["level"] for c, u in known.units.items()}
    parent = {c: u["parent_code"] for c, u in known.units.items()}
    for r in batch.rows:
        level[r["code"]] = r["level"]
        parent[r["code"]] = r["parent_code"]
    hint = _Suggest(level)
    bad_codes: set[str] = set()
    for r in batch.rows:
        row = _Row(r["_line"], [], {}, r["_issues"])
        p = r["parent_code"]
        if p is None:
            if r["level"] != "province":
                row.fail("imp_parent_required", "parent_code", None, level=r["level"])
                bad_codes.add(r["code"])
            continue
        if p not in level:
            row.fail_hint("imp_unknown_unit", "parent_code", p, hint.hint(p, r["_parent_num"]))
            bad_codes.add(r["code"])
        elif LEVEL_ORDER[level[p]] >= LEVEL_ORDER[r["level"]]:
            row.fail("imp_parent_level", "parent_code", p, parent=p, parent_level=level[p], level=r["level"])
            bad_codes.add(r["code"])
    reported: set[frozenset] = set()
    for r in batch.rows:
        chain, cur = [r["code"]], parent.get(r["code"])
        while cur is not None and cur in level:
            if cur in chain:
                loop = chain[chain.index(cur):] + [cur]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    _Row(r["_line"], [], {}, r["_issues"]).fail(
                        "imp_cycle", "parent_code", r["parent_code"], chain=" → ".join(loop))
                break
            chain.append(cur)
            cur = parent.get(cur)
    in_batch = {r["code"]: r for r in batch.rows}
    for child, info in known.units.items():
        p = info["parent_code"]
        if child in in_batch or p not in in_batch:
            continue
        r = in_batch[p]
        if LEVEL_ORDER[r["level"]] >= LEVEL_ORDER[info["level"]]:
            _Row(r["_line"], [], {}, r["_issues"]).fail("imp_child_level", "level", r["level"], child=child,
                                                         child_level=info["level"], level=r["level"])


def check_facilities(batch: _Batch, table: Table, cols, issues: _Issues, file: FileResult,
                     progress: Progress) -> None:
    known = batch.known
    hint = _Suggest(known.units)
    for line, cells in table.rows:
        row = _Row(line, cells, cols, issues)
        _check_width(row, table)
        code, code_num = row.code("code")
        name = row.text("name", required=True)
        type_ = row.text("type", required=True)
        unit, unit_num = row.code("unit_code")
        lat = row.get("lat", read_number)
        lon = row.get("lon", read_number)
        if type_ is not None and type_ not in FACILITY_TYPES:
            row.fail("imp_bad_choice", "type", type_, allowed=", ".join(FACILITY_TYPES))
        if code_num:
            issues.warn("imp_code_number", line, "code", row.raw("code"), code=code)
        if code is not None and code in known.units:
            row.fail("imp_code_is_unit", "code", code)
        if unit is not None and unit not in known.units:
            row.fail_hint("imp_unknown_unit", "unit_code", unit, hint.hint(unit, unit_num))
        if lat is not None and not -90 <= lat <= 90:
            row.fail("imp_range", "lat", row.raw("lat"), low=-90, high=90)
        if lon is not None and not -180 <= lon <= 180:
            row.fail("imp_range", "lon", row.raw("lon"), low=-180, high=180)
        if code is not None and not batch.claim((code,), row, "code"):
            continue
        if not row.bad:
            batch.rows.append({"code": code, "name": name, "type": type_, "unit_code": unit, "lat": lat,
                               "lon": lon, "_file": file})
            file.rows += 1


def _read_kinds(value) -> list[str] | None:
    if value is None or value == "":
        return None
    kinds = [k.strip() for k in re.split(r"[;,|\s]+", str(value)) if k.strip()]
    for kind in kinds:
        if kind not in ENTITY_KINDS:
            raise _Bad("imp_bad_kind", kind=kind, allowed=", ".join(ENTITY_KINDS))
    return list(dict.fromkeys(kinds))


def check_indicators(batch: _Batch, table: Table, cols, issues: _Issues, file: FileResult,
                     progress: Progress) -> None:
    known = batch.known
    for line, cells in table.rows:
        row = _Row(line, cells, cols, issues)
        _check_width(row, table)
        code, _ = row.code("code")
        if code is not None and not _INDICATOR_CODE.match(code):
            row.fail("imp_bad_code", "code", code)
        values = {c: row.text(c, required=c in ("name_vi", "name_en"))
                  for c in ("name_vi", "name_en", "numerator_vi", "denominator_vi", "numerator_en", "denominator_en")}
        time_ = row.text("time", required=True)
        if time_ is not None and time_.lower() not in ("stock", "flow"):
            row.fail("imp_bad_choice", "time", time_, allowed="stock, flow")
        hib = row.get("higher_is_better", read_bool, required=True)
        decimals = row.get("decimals", read_int, 0, 4)
        kinds = row.get("reported_by", _read_kinds)
        if code is not None and not batch.claim((code,), row, "code"):
            continue
        if row.bad:
            continue
        time_ = time_.lower()
        old = known.indicators.get(code)
        if old is None and kinds is None:
            issues.warn("imp_default_scope", line, "reported_by")
            kinds = list(DEFAULT_SCOPE)
        if old is not None and old["time_agg"] != time_:
            issues.warn("imp_time_changed", line, "time", time_, old=old["time_agg"], new=time_)
        batch.rows.append({"code": code, **values, "time": time_, "higher_is_better": hib, "decimals": decimals,
                           "reported_by": kinds, "_file": file})
        file.rows += 1


def check_targets(batch: _Batch, table: Table, cols, issues: _Issues, file: FileResult,
                  progress: Progress) -> None:
    known = batch.known
    ind_hint = _Suggest(known.indicators, list_all=True)
    ent_hint = _Suggest(list(known.units) + list(known.facilities))
    for line, cells in table.rows:
        row = _Row(line, cells, cols, issues)
        _check_width(row, table)
        ind, ind_num = row.code("indicator")
        scope, scope_num = row.code("unit_code")
        value = row.get("value", read_number, required=True)
        deadline = row.get("deadline", read_month, required=True)
        source = row.text("source")
        note = row.text("note")
        if ind is not None and ind not in known.indicators:
            row.fail_hint("imp_unknown_indicator", "indicator", ind, ind_hint.hint(ind, ind_num))
        if scope is not None and known.entity_kind(scope) is None:
            row.fail_hint("imp_unknown_entity", "unit_code", scope, ent_hint.hint(scope, scope_num))
        if value is not None:
            if value < 0:
                row.fail("imp_negative", "value", row.raw("value"))
            elif ind in known.indicators and known.indicators[ind].get("display_unit") == "%" and value > 100:
                row.fail("imp_percent_range", "value", row.raw("value"))
        if ind is not None and scope is not None and deadline is not None:
            if not batch.claim((ind, scope, deadline), row, "deadline"):
                continue
        if not row.bad:
            batch.rows.append({"indicator": ind, "unit_code": scope, "value": value, "deadline": deadline,
                               "source": source, "note": note, "_file": file})
            file.rows += 1


CHECKS = {"units": check_units, "facilities": check_facilities, "indicators": check_indicators,
          "targets": check_targets, "values": check_values}


# --- loading -----------------------------------------------------------------------------

def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns, dtype=object)


def _by_file(rows: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(id(r["_file"]), []).append(r)
    return out


def _count_new(batch: _Batch, key: Callable[[dict], Any], existing: set) -> None:
    """Per file: rows whose key is new (added) and rows that replace a stored one."""
    for r in batch.rows:
        f = r["_file"]
        if key(r) in existing:
            f.replaced += 1
        else:
            f.added += 1


def _indicator_records(batch: _Batch) -> list[dict]:
    """Imported fields laid over the stored definition, so that re-importing a built-in
    indicator keeps its short names, gap sentences, headline position and order."""
    known = batch.known
    next_order = max((int(i.get("sort_order") or 0) for i in known.indicators.values()), default=-1) + 1
    out = []
    for r in batch.rows:
        old = known.indicators.get(r["code"])
        if old is not None:
            record = {k: _native(v) for k, v in old.items()}
            record["time"] = record.pop("time_agg")
            record["group"] = record.pop("grp")
        else:
            record = {"sort_order": next_order}
            next_order += 1
        for column in ("code", "name_vi", "name_en", "time", "higher_is_better"):
            record[column] = r[column]
        for column in ("numerator_vi", "denominator_vi", "numerator_en", "denominator_en", "decimals"):
            if r[column] is not None:
                record[column] = r[column]
        if record.get("decimals") is None:
            record.pop("decimals", None)
        if r["reported_by"]:
            record["reported_by"] = r["reported_by"]
        out.append(record)
    return out


def _native(value):
    """Plain Python values for the driver: NaN -> None, numpy scalars -> Python, 1.0 -> 1."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            return int(value)
    return value


def _existing_value_keys(conn: Connection, rows: list[dict]) -> set[tuple[str, str, str]]:
    """(indicator, entity, month) already stored among those the rows touch: one query
    per indicator over the months the batch covers."""
    spans: dict[str, tuple[str, str]] = {}
    for r in rows:
        lo, hi = spans.get(r["indicator"], (r["period"], r["period"]))
        spans[r["indicator"]] = (min(lo, r["period"]), max(hi, r["period"]))
    keys: set[tuple[str, str, str]] = set()
    for ind, (start, end) in spans.items():
        for entity, period in conn.execute(sql.statement("import_value_keys"),
                                           {"indicator": ind, "start": start, "end": end}):
            keys.add((ind, str(entity), str(period)))
    return keys


def count_changes(conn: Connection, batch: _Batch) -> None:
    """Fill each file's added/replaced from what is stored now (dry runs and audit)."""
    known = batch.known
    if batch.kind == "units":
        _count_new(batch, lambda r: r["code"], set(known.units))
    elif batch.kind == "facilities":
        _count_new(batch, lambda r: r["code"], set(known.facilities))
    elif batch.kind == "indicators":
        _count_new(batch, lambda r: r["code"], set(known.indicators))
    elif batch.kind == "targets":
        _count_new(batch, lambda r: (r["indicator"], r["unit_code"], r["deadline"]), known.targets)
    else:
        existing = _existing_value_keys(conn, batch.rows)
        _count_new(batch, lambda r: (r["indicator"], r["unit_code"], r["period"]), existing)


def load_batch(conn: Connection, batch: _Batch, files: list[FileResult], user: str | None,
               progress: Progress) -> None:
    """Write a checked batch inside the caller's transaction, one audit row per file."""
    count_changes(conn, batch)
    for f in files:
        f.load_id = store.record_load(conn, kind=batch.kind, source_file=f.source, checksum=f.checksum, user=user)
    kind = batch.kind
    if kind == "units":
        rows = sorted(batch.rows, key=lambda r: r["code"])
        store.upsert_units(conn, _frame(rows, ["code", "name", "level", "parent_code", "valid_from", "valid_to"]))
        store.rebuild_hierarchy(conn)
    elif kind == "facilities":
        store.upsert_facilities(conn, _frame(batch.rows, ["code", "name", "type", "unit_code", "lat", "lon"]))
        store.rebuild_hierarchy(conn)
    elif kind == "indicators":
        store.upsert_indicators(conn, _indicator_records(batch))
    elif kind == "targets":
        store.upsert_targets(conn, _frame(batch.rows, ["indicator", "unit_code", "value", "deadline", "source",
                                                       "note"]))
    else:
        _load_values(conn, batch, files, progress)
    for f in files:
        store.finish_load(conn, f.load_id, f.added, f.replaced)


def _load_values(conn: Connection, batch: _Batch, files: list[FileResult], progress: Progress) -> None:
    columns = ["indicator", "unit_code", "period", "numerator", "denominator"]
    groups = _by_file(batch.rows)
    progress.start("write", batch.kind, len(batch.rows))
    for f in files:
        rows = groups.get(id(f), [])
        added = replaced = 0
        for start in range(0, len(rows), VALUES_CHUNK):
            chunk = rows[start:start + VALUES_CHUNK]
            frame = pd.DataFrame([[r[c] for c in columns] for r in chunk], columns=columns)
            a, r = store.upsert_values(conn, frame, f.load_id)
            added, replaced = added + a, replaced + r
            progress.advance(len(chunk))
        # The counts store.upsert_values returns and those worked out beforehand must agree.
        if (added, replaced) != (f.added, f.replaced):
            raise RuntimeError(f"row counts disagree for {f.name}: {(added, replaced)} != {(f.added, f.replaced)}")
    progress.end()


# --- the whole job -----------------------------------------------------------------------

def import_files(engine: Engine, kind: str, paths: list[str | Path], user: str | None = None,
                 dry_run: bool = False, sheet: str | None = None,
                 progress: Progress | None = None) -> ImportReport:
    """Check every file, then load them all in one transaction (all or nothing).

    Returns an :class:`ImportReport`; nothing is written when ``report.errors`` is not
    empty or ``dry_run`` is true."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    progress = progress or Progress()
    report = ImportReport(kind=kind, dry_run=dry_run)
    fmt = FORMATS[kind]
    with engine.connect() as conn:
        known = Known.load(conn)
    batch = _Batch(kind, known, report)
    names = _display_names([Path(p) for p in paths])
    results: list[FileResult] = []
    for path, name in zip((Path(p) for p in paths), names):
        issues = _Issues(report, name, cell_refs=path.suffix.lower() in (".xlsx", ".xlsm"))
        table = read_table(path, name, issues, sheet=sheet, progress=progress)
        if table is None:
            continue
        file = FileResult(table.name, table.source, table.checksum)
        results.append(file)
        cols = map_header(table, fmt, issues)
        if cols is None:
            continue
        if not table.rows:
            issues.error("imp_no_rows")
            continue
        CHECKS[kind](batch, table, cols, issues, file, progress)
    if kind == "units" and batch.rows:
        check_unit_tree(batch)
    report.files = results
    order = {name: i for i, name in enumerate(dict.fromkeys(i.file for i in report.errors + report.warnings))}
    for issues in (report.errors, report.warnings):
        issues.sort(key=lambda i: (order[i.file], i.line or 0, -1 if i.position is None else i.position))
    if report.errors:
        return report
    if dry_run:
        with engine.connect() as conn:
            count_changes(conn, batch)
        return report
    try:
        with store.write_transaction(engine) as conn:
            load_batch(conn, batch, results, user or store.current_user(), progress)
    except SQLAlchemyError as exc:
        for f in results:
            f.added = f.replaced = 0
            f.load_id = None
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        report.errors.append(Issue(", ".join(f.name for f in results), "imp_db_error", {"detail": detail}))
        return report
    report.written = True
    return report


def _display_names(paths: list[Path]) -> list[str]:
    """File names as given; full paths only where two files share a name."""
    names = [p.name for p in paths]
    return [str(p) if names.count(p.name) > 1 else p.name for p in paths]
