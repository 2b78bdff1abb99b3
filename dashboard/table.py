"""One table for every download: the columns of a figure row, defined once, rendered to CSV,
XLSX and JSON (the API), so a file, the API and the screen always agree.

* :data:`COLUMNS` names each column once: its key (JSON and the notes), its kind (how it is
  rounded and typed) and its header (``exp2_col_<key>``, Vietnamese or English).
* :func:`figure_rows` gives the rows a request asks for: one indicator over the units of a level
  under a unit, every indicator over those units (the scorecard), or every indicator for one unit
  (the overview and unit pages).
* :func:`shown` rounds the values as the screen shows them, translates statuses and keeps
  "không áp dụng" (nobody there reports it) apart from "chưa báo cáo" (someone should have).
* :func:`to_csv`, :func:`to_xlsx` and :func:`to_json` render it. Text that a spreadsheet would run
  as a formula (starting with = + - @, a tab or a carriage return) never leaves live: a CSV cell
  gets a leading apostrophe, an XLSX cell is written as a string.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from . import figures
from .formatting import as_number, decimals_of, shown_decimals
from .i18n import t
from .request import Request

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    kind: str  # code | text | count | rate | points | month | flag

    def header(self, lang: str) -> str:
        return t(f"exp2_col_{self.key}", lang)


COLUMNS: tuple[Column, ...] = (
    Column("indicator", "code"), Column("indicator_name", "text"), Column("period", "code"),
    Column("code", "code"), Column("name", "text"), Column("level", "code"), Column("parent_code", "code"),
    Column("numerator", "count"), Column("denominator", "count"), Column("value", "rate"),
    Column("basis", "code"), Column("basis_text", "text"), Column("target", "rate"),
    Column("deadline", "month"), Column("status", "code"),
    Column("status_text", "text"), Column("gap_points", "points"), Column("gap_units", "count"),
    Column("reported", "count"), Column("expected", "count"), Column("completeness", "rate"),
    Column("target_source", "text"), Column("last_month", "month"), Column("demo", "flag"),
)
KEYS = tuple(c.key for c in COLUMNS)


def figure_rows(req: Request) -> pd.DataFrame:
    """The raw figure rows a request asks for, with the indicator and period beside each."""
    label = req.period_label
    if label is None:
        return pd.DataFrame(columns=list(figures.FIGURE_COLUMNS) + ["indicator", "period"])
    from . import scorecard

    codes = [req.indicator] if req.indicator else list(figures.indicators()["code"])
    # Before the reform: today's units (derived, each row with its basis) or the old units then;
    # without the switch, as figures() decides from the parent (today's units beneath today's).
    units = scorecard.units_choice(label, req.get("units")) if req.get("units") else None
    parts = []
    for code in codes:
        if req.indicator or req.level:
            level = req.level or _default_level()
            frame = (scorecard.then_figures(code, label, level, req.unit) if units == scorecard.UNITS_THEN
                     else figures.figures(code, label, level, req.unit, *figures.units_args(units)))
        else:  # one unit, every indicator
            unit = req.unit or figures.root_code()
            mode = figures.units_mode(unit, label)
            frame = figures.figures(code, label, figures.entity(unit)["level"],
                                    *((unit, mode) if mode != figures.UNITS_PERIOD else ()))
            frame = frame[frame["code"] == unit]
        parts.append(frame.assign(indicator=code, period=label))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _default_level() -> str:
    from .hierarchy import middle_level

    return middle_level()


def shown(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows as the screen shows them: rounded, statuses translated, one column per key."""
    from .wording import row_status, status_word

    demo = bool(figures.is_demo())
    out = []
    places = []
    for r in rows.to_dict("records"):
        ind = figures.indicator(r["indicator"])
        decimals = decimals_of(ind)
        status = row_status(r)
        expected = int(as_number(r.get("expected")) or 0)
        completeness = 100.0 * int(as_number(r.get("reported")) or 0) / expected if expected else None
        value_places = shown_decimals(r.get("value"), r.get("target"), ind)
        places.append({"value": value_places, "target": decimals, "gap_points": 1, "completeness": 1})
        out.append({
            "indicator": r["indicator"], "indicator_name": figures.name_of_indicator(r["indicator"], lang),
            "period": r["period"], "code": str(r["code"]), "name": r.get("name"), "level": r.get("level"),
            "parent_code": r.get("parent_code"),
            "numerator": _round(r.get("numerator"), 2), "denominator": _round(r.get("denominator"), 2),
            "value": _round(r.get("value"), value_places),
            "basis": basis_of(r), "basis_text": basis_text(basis_of(r), lang),
            "target": _round(r.get("target"), 2), "deadline": r.get("deadline"), "status": status,
            "status_text": status_word(status, lang),
            "gap_points": _round(r.get("gap_points"), 1), "gap_units": _round(r.get("gap_units"), 0),
            "reported": int(as_number(r.get("reported")) or 0), "expected": expected,
            "completeness": _round(completeness, 1), "target_source": r.get("target_source"),
            "last_month": r.get("last_month"), "demo": demo,
        })
    frame = pd.DataFrame(out, columns=list(KEYS))
    # How many decimals each number is shown with (the XLSX display format), beside the values.
    frame.attrs["places"] = places
    return frame


def basis_of(row: dict) -> int:
    """A figure's basis: 0 reported, 1 from predecessors (exact), 2 estimated."""
    number = as_number(row.get("basis"))
    return int(number) if number is not None else 0


def basis_text(basis: int, lang: str) -> str:
    return t(f"rf_basis_{int(basis)}", lang)


def _round(value, places: int):
    number = as_number(value)
    if number is None:
        return None
    rounded = round(number, places)
    return int(rounded) if places == 0 else rounded


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def defuse(text: str) -> str:
    """A text cell a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(column: Column, value, lang: str) -> str:
    if _missing(value):
        return ""
    if column.kind == "flag":
        return t("word_yes" if value else "word_no", lang)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return _plain(value)
    return defuse(str(value))


def _plain(number) -> str:
    """No thousands separator, a dot for decimals, never scientific notation."""
    if isinstance(number, int) or float(number).is_integer():
        return str(int(number))
    return format(float(number), "f").rstrip("0").rstrip(".")


def notes_lines(req: Request, lang: str) -> list[tuple[str, str]]:
    """What the file is: when it was made, the data it holds, the demo label and any problem."""
    from .captions import data_until_text

    lines = [(t("exp2_meta_made", lang), datetime.now().strftime("%d/%m/%Y %H:%M")),
             (t("exp2_meta_until", lang), data_until_text(lang))]
    if req.query():
        lines.append((t("exp2_meta_view", lang), "&".join(f"{k}={v}" for k, v in req.query().items())))
    if figures.is_demo():
        lines.append((t("exp2_meta_demo", lang), t("demo_banner", lang)))
    lines += [(t("exp2_meta_warning", lang), p.text(lang)) for p in req.problems]
    return lines


def to_csv(table: pd.DataFrame, lang: str) -> bytes:
    """UTF-8 with BOM (Excel then shows the diacritics), comma-separated, translated headers."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([c.header(lang) for c in COLUMNS])
    for row in table.itertuples(index=False):
        writer.writerow([_csv_cell(c, v, lang) for c, v in zip(COLUMNS, row)])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def to_xlsx(table: pd.DataFrame, lang: str, notes: list[tuple[str, str]]) -> bytes:
    """Sheet of figures (numbers as numbers with the screen's formats, codes and text as strings)
    and a sheet of notes (what, when, warnings, what each column means)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = t("exp2_sheet_data", lang)
    ws.append([c.header(lang) for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    places = table.attrs.get("places") or [{}] * len(table)
    for i, (row, row_places) in enumerate(zip(table.itertuples(index=False), places), start=2):
        for j, (column, value) in enumerate(zip(COLUMNS, row), start=1):
            cell = ws.cell(row=i, column=j)
            if _missing(value):
                continue
            if column.kind == "flag":
                cell.value = t("word_yes" if value else "word_no", lang)
            elif column.kind in ("count", "rate", "points") and isinstance(value, (int, float)):
                cell.value = value
                cell.number_format = _number_format(value, row_places.get(column.key))
            else:
                cell.value = str(value)
                cell.data_type = "s"  # a name starting with '=' stays text, never a live formula
                cell.number_format = "@"
    widths = {"indicator_name": 40, "name": 32, "status_text": 20, "target_source": 40}
    for j, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = widths.get(column.key, 14)
    ws.freeze_panes = "A2"
    info = book.create_sheet(t("exp2_sheet_notes", lang))
    for label, text in notes + [("", "")] + [(c.header(lang), t(f"exp2_help_{c.key}", lang)) for c in COLUMNS]:
        info.append([label, text])
        for cell in info[info.max_row]:
            cell.data_type = "s" if cell.value not in (None, "") else cell.data_type
    info.column_dimensions["A"].width = 30
    info.column_dimensions["B"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number_format(value, places: int | None = None) -> str:
    """Thousands grouped; the decimals the screen shows (or as many as the value holds)."""
    if places is None:
        text_ = format(float(value), "f").rstrip("0")
        places = 0 if text_.endswith(".") else len(text_.split(".")[1])
    return "#,##0" + ("." + "0" * places if places else "")


def to_json(table: pd.DataFrame) -> list[dict]:
    """The same columns as keys; missing values are null."""
    records = []
    for row in table.itertuples(index=False):
        records.append({c.key: (None if _missing(v) else v) for c, v in zip(COLUMNS, row)})
    return records


def dumps(payload) -> str:
    """UTF-8 JSON with Vietnamese readable (no \\u escapes) and no NaN."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    raise TypeError(type(value))
