"""Checks per kind of file: every row against the codes already stored and against the other
rows of the same command, collecting *every* problem as an issue.

The small kinds (units, facilities, indicators, targets) keep their checked rows as dicts;
values, which run to millions of rows, have their own module (``values.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .cells import (BadCell, CellError, read_bool, read_code, read_date, read_int, read_month, read_number,
                    read_text)
from .formats import (DECIMALS_RANGE, DEFAULT_SCOPE, DISPLAY_UNIT_LIMIT, ENTITY_KINDS, FACILITY_TYPES, GROUP_LIMIT,
                      HEADLINE_RANGE, INDICATOR_TEXTS, LEVEL_ORDER, SORT_ORDER_RANGE, UNIT_LEVELS, Format)
from .known import Known, Suggest
from .readers import ReadError, Table
from .report import FileResult, ImportProgress, ImportReport, IssueLog

_INDICATOR_CODE = re.compile(r"[A-Za-z0-9_.\-]+")
PROGRESS_EVERY = 2000


@dataclass
class Header:
    """Column name -> position, and the nameless columns (data there is an error)."""
    columns: dict[str, int]
    blank: list[int]
    width: int


def map_header(table: Table, fmt: Format, issues: IssueLog) -> Header | None:
    """None (with issues) if a required column is missing, a column is unknown or doubled,
    or a header cell is unreadable. Names are compared without case and surrounding spaces."""
    positions: dict[str, int] = {}
    blank: list[int] = []
    unknown, ok, line = [], True, table.header_line
    for i, cell in enumerate(table.header):
        if isinstance(cell, BadCell):
            issues.error(cell.key, line=line, value=cell.raw, **cell.params)
            ok = False
            continue
        name = "" if cell is None else str(cell).strip().lower()
        if not name:
            blank.append(i)
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
    return Header(positions, blank, len(table.header)) if ok else None


class Row:
    """Typed access to one row's cells, recording an issue for each bad cell."""

    __slots__ = ("line", "cells", "cols", "issues", "bad")

    def __init__(self, line: int, cells: list, cols: dict[str, int], issues: IssueLog):
        self.line, self.cells, self.cols, self.issues, self.bad = line, cells, cols, issues, False

    def raw(self, column: str):
        i = self.cols.get(column)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def get(self, column: str, reader: Callable, *args, required: bool = False, missing: str = "imp_missing_value"):
        raw = self.raw(column)
        try:
            value = reader(raw, *args)
        except CellError as bad:
            self.fail(bad.key, column, raw, **bad.params)
            return None
        if value is None and required:
            self.fail(missing, column)
        return value

    def code(self, column: str, required: bool = True) -> tuple[str | None, bool]:
        raw = self.raw(column)
        try:
            code, was_number = read_code(raw)
        except CellError as bad:
            self.fail(bad.key, column, raw, **bad.params)
            return None, False
        if code is None and required:
            self.fail("imp_missing_value", column)
        return code, was_number

    def text(self, column: str, required: bool = False, limit: int | None = None) -> str | None:
        value = self.get(column, read_text, required=required)
        if value is not None and limit is not None and len(value) > limit:
            self.fail("imp_text_too_long", column, value, limit=limit)
            return None
        return value

    def fail(self, msg: str, column: str | None = None, value=None, **params) -> None:
        self.bad = True
        self.issues.error(msg, self.line, column, value, **params)


@dataclass
class Batch:
    """Rows of one kind from every file of one command, with where each came from."""
    kind: str
    known: Known
    report: ImportReport
    number_format: str = "plain"
    progress: ImportProgress = field(default_factory=ImportProgress)
    rows: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)  # crosswalk links (kind "crosswalk"; rows are its old units)
    keys: dict[tuple, tuple[str, int]] = field(default_factory=dict)  # key -> (file, line)
    periods: dict[str, list] = field(default_factory=dict)  # units: official code -> [(months, (file, line))]
    _by_code: dict[str, list[str]] | None = None

    def known_by_code(self) -> dict[str, list[str]]:
        """Stored unit keys by official code (built once)."""
        if self._by_code is None:
            from ..unitkeys import official

            self._by_code = {}
            for key in self.known.units:
                self._by_code.setdefault(official(key), []).append(key)
        return self._by_code

    def claim(self, key: tuple, row: Row, column: str) -> bool:
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


def each_row(table: Table, header: Header, issues: IssueLog, progress: ImportProgress,
             stage_label: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """The file's rows, with progress; a file that breaks off half-way gets its issue here.
    Rows with cells beyond the header, or data under a nameless column, are reported once
    and still handed on (their other cells are checked too)."""
    progress.start("check", stage_label or table.name, table.total)
    blank_reported: set[int] = set()
    n = 0
    try:
        for line, cells in table.rows:
            n += 1
            if n % PROGRESS_EVERY == 0:
                progress.update(table.position(), n)
            if len(cells) > header.width and any(c is not None for c in cells[header.width:]):
                issues.error("imp_extra_cells", line, None, None, cells=len(cells), columns=header.width)
            for i in header.blank:
                if i not in blank_reported and i < len(cells) and cells[i] is not None:
                    blank_reported.add(i)
                    issues.error("imp_header_blank", line=table.header_line, position=i + 1)
            yield line, cells
    except ReadError as exc:
        issues.error(exc.key, line=exc.line, **exc.params)
        n = n or -1  # the file broke off: "no rows" would be beside the point
    if n == 0:
        issues.error("imp_no_rows")
    progress.update(table.position(), n)
    progress.end()


# --- units and facilities --------------------------------------------------------------

def check_units(batch: Batch, table: Table, header: Header, issues: IssueLog, file: FileResult) -> None:
    """Units rows. Two rows (or a row and a stored unit) may share a code when their periods
    of validity do not overlap: each is its own unit, keyed by :func:`unit_key`."""
    known = batch.known
    cols = header.columns
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, cols, issues)
        code, code_num = row.code("code")
        name = row.text("name", required=True)
        level = row.text("level", required=True)
        parent, parent_num = row.code("parent_code", required=False)
        vf = row.get("valid_from", read_date)
        vt = row.get("valid_to", read_date)
        official_code, _ = row.code("official_code", required=False)
        if official_code is not None and code is not None and code.split("@", 1)[0] != official_code:
            row.fail("imp_official_code", "official_code", official_code, code=code)
        if level is not None and level not in UNIT_LEVELS:
            row.fail("imp_bad_choice", "level", level, allowed=", ".join(UNIT_LEVELS))
            level = None
        if code_num:
            issues.warn("imp_code_number", line, "code", row.raw("code"), code=code)
        if vf and vt and vt < vf:
            row.fail("imp_date_order", "valid_to", row.raw("valid_to"))
        if code is not None and code in known.facilities:
            row.fail("imp_code_is_facility", "code", code)
        key = None
        if code is not None and not row.bad:
            key = unit_key(batch, row, code, vf, vt)
        if key is not None and not batch.claim((key,), row, "code"):
            continue
        if not row.bad and key is not None:
            batch.rows.append({"code": key, "name": name, "level": level, "parent_code": parent,
                               "valid_from": vf, "valid_to": vt, "_file": file, "_line": line,
                               "_issues": issues, "_parent_num": parent_num, "_written": code})
            file.rows += 1


def _months(vf, vt) -> tuple[str, str]:
    from ..unitkeys import month_of

    return (month_of(vf) or "0000-00"), (month_of(vt) or "9999-99")


def _overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def unit_key(batch: Batch, row: Row, code: str, vf, vt) -> str | None:
    """The key (``units.code``) of a units row: a stored key or an explicit ``code@YYYY-MM`` is
    itself; else the stored unit of that code whose validity overlaps the row's keeps its key; a new unit is keyed by its code, or ``code@YYYY-MM``
    (its last month) when it has a valid_to. A row overlapping another row of the same code,
    or two stored units of it, is refused naming them."""
    from .. import unitkeys

    known = batch.known
    span = _months(vf, vt)
    official = unitkeys.official(code)
    # A key written as stored (an export's code@YYYY-MM, or a stored plain key) names that unit.
    if unitkeys.explicit(code) is not None or (code in known.units
                                               and _overlap(span, _months_of_known(known.units[code]))):
        return code
    seen = batch.periods.setdefault(official, [])
    for other_span, where in seen:
        if _overlap(span, other_span):
            row.fail("imp_unit_overlap", "code", code, code=official, first_file=where[0], first_line=where[1],
                     first=_shown_span(other_span), this=_shown_span(span))
            return None
    seen.append((span, (row.issues.name, row.line)))
    stored = [k for k in batch.known_by_code().get(official, [])
              if _overlap(span, _months_of_known(known.units[k]))]
    if len(stored) > 1:
        row.fail("imp_unit_overlap_stored", "code", code, code=official, keys=", ".join(stored),
                 this=_shown_span(span))
        return None
    if stored:
        return stored[0]
    key = unitkeys.ended_key(code, vt) if vt else code
    if key in known.units:
        row.fail("imp_unit_key_taken", "code", code, key=key,
                 valid=_shown_span(_months_of_known(known.units[key])))
        return None
    return key


def _months_of_known(info: dict) -> tuple[str, str]:
    return (info.get("valid_from") or "0000-00"), (info.get("valid_to") or "9999-99")


def _shown_span(span: tuple[str, str]) -> str:
    start = "…" if span[0] == "0000-00" else span[0]
    end = "…" if span[1] == "9999-99" else span[1]
    return f"{start} → {end}"


def parent_key(resolver, parent: str, vf, vt) -> str | None:
    """A written parent code as a key, at the child's valid_from month: a stored key is
    itself; an old child's parent is the old unit of that code ending with it, if any."""
    from .. import unitkeys

    if parent in resolver:
        spans = resolver.candidates(parent)
        if len(spans) <= 1 or unitkeys.explicit(parent):
            return parent
    if vt:
        last = unitkeys.month_of(vt)
        for key in resolver.candidates(parent):
            if resolver.span(key).valid_to == last:
                return key
    return resolver.resolve(parent, unitkeys.month_of(vf) or unitkeys.month_of(vt))


def check_unit_tree(batch: Batch) -> None:
    """After every units row is read: parents exist (in the database or the batch), sit
    above their children, and no chain loops. Existing children stay below changed units.
    A written parent code is resolved to a key at the child's valid_from month."""
    from ..unitkeys import Resolver

    known = batch.known
    level = {c: u["level"] for c, u in known.units.items()}
    parent = {c: u["parent_code"] for c, u in known.units.items()}
    spans = {c: (u["valid_from"], u["valid_to"]) for c, u in known.units.items()}
    for r in batch.rows:
        level[r["code"]] = r["level"]
        spans[r["code"]] = (r["valid_from"], r["valid_to"])
    resolver = Resolver((k, vf, vt) for k, (vf, vt) in spans.items())
    for r in batch.rows:
        if r["parent_code"] is not None:
            r["parent_code"] = parent_key(resolver, r["parent_code"], r["valid_from"], r["valid_to"]) or r["parent_code"]
        parent[r["code"]] = r["parent_code"]
    hint = Suggest(level)
    for r in batch.rows:
        row = Row(r["_line"], [], {}, r["_issues"])
        p = r["parent_code"]
        if p is None:
            if r["level"] != "province":
                row.fail("imp_parent_required", "parent_code", None, level=r["level"])
            continue
        if p not in level:
            row.fail("imp_unknown_unit", "parent_code", p, hint=hint.hint(p, r["_parent_num"]))
        elif LEVEL_ORDER[level[p]] >= LEVEL_ORDER[r["level"]]:
            row.fail("imp_parent_level", "parent_code", p, parent=p, parent_level=level[p], level=r["level"])
    reported: set[frozenset] = set()
    for r in batch.rows:
        chain, cur = [r["code"]], parent.get(r["code"])
        while cur is not None and cur in level:
            if cur in chain:
                loop = chain[chain.index(cur):] + [cur]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    Row(r["_line"], [], {}, r["_issues"]).fail(
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
            Row(r["_line"], [], {}, r["_issues"]).fail("imp_child_level", "level", r["level"], child=child,
                                                        child_level=info["level"], level=r["level"])


def check_facilities(batch: Batch, table: Table, header: Header, issues: IssueLog, file: FileResult) -> None:
    known = batch.known
    cols = header.columns
    hint = Suggest(known.units)
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, cols, issues)
        code, code_num = row.code("code")
        name = row.text("name", required=True)
        type_ = row.text("type", required=True)
        unit, unit_num = row.code("unit_code")
        # Degrees never run to thousands: 106.625 is a longitude, not 106625.
        lat = row.get("lat", read_number, batch.number_format, False)
        lon = row.get("lon", read_number, batch.number_format, False)
        if type_ is not None and type_ not in FACILITY_TYPES:
            row.fail("imp_bad_choice", "type", type_, allowed=", ".join(FACILITY_TYPES))
        if code_num:
            issues.warn("imp_code_number", line, "code", row.raw("code"), code=code)
        if code is not None and code in known.units:
            row.fail("imp_code_is_unit", "code", code)
        if unit is not None:
            unit = known.resolve(unit, None)  # a shared code: the unit valid today
        if unit is not None and unit not in known.units:
            row.fail("imp_unknown_unit", "unit_code", unit, hint=hint.hint(unit, unit_num))
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


# --- indicators ------------------------------------------------------------------------

def read_kinds(value) -> list[str] | None:
    text = read_text(value)
    if text is None:
        return None
    kinds = [k.strip() for k in re.split(r"[;,|\s]+", text) if k.strip()]
    for kind in kinds:
        if kind not in ENTITY_KINDS:
            raise CellError("imp_bad_kind", kind=kind, allowed=", ".join(ENTITY_KINDS))
    return list(dict.fromkeys(kinds)) or None


def read_gap_template(value) -> str | None:
    """A gap sentence: text with one {gap} where the number goes, and no other braces."""
    text = read_text(value)
    if text is None:
        return None
    if text.count("{gap}") != 1 or "{" in text.replace("{gap}", "") or "}" in text.replace("{gap}", ""):
        raise CellError("imp_gap_template", placeholder="{gap}")
    return text


def check_indicators(batch: Batch, table: Table, header: Header, issues: IssueLog, file: FileResult) -> None:
    known = batch.known
    cols = header.columns
    nf = batch.number_format
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, cols, issues)
        code, _ = row.code("code")
        if code is not None and not _INDICATOR_CODE.fullmatch(code):
            row.fail("imp_bad_code", "code", code)
        values: dict[str, Any] = {c: row.text(c, required=True) for c in ("name_vi", "name_en")}
        for c in INDICATOR_TEXTS:
            values[c] = row.get(c, read_gap_template) if c.startswith("gap_") else row.text(c)
        time_ = row.text("time", required=True)
        if time_ is not None and time_.lower() not in ("stock", "flow"):
            row.fail("imp_bad_choice", "time", time_, allowed="stock, flow")
        hib = row.get("higher_is_better", read_bool, required=True)
        values["decimals"] = row.get("decimals", read_int, *DECIMALS_RANGE, nf)
        values["display_unit"] = row.text("display_unit", limit=DISPLAY_UNIT_LIMIT)
        values["group"] = row.text("group", limit=GROUP_LIMIT)
        values["headline"] = row.get("headline", read_int, *HEADLINE_RANGE, nf)
        values["sort_order"] = row.get("sort_order", read_int, *SORT_ORDER_RANGE, nf)
        kinds = row.get("reported_by", read_kinds)
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
        batch.rows.append({"code": code, **values, "time": time_, "higher_is_better": hib, "reported_by": kinds,
                           "_file": file})
        file.rows += 1


# --- targets ---------------------------------------------------------------------------

def check_targets(batch: Batch, table: Table, header: Header, issues: IssueLog, file: FileResult) -> None:
    known = batch.known
    cols = header.columns
    ind_hint = Suggest(known.indicators, list_all=True)
    ent_hint = Suggest(list(known.units) + list(known.facilities))
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, cols, issues)
        ind, ind_num = row.code("indicator")
        scope, scope_num = row.code("unit_code")
        value = row.get("value", read_number, batch.number_format, required=True)
        deadline = row.get("deadline", read_month, required=True)
        source = row.text("source")
        note = row.text("note")
        if ind is not None and ind not in known.indicators:
            row.fail("imp_unknown_indicator", "indicator", ind, hint=ind_hint.hint(ind, ind_num))
        if scope is not None:
            scope = known.resolve(scope, deadline)  # a shared code: the unit valid at the deadline
        if scope is not None and known.entity_kind(scope) is None:
            row.fail("imp_unknown_entity", "unit_code", scope, hint=ent_hint.hint(scope, scope_num))
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
