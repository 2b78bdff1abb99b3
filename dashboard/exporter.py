"""Export the figures the dashboard shows, as CSV or Excel.

Every number comes from ``dashboard.figures.figures`` — the same frame the map, the tables
and the JSON API read — so an export agrees with the screen to the last digit. Numbers
are written unrounded: CSV with a dot as decimal separator and no thousands separator
(UTF-8 with BOM so Excel shows Vietnamese correctly), Excel as real numbers.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from . import figures
from .i18n import t
from .periods import PeriodError, parse_period

EXPORT_COLUMNS = ["code", "name", "level", "parent_code", "numerator", "denominator", "value", "target",
                  "status", "reported"]
FORMATS = ("csv", "xlsx")
STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data", "no_target")


class ExportError(ValueError):
    """A bad argument; the message is bilingual and names it."""


def _both(key: str, **params) -> str:
    return f"{t(key, 'vi', **params)} / {t(key, 'en', **params)}"


@dataclass(frozen=True)
class Request:
    indicator: str
    period: str
    level: str = "commune"
    parent: str | None = None


def check_request(indicator: str, period: str, level: str = "commune", parent: str | None = None) -> Request:
    """Validate the arguments against the database; raises ExportError with a bilingual message."""
    try:
        figures.indicator(indicator)
    except figures.UnknownIndicator as exc:
        raise ExportError(str(exc)) from None
    try:
        label = parse_period(period).label
    except PeriodError as exc:
        raise ExportError(str(exc)) from None
    if level not in figures.LEVELS:
        raise ExportError(_both("exp_bad_level", level=level, allowed=", ".join(figures.LEVELS)))
    if parent:
        try:
            parent_level = figures.entity(parent)["level"]
        except figures.UnknownUnit as exc:
            raise ExportError(str(exc)) from None
        if figures.LEVELS.index(parent_level) >= figures.LEVELS.index(level):
            raise ExportError(_both("exp_parent_level", parent=parent, parent_level=parent_level, level=level))
    return Request(indicator, label, level, parent or None)


def export_frame(indicator: str, period: str, level: str = "commune", parent: str | None = None) -> pd.DataFrame:
    """The exported rows: figures.figures() restricted to EXPORT_COLUMNS.

    ``reported`` is the number of entities expected to report the indicator (beneath each
    row's unit) that did report in the period — the same count the JSON API gives."""
    req = check_request(indicator, period, level, parent)
    frame = figures.figures(req.indicator, req.period, req.level, req.parent)
    return frame[EXPORT_COLUMNS].reset_index(drop=True)


def clean_number(value) -> str:
    """Unrounded but clean: '' for missing, '1165558' for a whole number, '85.31234' with a
    dot otherwise; never scientific notation, never a thousands separator."""
    if value is None:
        return ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return ""
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return np.format_float_positional(number, unique=True, trim="-")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


NUMERIC = {"numerator", "denominator", "value", "target", "reported"}


def write_csv(frame: pd.DataFrame, out: IO[bytes]) -> int:
    """UTF-8 with BOM (Excel then reads Vietnamese correctly), comma-separated, CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in frame[EXPORT_COLUMNS].itertuples(index=False):
        writer.writerow([clean_number(v) if c in NUMERIC else _text(v) for c, v in zip(EXPORT_COLUMNS, row)])
    out.write(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return len(frame)


def _cell(column: str, value):
    if column in NUMERIC:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        number = float(value)
        return int(number) if column == "reported" else number
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def write_xlsx(frame: pd.DataFrame, out: IO[bytes] | str | Path, req: Request) -> int:
    """Sheet 'values' with the rows (numbers as numbers, codes as text) and a sheet
    'Thông tin' saying what was exported, when, and what the columns and statuses mean."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    ind = figures.indicator(req.indicator)
    decimals = int(ind.get("decimals") or 1)
    book = Workbook()
    ws = book.active
    ws.title = "values"
    ws.append(EXPORT_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in frame[EXPORT_COLUMNS].itertuples(index=False):
        ws.append([_cell(c, v) for c, v in zip(EXPORT_COLUMNS, row)])
    def whole(column: str) -> bool:
        numbers = pd.to_numeric(frame[column], errors="coerce").dropna()
        return bool((numbers == numbers.round()).all())

    # Display formats only: the cells hold the unrounded numbers.
    formats = {"numerator": "#,##0" if whole("numerator") else "#,##0.00",
               "denominator": "#,##0" if whole("denominator") else "#,##0.00",
               "value": "0." + "0" * decimals if decimals else "0", "target": "General", "reported": "0"}
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = {"name": 40, "code": 12, "parent_code": 12}.get(column, 14)
        if column in formats:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = formats[column]
        elif column in ("code", "parent_code"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "@"
    ws.freeze_panes = "A2"

    info = book.create_sheet(t("exp_info_sheet", "vi"))
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 70
    info.column_dimensions["C"].width = 70
    lines: list[tuple] = []
    if figures.is_demo():
        lines.append((_both("exp_demo"),))
    lines += [
        (f"{t('exp_info_indicator', 'vi')} / {t('exp_info_indicator', 'en')}", req.indicator,
         f"{ind.get('name_vi')} / {ind.get('name_en')}"),
        (f"{t('exp_info_period', 'vi')} / {t('exp_info_period', 'en')}", req.period),
        (f"{t('exp_info_level', 'vi')} / {t('exp_info_level', 'en')}", req.level),
        (f"{t('exp_info_parent', 'vi')} / {t('exp_info_parent', 'en')}", req.parent or ""),
        (f"{t('exp_info_data_to', 'vi')} / {t('exp_info_data_to', 'en')}", figures.latest_month(req.indicator) or ""),
        (f"{t('exp_info_exported', 'vi')} / {t('exp_info_exported', 'en')}",
         datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
        (),
        (f"{t('exp_info_columns', 'vi')} / {t('exp_info_columns', 'en')}",),
    ]
    lines += [(c, t(f"exp_col_{c}", "vi"), t(f"exp_col_{c}", "en")) for c in EXPORT_COLUMNS]
    lines += [(), (f"{t('exp_info_status', 'vi')} / {t('exp_info_status', 'en')}",)]
    lines += [(s, t(f"status_{s}", "vi"), t(f"status_{s}", "en")) for s in STATUSES]
    for line in lines:
        info.append(list(line))
    info["A1"].font = Font(bold=True)
    book.save(out)
    return len(frame)


def export_values(indicator: str, period: str, level: str = "commune", parent: str | None = None,
                  fmt: str = "csv", out: IO[bytes] | str | Path | None = None) -> int:
    """Write the export to `out` (a path or a binary stream). Returns the number of rows."""
    if fmt not in FORMATS:
        raise ExportError(f"Định dạng không hợp lệ {fmt!r} / invalid format {fmt!r}: csv, xlsx")
    req = check_request(indicator, period, level, parent)
    frame = export_frame(req.indicator, req.period, req.level, req.parent)
    if fmt == "xlsx":
        return write_xlsx(frame, out, req)
    if isinstance(out, (str, Path)):
        with open(out, "wb") as handle:
            return write_csv(frame, handle)
    return write_csv(frame, out)
