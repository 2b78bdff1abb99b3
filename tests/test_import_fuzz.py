"""Mutated import files, generated with hypothesis: every one loads exactly what it says or is
refused with file, row and column, and a refusal changes no table.

Each example takes a valid file of one kind (units, facilities, indicators, targets, values),
writes it as CSV or xlsx the way people and tools do (any column order and case, padding,
NFD text, BOM, ';', CRLF, blank lines, Excel number cells, a sheet whose <dimension> lies),
and may break it once (a control character, a formula, a full-width digit, a grouped number,
a fraction in a count, an unknown code, a missing cell, a duplicate row, a broken file).

* broken: the report names the file, and the row and column of the broken cell; every
  table's checksum is unchanged;
* not broken: it loads, and the stored rows equal an independent parse of the written file
  (csv module / openpyxl in full mode, plain float() and str), and the generated rows.

The base rows of each kind are fixed, so every successful load writes the same values and
examples can share one database. Default run: a sample on SQLite and a smaller one on
PostgreSQL; `pytest -m slow` runs the full corpus.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboard import importer
from tests.data_files import every_table_checksum, rewrite_xlsx_part
from tests.world import load_world

SAMPLE = {"sqlite": 230, "postgresql": 25}  # hypothesis skips repeats: ≥ 200 files are written on SQLite
FULL = {"sqlite": 1200, "postgresql": 150}

# kind: (columns, text columns, number columns, month/date columns, reference columns, key, rows)
KINDS = {
    "units": dict(
        columns=["code", "name", "level", "parent_code", "valid_from"],
        text=["name"], numbers=[], dates=["valid_from"], refs={"parent_code": "imp_unknown_unit"},
        required=["code", "name", "level"], key=["code"],
        rows=[["00041", "Xã Bốn Mươi Mốt", "commune", "001", "2025-07-01"],
              ["00042", "Phường Hòa Bình", "commune", "002", ""],
              ["00043", "Xã Đông Hưng", "commune", "001", "2024-01-01"],
              ["00005", "Xã Năm", "commune", "001", ""]]),
    "facilities": dict(
        columns=["code", "name", "type", "unit_code", "lat", "lon"],
        text=["name"], numbers=["lat", "lon"], dates=[], refs={"unit_code": "imp_unknown_unit"},
        required=["code", "name", "type", "unit_code"], key=["code"],
        rows=[["TYT41", "Trạm Y tế Bốn Mươi Mốt", "station", "00004", "20.8125", "106.625"],
              ["BV41", "Bệnh viện Đa khoa Thử", "hospital", "00006", "", ""],
              ["TYT42", "Trạm Y tế Hải Đông", "station", "00005", "21", "106"]]),
    "indicators": dict(
        columns=["code", "name_vi", "name_en", "time", "higher_is_better", "short_vi", "decimals", "reported_by"],
        text=["name_vi", "name_en", "short_vi"], numbers=["decimals"], dates=[], refs={},
        required=["code", "name_vi", "name_en", "time", "higher_is_better"], key=["code"],
        rows=[["fz_a", "Tỷ lệ trạm y tế có bác sĩ", "Stations with a doctor", "stock", "true", "Trạm có bác sĩ",
               "0", "commune"],
              ["fz_b", "Tỷ lệ hồ sơ xử lý đúng hạn", "Dossiers on time", "flow", "false", "Hồ sơ đúng hạn", "2",
               "facility:hospital"]]),
    "targets": dict(
        columns=["indicator", "unit_code", "value", "deadline", "source"],
        text=["source"], numbers=["value"], dates=["deadline"],
        refs={"indicator": "imp_unknown_indicator", "unit_code": "imp_unknown_entity"},
        required=["indicator", "unit_code", "value", "deadline"], key=["indicator", "unit_code", "deadline"],
        rows=[["stockind", "001", "70", "2026-06", "KH 12/KH-SYT"], ["flowind", "002", "40.5", "2026-06", "Đề án 06"],
              ["stockind", "00004", "65", "2026-12", ""]]),
    "values": dict(
        columns=["indicator", "unit_code", "period", "numerator", "denominator"],
        text=[], numbers=["numerator", "denominator"], dates=["period"],
        refs={"indicator": "imp_unknown_indicator", "unit_code": "imp_unknown_entity"},
        required=["indicator", "unit_code", "period", "numerator", "denominator"],
        key=["indicator", "unit_code", "period"],
        rows=[["stockind", "00004", "2024-01", "40", "100"], ["stockind", "00005", "2024-01", "7", "200"],
              ["stockind", "00006", "2024-02", "901", "1000"], ["flowind", "BV1", "2024-01", "12.75", "100"],
              ["flowind", "TYT4", "2024-03", "0", "4"], ["stockind", "00004", "2024-02", "41", "100"]]),
}

HARMLESS = st.fixed_dictionaries({
    "fmt": st.sampled_from(["csv", "xlsx"]),
    "case": st.sampled_from(["lower", "upper", "title"]),
    "pad": st.booleans(), "nfd": st.booleans(), "bom": st.booleans(), "semicolon": st.booleans(),
    "crlf": st.booleans(), "blank_lines": st.booleans(), "excel_numbers": st.booleans(), "lying_dimension": st.booleans(),
})
BREAKS = ["none", "control", "formula", "fullwidth", "grouped", "fraction", "unknown_code", "missing", "duplicate",
          "broken_file"]


@st.composite
def examples(draw):
    kind = draw(st.sampled_from(sorted(KINDS)))
    spec = KINDS[kind]
    rows = draw(st.lists(st.sampled_from(range(len(spec["rows"]))), min_size=1, max_size=len(spec["rows"]),
                         unique=True))
    order = draw(st.permutations(spec["columns"]))
    how = draw(HARMLESS)
    possible = [b for b in BREAKS if _applies(b, kind, spec)]
    broken = draw(st.sampled_from(possible))
    target = draw(st.integers(min_value=0, max_value=len(rows) - 1))
    choice = draw(st.integers(min_value=0, max_value=10 ** 6))
    return kind, [list(spec["rows"][i]) for i in rows], list(order), how, broken, target, choice


def _applies(broken: str, kind: str, spec: dict) -> bool:
    return {"control": bool(spec["text"]), "formula": bool(spec["text"]),
            "fullwidth": bool(spec["numbers"] or spec["dates"]), "grouped": bool(spec["numbers"]),
            "fraction": kind == "values", "unknown_code": bool(spec["refs"])}.get(broken, True)


FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}


def _break(broken, kind, spec, rows, target, choice, fmt):
    """Mutate one cell; returns (column, expected keys) of the issue it must cause."""
    row = rows[target]
    col = spec["columns"].index

    def pick(options):
        return options[choice % len(options)]

    if broken == "control":
        column = pick(spec["text"])
        char = pick(["\x00", "\x1b", "\x7f", "\u202e", "\x85"] if fmt == "csv" else ["\t", "\n"])
        value = row[col(column)] or "x"
        at = choice % (len(value) + 1)
        row[col(column)] = value[:at] + char + value[at:] + ("x" if at == len(value) and char in "\t\n" else "")
        return column, {"imp_control_char"}
    if broken == "formula":
        column = pick(spec["text"])
        row[col(column)] = pick(["=", "+", "-", "@"]) + (row[col(column)] or "1+1")
        return column, {"imp_formula"}
    if broken == "fullwidth":
        column = pick(spec["numbers"] + spec["dates"])
        value = row[col(column)] or "5"
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        at = digits[choice % len(digits)]
        row[col(column)] = value[:at] + FULLWIDTH[value[at]] + value[at + 1:]
        return column, {"imp_non_ascii_digit"}
    if broken == "grouped":
        column = pick(spec["numbers"])
        if kind == "values":  # numerator ≤ denominator must not be what is reported
            row[col("numerator")], row[col("denominator")] = "1", "1"
        # Degrees never run to thousands, so a latitude of 46.650 is 46.65: not a broken cell.
        row[col(column)] = pick((["46.650"] if kind != "facilities" else []) + ["46,650", "1 000", "1.234.567", "85,3"])
        return column, {"imp_number_ambiguous", "imp_number_grouped", "imp_decimal_comma"}
    if broken == "fraction":
        row[0], row[col("numerator")], row[col("denominator")] = "stockind", "2.5", "10"
        row[col("unit_code")] = "00004"
        return "numerator", {"imp_count_fraction"}
    if broken == "unknown_code":
        column = pick(sorted(spec["refs"]))
        row[col(column)] = "ZZ" + str(choice % 97)
        return column, {spec["refs"][column]}
    if broken == "missing":
        column = pick(spec["required"])
        row[col(column)] = ""
        return column, {"imp_missing_value", "imp_missing_number"}
    if broken == "duplicate":
        rows.insert(target + 1, list(row))
        # A units row twice: one code over overlapping periods.
        return "dup", {"imp_duplicate", "imp_unit_overlap"}
    return None, set()


def _write(path: Path, kind: str, header: list[str], rows: list[list[str]], order: list[str], how: dict,
           numbers: list[str], keep_text: tuple[int, str] | None = None) -> list[int]:
    """Write the file; returns each data row's line (CSV) or sheet row (xlsx)."""
    case = {"lower": str.lower, "upper": str.upper, "title": str.title}[how["case"]]
    head = [(" " if how["pad"] else "") + case(c) for c in order]
    reorder = [header.index(c) for c in order]

    def cell(value: str, column: str) -> str:
        if how["nfd"]:
            value = unicodedata.normalize("NFD", value)
        return f"  {value} " if how["pad"] and value and column not in numbers else value

    lines = []
    if how["fmt"] == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";" if how["semicolon"] else ",",
                            lineterminator="\r\n" if how["crlf"] else "\n")
        writer.writerow(head)
        physical = 1
        for r in rows:
            if how["blank_lines"]:
                out.write("\r\n" if how["crlf"] else "\n")
                physical += 1
            before = out.getvalue().count("\n")
            writer.writerow([cell(r[i], order[k]) for k, i in enumerate(reorder)])
            lines.append(before + 1)
            physical = out.getvalue().count("\n")
        data = out.getvalue().encode("utf-8")
        path.write_bytes((b"\xef\xbb\xbf" if how["bom"] else b"") + data)
        return lines
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = kind
    ws.append(head)
    for n, r in enumerate(rows):
        if how["blank_lines"]:
            ws.append([])
        values = []
        for k, i in enumerate(reorder):
            value, column = r[i], order[k]
            if (how["excel_numbers"] and column in numbers and _is_plain_number(value)
                    and keep_text != (n, column)):  # a broken number stays the text it was typed as
                values.append(float(value) if "." in value else int(value))
            else:
                values.append(cell(value, column) or None)
        ws.append(values)
        lines.append(ws.max_row)
        for k, column in enumerate(order):
            value = ws.cell(row=ws.max_row, column=k + 1)
            if isinstance(value.value, str) and value.data_type == "f":
                # openpyxl takes any text starting with '=' for a formula; a person types it
                # as text (or a tool writes it as a string cell): keep it a string cell.
                value.data_type = "s"
    book.save(path)
    if how["lying_dimension"]:
        import re

        rewrite_xlsx_part(path, "xl/worksheets/sheet1.xml",
                          lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml))
    return lines


def _is_plain_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.isascii() and "," not in value and " " not in value and value.count(".") <= 1


def _break_file(path: Path, fmt: str, choice: int) -> None:
    data = path.read_bytes()
    if fmt == "csv":
        at = len(data) // 2
        path.write_bytes(data[:at] + b"\xff\xfe\xc3" + data[at:])  # not UTF-8
    elif choice % 3 == 0:
        path.write_bytes(data[: len(data) // 2])                     # truncated zip
    elif choice % 3 == 1:
        rewrite_xlsx_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<sheetData>", b"<sheetData><<", 1))
    else:
        rewrite_xlsx_part(path, "xl/worksheets/sheet1.xml",
                          lambda xml: b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                          + xml)


# --- an independent reading of what the file says -----------------------------------------

def independent_parse(path: Path) -> list[dict]:
    """The file's rows as plain dicts of stripped NFC text, read without the importer."""
    if path.suffix == ".csv":
        text_ = path.read_bytes().decode("utf-8-sig")
        first = text_.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text_, newline=""), delimiter=";" if ";" in first and "," not in first else ",")
        raw = [r for r in reader if any(c.strip() for c in r)]
    else:
        from openpyxl import load_workbook

        ws = load_workbook(path, data_only=True).worksheets[0]  # full mode: reads every row
        raw = [["" if c is None else c for c in r] for r in ws.iter_rows(values_only=True)
               if any(c not in (None, "") for c in r)]
    header = [str(c).strip().lower() for c in raw[0]]
    out = []
    for r in raw[1:]:
        out.append({h: (unicodedata.normalize("NFC", v).strip() if isinstance(v, str) else v)
                    for h, v in zip(header, r)})
    return out


def _as_number(value):
    return None if value in ("", None) else float(value)


def _as_month(value) -> str | None:
    if value in ("", None):
        return None
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return str(value)


def stored_rows(engine, kind: str, keys: list[tuple]) -> dict[tuple, dict]:
    queries = {
        "units": "SELECT code, name, level, parent_code, valid_from FROM units",
        "facilities": "SELECT code, name, type, unit_code, lat, lon FROM facilities",
        "indicators": "SELECT code, name_vi, name_en, time_agg, higher_is_better, short_vi, decimals FROM indicators",
        "targets": "SELECT indicator_code, scope_code, deadline, value, source FROM targets",
        "values": "SELECT indicator_code, entity_code, period, numerator, denominator FROM kpi_values",
    }
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(queries[kind])).mappings()]
    out = {}
    for r in rows:
        values = list(r.values())
        out[tuple(str(v) for v in values[:3 if kind in ("targets", "values") else 1])] = r
    return {k: out.get(k) for k in keys}


def expected_row(kind: str, row: dict) -> tuple[tuple, dict]:
    """(key, stored columns) of one parsed row, by plain Python conversions."""
    if kind == "units":
        vf = _as_month(row.get("valid_from"))
        return (str(row["code"]),), {"name": row["name"], "level": row["level"], "parent_code": str(row["parent_code"]),
                                     "valid_from": vf[:10] if vf else None}
    if kind == "facilities":
        return (str(row["code"]),), {"name": row["name"], "type": row["type"], "unit_code": str(row["unit_code"]),
                                     "lat": _as_number(row.get("lat")), "lon": _as_number(row.get("lon"))}
    if kind == "indicators":
        return (str(row["code"]),), {"name_vi": row["name_vi"], "name_en": row["name_en"], "time_agg": row["time"],
                                     "higher_is_better": str(row["higher_is_better"]).lower() == "true",
                                     "short_vi": row["short_vi"], "decimals": int(float(row["decimals"]))}
    if kind == "targets":
        return ((str(row["indicator"]), str(row["unit_code"]), _as_month(row["deadline"])[:7]),
                {"value": _as_number(row["value"]), "source": row.get("source") or None})
    return ((str(row["indicator"]), str(row["unit_code"]), _as_month(row["period"])[:7]),
            {"numerator": _as_number(row["numerator"]), "denominator": _as_number(row["denominator"])})


def _normalised(kind: str, stored: dict) -> dict:
    out = dict(stored)
    for k in ("valid_from",):
        if k in out and out[k] is not None:
            out[k] = str(out[k])[:10]
    if "higher_is_better" in out:
        out["higher_is_better"] = bool(out["higher_is_better"])
    if "decimals" in out:
        out["decimals"] = int(out["decimals"])
    for k in ("value", "numerator", "denominator", "lat", "lon"):
        if k in out and out[k] is not None:
            out[k] = float(out[k])
    return out


# --- the test ---------------------------------------------------------------------------

def check_one(engine, folder: Path, example, n: int) -> None:
    kind, rows, order, how, broken, target, choice = example
    spec = KINDS[kind]
    fmt = how["fmt"]
    column, keys = _break(broken, kind, spec, rows, target, choice, fmt)
    path = folder / f"{n:04d}_{kind}.{fmt}"
    keep = (target, column) if broken in ("grouped", "fullwidth") else None
    lines = _write(path, kind, spec["columns"], rows, order, how, spec["numbers"], keep)
    if broken == "broken_file":
        _break_file(path, fmt, choice)
    before = every_table_checksum(engine)
    report = importer.import_files(engine, kind, [path], user="fuzz")
    messages = [i.message() for i in report.errors]
    if broken != "none":
        assert not report.ok and not report.written, (broken, path.name)
        assert every_table_checksum(engine) == before, path.name
        for issue in report.errors:
            assert issue.file.startswith(path.name) and issue.message().startswith(path.name)
            assert "Traceback" not in issue.message()
        if broken == "broken_file":
            assert report.errors[0].key in ("imp_not_utf8", "imp_xlsx_unreadable", "imp_xlsx_doctype"), messages
            return
        line = lines[target + 1] if broken == "duplicate" else lines[target]
        found = {(i.line, i.column if broken != "duplicate" else "dup", i.key) for i in report.errors}
        assert any((line, column, key) in found for key in keys), (path.name, line, column, keys, messages)
        if fmt == "xlsx" and broken != "duplicate":
            cells = [i.cell for i in report.errors if i.line == line and i.column == column]
            letter = "ABCDEFGH"[[c.strip().lower() for c in order].index(column)]
            assert f"{letter}{line}" in cells, (cells, letter, line)
        return
    assert report.ok and report.written, (path.name, messages)
    parsed = independent_parse(path)
    assert len(parsed) == len(rows) == report.added + report.replaced
    expected = dict(expected_row(kind, r) for r in parsed)
    generated = dict(expected_row(kind, dict(zip(spec["columns"], r))) for r in rows)
    assert expected == generated, path.name  # the file says what was generated
    stored = stored_rows(engine, kind, list(expected))
    for key, want in expected.items():
        got = _normalised(kind, stored[key])
        for column_, value in want.items():
            assert got[column_] == value, (path.name, key, column_, got[column_], value)


@pytest.mark.parametrize("corpus", [pytest.param(SAMPLE, id="sample"),
                                    pytest.param(FULL, id="full", marks=pytest.mark.slow)])
def test_mutated_files_load_exactly_or_are_refused_where_they_are_wrong(use_engine, tmp_path, corpus):
    load_world(use_engine)
    budget = corpus[use_engine.dialect.name if use_engine.dialect.name == "sqlite" else "postgresql"]
    counter = iter(range(10 ** 7))
    asked: list[tuple[str, str, str]] = []

    @settings(max_examples=budget, deadline=None, database=None, derandomize=corpus is SAMPLE,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(examples())
    def one(example):
        check_one(use_engine, tmp_path, example, next(counter))
        asked.append((example[0], example[3]["fmt"], example[4]))

    one()
    written = sorted(tmp_path.glob("*_*.*"))
    # hypothesis ran (nearly) the whole budget: ≥ 200 files on SQLite, a sample on PostgreSQL
    assert len(written) == len(asked) >= (200 if budget >= 200 else budget * 0.9), len(asked)
    assert {fmt for _, fmt, _ in asked} == {"csv", "xlsx"} and {kind for kind, _, _ in asked} == set(KINDS)
    refused = [a for a in asked if a[2] != "none"]
    assert len(refused) >= len(asked) * 0.6, len(refused)  # most are broken: checksums compared on each
    if budget >= 200:  # the full sample: every kind in both formats, every way of breaking a file
        assert {(kind, fmt) for kind, fmt, _ in asked} == {(k, f) for k in KINDS for f in ("csv", "xlsx")}
        assert {b for _, _, b in asked} == set(BREAKS)
