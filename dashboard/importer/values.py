"""Checking monthly values at national scale: millions of rows, streamed.

Each row is checked as it is read. A clean row (the common case) passes one quick test and
goes into :class:`ValueRows`, which keeps checked rows column-wise (small ids for codes and
months, doubles for the numbers): 2.4 million rows take about 80 MB instead of gigabytes of
dicts. A row that fails the quick test goes through the full checks, which say what is
wrong. Duplicate keys are found once every file is read, by sorting the keys (numpy).
"""
from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

import numpy as np

from ..catalog.defaults import is_money
from .cells import DOT_GROUPS, PLAIN_NUMBER, CellError, read_month, read_number
from .checks import Batch, Header, Row, each_row
from .formats import CODE_LIMIT, FORMATS
from .known import Suggest
from .report import ByLanguage
from ..i18n import t
from .readers import Table
from .report import FileResult, IssueLog


def this_month() -> str:
    now = datetime.now(timezone.utc)
    return f"{now.year:04d}-{now.month:02d}"


@dataclass
class _FileSpan:
    file: FileResult
    issues: IssueLog
    start: int
    end: int = 0


@dataclass
class ValueRows:
    """Checked value rows of every file of one command, column-wise, in file order."""
    ind_ids: dict[str, int] = field(default_factory=dict)
    ent_ids: dict[str, int] = field(default_factory=dict)
    per_ids: dict[str, int] = field(default_factory=dict)
    ind_names: list[str] = field(default_factory=list)
    ent_names: list[str] = field(default_factory=list)
    per_names: list[str] = field(default_factory=list)
    ind: array = field(default_factory=lambda: array("i"))
    ent: array = field(default_factory=lambda: array("i"))
    per: array = field(default_factory=lambda: array("i"))
    num: array = field(default_factory=lambda: array("d"))
    den: array = field(default_factory=lambda: array("d"))
    line: array = field(default_factory=lambda: array("i"))
    spans: list[_FileSpan] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ind)

    @staticmethod
    def _id(ids: dict[str, int], names: list[str], value: str) -> int:
        i = ids.get(value)
        if i is None:
            i = ids[value] = len(names)
            names.append(value)
        return i

    def begin_file(self, file: FileResult, issues: IssueLog) -> None:
        self.spans.append(_FileSpan(file, issues, len(self)))

    def end_file(self) -> None:
        self.spans[-1].end = len(self)

    def add(self, ind: str, ent: str, per: str, num: float, den: float, line: int) -> None:
        self.ind.append(self._id(self.ind_ids, self.ind_names, ind))
        self.ent.append(self._id(self.ent_ids, self.ent_names, ent))
        self.per.append(self._id(self.per_ids, self.per_names, per))
        self.num.append(num)
        self.den.append(den)
        self.line.append(line)

    def staged(self, file_no: int) -> Iterator[tuple[int, str, str, str, float, float]]:
        """One file's rows as the store stages them: (file_no, indicator, period, entity, num, den)."""
        span = self.spans[file_no]
        inds, ents, pers = self.ind_names, self.ent_names, self.per_names
        for i in range(span.start, span.end):
            yield file_no, inds[self.ind[i]], pers[self.per[i]], ents[self.ent[i]], self.num[i], self.den[i]

    def span_of(self, index: int) -> _FileSpan:
        starts = [s.start for s in self.spans]
        return self.spans[bisect.bisect_right(starts, index) - 1]

    def report_duplicates(self) -> None:
        """An issue on every row whose (indicator, entity, month) an earlier row already has."""
        n = len(self)
        if n < 2:
            return
        per_count, ent_count = max(len(self.per_names), 1), max(len(self.ent_names), 1)
        keys = (np.frombuffer(self.ind, dtype=np.int32).astype(np.int64) * ent_count
                + np.frombuffer(self.ent, dtype=np.int32)) * per_count + np.frombuffer(self.per, dtype=np.int32)
        order = np.argsort(keys, kind="stable")  # stable: the first row of a key comes first
        ordered = keys[order]
        repeats = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
        if repeats.size == 0:
            return
        starts = np.r_[True, ordered[1:] != ordered[:-1]]
        first_of = order[np.maximum.accumulate(np.where(starts, np.arange(n), 0))]
        for p in repeats:
            row, first = int(order[p]), int(first_of[p])
            span, first_span = self.span_of(row), self.span_of(first)
            shown = f"{self.ind_names[self.ind[row]]}/{self.ent_names[self.ent[row]]}/{self.per_names[self.per[row]]}"
            if span is first_span:
                span.issues.error("imp_duplicate", self.line[row], "unit_code", None, dup_key=shown,
                                  first_line=self.line[first])
            else:
                span.issues.error("imp_duplicate_file", self.line[row], "unit_code", None, dup_key=shown,
                                  first_file=first_span.issues.name, first_line=self.line[first])


def _quick_number(value, number_format: str) -> float | None:
    """A number cell that needs no message, or None to send the row through the full checks."""
    if value.__class__ is str:
        if value.isdigit() and value.isascii():  # the usual count: ASCII digits only
            return float(value)
        if number_format != "plain":
            try:
                return read_number(value, number_format)
            except CellError:
                return None
        if not PLAIN_NUMBER.fullmatch(value) or DOT_GROUPS.fullmatch(value):
            return None
        number = float(value)
    elif value.__class__ in (int, float):
        number = float(value)
    else:
        return None
    return number if number - number == 0 else None  # finite


def check_values(batch: Batch, table: Table, header: Header, issues: IssueLog, file: FileResult,
                 rows_out: ValueRows) -> None:
    known = batch.known
    cols = header.columns
    nf = batch.number_format
    now = this_month()
    ind_hint = Suggest(known.indicators, list_all=True)
    ent_hint = Suggest(list(known.units) + list(known.facilities))
    # What the quick test looks up, per code: an indicator's reporting kinds and whether its
    # amounts are money; an entity's kind and validity; a month's soundness.
    indicators = {code: (known.scopes.get(code, set()), is_money(ind)) for code, ind in known.indicators.items()}
    entities = {code: (known.entity_kind(code), *known.validity(code)) for code in (*known.units, *known.facilities)}
    months: dict[str, bool] = {}
    # A code several units carry (old 31150 to 2025-06, new 31150 from 2025-07), or written
    # code@YYYY-MM, names the unit valid in the row's month: resolved once per (code, month).
    shared = known.shared_codes()
    resolved: dict[tuple[str, str], str] = {}
    ix = [cols[c] for c in FORMATS["values"].required]
    quick = not header.blank
    rows_out.begin_file(file, issues)
    for line, cells in each_row(table, header, issues, batch.progress):
        if quick and len(cells) <= header.width:
            try:
                ind, ent, period, num, den = [cells[i] for i in ix]
            except IndexError:
                ind = None
            if ind.__class__ is str and ent.__class__ is str and period.__class__ is str:
                if ent in shared or "@" in ent:
                    key = resolved.get((ent, period))
                    if key is None:
                        key = resolved[(ent, period)] = known.resolve(ent, period if len(period) == 7 else None)
                    ent = key
                info, where = indicators.get(ind), entities.get(ent)
                ok_month = months.get(period)
                if ok_month is None:
                    try:
                        ok_month = months[period] = read_month(period) == period and period <= now
                    except CellError:
                        ok_month = months[period] = False
                if info is not None and where is not None and ok_month and where[0] in info[0]:
                    vf, vt = where[1], where[2]
                    n, d = _quick_number(num, nf), _quick_number(den, nf)
                    if (n is not None and d is not None and 0 <= n <= d and not (vf and period < vf)
                            and not (vt and period > vt) and (info[1] or (n.is_integer() and d.is_integer()))):
                        rows_out.add(ind, ent, period, n, d, line)
                        file.rows += 1
                        continue
        _check_value_row(Row(line, cells, cols, issues), known, nf, now, ind_hint, ent_hint, indicators, rows_out,
                         file)
    rows_out.end_file()


def _check_value_row(row: Row, known, nf: str, now: str, ind_hint: Suggest, ent_hint: Suggest,
                     indicators: dict, rows_out: ValueRows, file: FileResult) -> None:
    """The full checks of one row: every problem reported, the row kept if there is none."""
    ind, ind_num = row.code("indicator")
    ent, ent_num = row.code("unit_code")
    period = row.get("period", read_month, "imp_bad_period", required=True)
    num = row.get("numerator", read_number, nf, required=True, missing="imp_missing_number")
    den = row.get("denominator", read_number, nf, required=True, missing="imp_missing_number")
    if ind is not None and ind not in known.indicators:
        row.fail("imp_unknown_indicator", "indicator", ind, hint=ind_hint.hint(ind, ind_num))
        ind = None
    if ent is not None and len(ent) <= CODE_LIMIT:
        ent = known.resolve(ent, period)
    kind = None
    if ent is not None:
        if len(ent) > CODE_LIMIT:
            ent = None
        else:
            kind = known.entity_kind(ent)
            if kind is None:
                hint = ent_hint.hint(ent, ent_num)
                if not hint.get("vi") and not ent_num:
                    hint = name_hint(known, ent, indicators.get(ind, (None,))[0] if ind else None) or hint
                row.fail("imp_unknown_entity", "unit_code", ent, hint=hint)
    if period is not None and period > now:
        row.fail("imp_future_period", "period", period, month=now)
    money = ind is not None and indicators[ind][1]
    for column, number in (("numerator", num), ("denominator", den)):
        if number is None:
            continue
        if number < 0:
            row.fail("imp_negative", column, row.raw(column))
        elif not money and not number.is_integer():
            row.fail("imp_count_fraction", column, row.raw(column))
    if num is not None and den is not None and 0 <= den < num:
        row.fail("imp_num_gt_den", "numerator", row.raw("numerator"), numerator=_plain(num),
                 denominator=_plain(den))
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
                not_valid(row, known, ent, period, vf, vt)
    if not row.bad:
        rows_out.add(ind, ent, period, num, den, row.line)
        file.rows += 1


def not_valid(row: Row, known, ent: str, period: str, vf: str | None, vt: str | None) -> None:
    """A figure for a month its unit was not valid in: after an old unit ended, naming its
    successors ('31150@2025-06 đã sáp nhập vào Phường An Bình (31150) từ 01/07/2025'); before a
    new unit began, naming its predecessors; else the validity."""
    unit = known.facilities.get(ent, {}).get("unit_code", ent)
    after = bool(vt and period > vt)
    links = known.successors(unit) if after else known.predecessors(unit)
    if not links:
        row.fail("imp_not_valid", "period", period, code=ent, period=period, valid=f"{vf or '…'} → {vt or '…'}")
        return
    named = ", ".join(f"{known.names.get(k, k)} ({k})" for k, _eff in links)
    eff = min(e for _k, e in links)
    day = f"{eff[8:10]}/{eff[5:7]}/{eff[0:4]}"
    row.fail("imp_merged_into" if after else "imp_formed_from", "unit_code", row.raw("unit_code"), code=ent,
             units=named, date=day, period=period)


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def name_hint(known, written: str, kinds: set[str] | None) -> ByLanguage | None:
    """'Có phải 'Xã Năm' (00005)?' for a name written where a code goes (or a misspelt name)."""
    from .names import shown

    names = known.unit_names()
    res = names.resolve(written, kinds or None)
    found = [names.entities[res.code]] if res.code else (res.candidates or res.suggestions)
    if not found:
        return None
    return ByLanguage(vi=t("imp_hint_did_you_mean", "vi", codes=shown(found, " hay ")),
                      en=t("imp_hint_did_you_mean", "en", codes=shown(found, " or ")))
