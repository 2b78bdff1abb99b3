"""Files to rows: a CSV (UTF-8) or .xlsx file read as a stream of ``(line, cells)``.

Nothing here holds a whole file in memory: a national values file has millions of rows.
A CSV is read twice, once as bytes (checksum, UTF-8 check, the line of a bad byte) and once
through the csv module. A workbook is inspected as a zip first (size, compression ratio,
DOCTYPE or entity declarations: refused before any XML parser sees them), then read with
openpyxl in read-only mode, every row whatever the sheet's ``<dimension>`` claims.

Cells come out trimmed and in NFC; text holding a control character comes out as a
:class:`~dashboard.importer.cells.BadCell`, so that the check of its column names it.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .cells import BadCell, nfc, text_cell, zero_padded
from .report import IssueLog

BLOCK = 1 << 20
HEAD_BYTES = 200_000          # enough for charset-normalizer's guess
#: A workbook unpacking to more than this, or an entry compressed more than MAX_RATIO times
#: (past RATIO_FLOOR bytes), is refused as a zip bomb. A real sheet of Excel's 1,048,576 rows
#: unpacks to a few hundred MB and compresses 10-30 times.
MAX_UNZIPPED = 2 << 30
MAX_RATIO = 250
RATIO_FLOOR = 16 << 20
MAX_ENTRIES = 10_000
PROLOG_BYTES = 64 << 10       # a DOCTYPE can only stand before the root element
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)

Rows = Iterator[tuple[int, list[Any]]]


class ReadError(Exception):
    """A file that turned out unreadable while its rows were being read."""

    def __init__(self, key: str, line: int | None = None, **params):
        super().__init__(key)
        self.key, self.line, self.params = key, line, params


@dataclass
class Table:
    """One open file: its header, and its remaining rows as a stream."""
    name: str
    source: str
    checksum: str
    is_workbook: bool
    header: list[Any]
    header_line: int
    rows: Rows
    total: int | None                      # the size `position()` counts towards, if known
    position: Callable[[], int]            # bytes read (CSV), rows read (xlsx)
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self._close()


def open_table(path: Path, display: str, issues: IssueLog, sheet: str | None = None) -> Table | None:
    """Open a .csv or .xlsx file and read its header; None (with an issue recorded) if it
    cannot be read."""
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
    if suffix == ".csv":
        return _open_csv(path, display, issues)
    return _open_xlsx(path, display, issues, sheet)


def _first_row(rows: Rows, issues: IssueLog) -> tuple[int, list[Any]] | None:
    """The header row; None, with the issue recorded, for a file without one."""
    try:
        first = next(rows, None)
    except ReadError as exc:
        issues.error(exc.key, line=exc.line, **exc.params)
        return None
    if first is None:
        issues.error("imp_empty_file")
    return first


# --- CSV --------------------------------------------------------------------------------

def _encoding_name(raw: bytes) -> str:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:HEAD_BYTES]).best()
        name = best.encoding if best is not None else None
    except Exception:  # noqa: BLE001 - a guess only
        name = None
    if not name:
        return "?"
    friendly = {"cp1258": "Windows-1258 (cp1258)", "cp1252": "Windows-1252 (cp1252)",
                "cp1250": "Windows-1250 (cp1250)", "utf_16": "UTF-16", "utf_16_le": "UTF-16 LE",
                "utf_16_be": "UTF-16 BE", "utf_32": "UTF-32", "latin_1": "Latin-1 (ISO-8859-1)"}
    return friendly.get(name, name)


def _scan_bytes(path: Path) -> tuple[str, bytes, int | None, int]:
    """One pass over the bytes: (sha256, the first bytes, line of the first byte that is not
    UTF-8 or None, size)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = bytearray()
    lines, bad_line, size = 0, None, 0
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
            if len(head) < HEAD_BYTES:
                head += block[:HEAD_BYTES - len(head)]
            if bad_line is None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad_line = lines + block[:max(exc.start, 0)].count(b"\n") + 1
                lines += block.count(b"\n")
    if bad_line is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad_line = lines + 1
    return digest.hexdigest(), bytes(head), bad_line, size


def _csv_rows(reader) -> Rows:
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            # Inlined text_cell for the common, clean ASCII cell: this loop runs per cell.
            cleaned = [None if not c else ((c.strip() or None) if c.isascii() and c.isprintable() else text_cell(c))
                       for c in cells]
            if all(c is None for c in cleaned):
                continue
            yield line, cleaned
    except csv.Error as exc:
        raise ReadError("imp_csv_syntax", line=reader.line_num, detail=str(exc)) from None


def _open_csv(path: Path, display: str, issues: IssueLog) -> Table | None:
    checksum, head, bad_line, size = _scan_bytes(path)
    # UTF-16 and UTF-32 (with or without BOM) put a NUL beside every ASCII letter; one stray
    # NUL in a UTF-8 file is a control character in a cell, reported with its row and column.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4096].count(b"\x00") * 8 > len(head[:4096]):
        issues.error("imp_not_utf8", encoding=_encoding_name(head))
        return None
    if bad_line is not None:
        issues.error("imp_not_utf8", line=bad_line, encoding=_encoding_name(head))
        return None
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    delimiter = ";" if ("," not in first and ";" in first) else ","
    binary = open(path, "rb")  # noqa: SIM115 - closed by Table.close
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    rows = _csv_rows(csv.reader(text, delimiter=delimiter))
    opened = _first_row(rows, issues)
    if opened is None:
        text.close()
        return None
    line, header = opened
    return Table(display, str(path.resolve()), checksum, False, header, line, rows, size,
                 binary.raw.tell, text.close)


# --- xlsx -------------------------------------------------------------------------------

def _zip_problem(path: Path) -> tuple[str, dict] | None:
    """Why a workbook must not be opened: not a zip, a zip bomb, or XML declaring a DOCTYPE
    or entities (billion laughs, external entities). Checked on the zip's own directory and
    the first bytes of each XML part, before any XML parser runs."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                return "imp_xlsx_bomb", {"detail": f"{len(entries)} entries"}
            unpacked = sum(e.file_size for e in entries)
            if unpacked > MAX_UNZIPPED:
                return "imp_xlsx_bomb", {"detail": f"{unpacked / 2**20:.0f} MB unpacked"}
            for e in entries:
                if e.file_size > RATIO_FLOOR and e.file_size > MAX_RATIO * max(e.compress_size, 1):
                    return "imp_xlsx_bomb", {"detail": f"{e.filename}: {e.file_size // max(e.compress_size, 1)}×"}
            for e in entries:
                if not e.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with archive.open(e) as part:
                    prolog = part.read(PROLOG_BYTES)
                if prolog.startswith((b"\xff\xfe", b"\xfe\xff")):
                    prolog = prolog.decode("utf-16", errors="replace").encode("utf-8")
                if _DTD.search(prolog):
                    return "imp_xlsx_doctype", {"part": e.filename}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError,
            RuntimeError) as exc:  # RuntimeError: an encrypted entry
        return "imp_xlsx_unreadable", {"detail": f"{exc.__class__.__name__}: {exc}"[:200]}
    return None


def _xlsx_cell(cell) -> Any:
    value = cell.value
    if value is None:
        return None
    if getattr(cell, "data_type", None) == "e":  # '#N/A', '#DIV/0!': a formula that failed
        return BadCell(str(value), "imp_excel_error", error=str(value))
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        fmt = getattr(cell, "number_format", "General") or "General"
        if zero_padded(fmt) and float(value).is_integer():
            return str(int(value)).zfill(len(fmt))  # what Excel shows: '00004'
    return value


def _unreadable(exc: Exception) -> ReadError:
    return ReadError("imp_xlsx_unreadable", detail=f"{exc.__class__.__name__}: {exc}"[:200])


def _xlsx_rows(ws, counter: list[int]) -> Rows:
    rows = ws.iter_rows()
    line = 0
    while True:
        try:
            row = next(rows, None)
        except Exception as exc:  # noqa: BLE001 - openpyxl parses lazily: bad XML surfaces here
            raise _unreadable(exc) from None
        if row is None:
            return
        line += 1
        counter[0] = line
        cells = [_xlsx_cell(c) for c in row]
        if all(c is None for c in cells):
            continue
        yield line, cells


def _open_xlsx(path: Path, display: str, issues: IssueLog, sheet: str | None) -> Table | None:
    problem = _zip_problem(path)
    if problem is not None:
        issues.error(problem[0], **problem[1])
        return None
    checksum, _head, _bad, _size = _scan_bytes(path)
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to parse an untrusted workbook is "unreadable"
        issues.error("imp_xlsx_unreadable", detail=f"{exc.__class__.__name__}: {exc}"[:200])
        return None
    try:
        worksheets = list(book.worksheets)
        if not worksheets:
            issues.error("imp_xlsx_no_worksheet")
            book.close()
            return None
        if sheet is None:
            ws = worksheets[0]
        elif sheet in book.sheetnames and book[sheet] in worksheets:
            ws = book[sheet]
        else:
            issues.error("imp_no_sheet", sheet=sheet, sheets=", ".join(w.title for w in worksheets))
            book.close()
            return None
        declared = ws.max_row  # only an estimate for progress: the sheet may lie
        ws.reset_dimensions()
    except Exception as exc:  # noqa: BLE001
        book.close()
        issues.error("imp_xlsx_unreadable", detail=f"{exc.__class__.__name__}: {exc}"[:200])
        return None
    name = f"{display} [{nfc(ws.title)}]"
    issues.name = name
    counter = [0]
    rows = _xlsx_rows(ws, counter)
    opened = _first_row(rows, issues)
    if opened is None:
        book.close()
        return None
    line, header = opened
    return Table(name, f"{path.resolve()}#{ws.title}", checksum, True, header, line, rows,
                 declared if declared and declared > 1 else None, lambda: counter[0], book.close)
