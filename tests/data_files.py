"""Helpers for import/export tests: real files on disk, written the way people make them."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

VALUE_HEADER = ["indicator", "unit_code", "period", "numerator", "denominator"]

#: Vietnamese tone marks; Windows-1258 stores them as separate combining characters.
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def cp1258(text: str) -> bytes:
    """Vietnamese text as Windows-1258 writes it (base letter, then a combining tone mark):
    Python's codec cannot encode precomposed toned letters such as 'ộ' directly."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return bytes(out)


def csv_text(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None:
            return ""
        text = str(v)
        if any(ch in text for ch in ',"\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text
    return "\n".join([",".join(header)] + [",".join(cell(v) for v in r) for r in rows]) + "\n"


def write_csv(path: Path, header: list[str], rows: list[list], *, bom: bool = False,
              encoding: str = "utf-8") -> Path:
    text = csv_text(header, rows)
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], *, sheet: str = "values",
               formats: dict[str, str] | None = None, first_sheet: str | None = None) -> Path:
    """An .xlsx written by openpyxl; `formats` maps a column name to a number format
    ('@' for text, '00000' for zero-padded numbers); `first_sheet` puts another sheet first."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    if first_sheet:
        ws.title = first_sheet
        ws.append(["not", "this", "one"])
        ws = book.create_sheet(sheet)
    else:
        ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    for name, fmt in (formats or {}).items():
        col = header.index(name) + 1
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    book.save(path)
    return path


def kpi_rows(engine) -> pd.DataFrame:
    """kpi_values without load ids, sorted: what the figures are computed from."""
    with engine.connect() as conn:
        frame = pd.read_sql("SELECT indicator_code, period, entity_code, numerator, denominator FROM kpi_values",
                            conn)
    return frame.sort_values(["indicator_code", "period", "entity_code"]).reset_index(drop=True)


def rewrite_xlsx_part(path: Path, part: str, change) -> Path:
    """Rewrite one part of a workbook's zip (e.g. 'xl/worksheets/sheet1.xml') through
    `change(bytes) -> bytes`, the way a broken or hostile tool would leave it."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return path


def every_table_checksum(engine) -> dict[str, str]:
    """dashboard.database.table_checksums, plus a digest of every other table of the schema
    (the history of replaced rows among them): a refused import must change none."""
    import hashlib

    from sqlalchemy import inspect, text

    from dashboard.database import table_checksums

    out = table_checksums(engine)
    with engine.connect() as conn:
        for table in sorted(set(inspect(conn).get_table_names()) - set(out)):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()  # noqa: S608 - names from the schema
            digest = hashlib.sha256()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
            out[table] = digest.hexdigest()
    return out


# --- workbooks as Excel saves them ----------------------------------------------------------

def _formula_value(ws, formula: str, seen=()):
    """A subtotal formula as Excel computes it: SUM(ranges and cells) or cells joined by +."""
    import re

    from openpyxl.utils import range_boundaries

    body = formula.lstrip("=").strip()
    m = re.fullmatch(r"SUM\((.*)\)", body, re.IGNORECASE)
    refs = m.group(1).split(",") if m else body.split("+")
    total = 0.0
    for ref in refs:
        ref = ref.strip().replace("$", "")
        c0, r0, c1, r1 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                v = ws.cell(r, c).value
                if isinstance(v, str) and v.startswith("="):
                    v = _formula_value(ws, v)
                if isinstance(v, (int, float)):
                    total += v
    return total


def save_like_excel(book, path: Path) -> Path:
    """Save an openpyxl workbook with the values of its formulas stored beside them, as Excel
    and LibreOffice do (openpyxl alone stores formulas without values)."""
    import re
    import zipfile

    values = []
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    v = _formula_value(ws, cell.value)
                    cells[cell.coordinate] = int(v) if float(v).is_integer() else v
        values.append(cells)
    book.save(path)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            if m and values[int(m.group(1)) - 1]:
                cells = values[int(m.group(1)) - 1]
                text = data.decode("utf-8")
                text = re.sub(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/>',
                              lambda mm: f'<c r="{mm.group(1)}"{mm.group(2)}><f>{mm.group(3)}</f>'
                                         f'<v>{cells.get(mm.group(1), "")}</v>', text)
                data = text.encode("utf-8")
            dst.writestr(item, data)
    tmp.replace(path)
    return path
