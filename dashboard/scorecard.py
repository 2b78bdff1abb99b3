"""Frames behind the target pages: the scorecard, the movers and reporting completeness.

Every number comes from ``dashboard.figures`` (``figures()``, ``not_reported()``,
``ancestors()``, ``entity()``), so the scorecard, the unit page, the overview, the map, the
API and the exports agree to the last digit. The functions whose names start with
``build_``/``rank_``/``sort_``/``filter_`` are pure (frames in, frames out) and tested on
hand-made frames; the others only fetch the figures they need and call them.

Rules
-----
* **Cell status.** A unit's cell for an indicator carries the status of ``figures()``
  (``progress`` rules, judged on the period's own figure). A unit where no entity is expected
  to report the indicator at all (``expected == 0``: a commune for an indicator only the
  department reports) gets ``not_applicable`` (as on the map): it is not "not reported", it does not apply.
* **Behind target** means ``overdue``, ``off_track`` or ``at_risk`` (:data:`BEHIND`). The "only behind"
  filter keeps the units behind on at least one of the indicators shown.
* **Movers** compare the value at the period's last month with the value
  :data:`MOVERS_MONTHS` months earlier (both monthly figures from ``figures()``), in
  percentage points. "Improving" follows the indicator's direction: a rise when higher is
  better, a fall when lower is better. Units without a value at either end are left out.
  The top list holds the ``n`` most improved, the bottom list the ``n`` least improved (or
  most worsened) among the others, so a unit never appears in both.
* **Completeness** of an indicator in a period beneath a unit: the entities expected to
  report it there (kinds in ``indicator_scopes``, valid during the period) and those that
  reported at least one month inside the period; the silent ones are grouped by their zone
  (their ancestor at the level below the root), entities above the zones (the department
  itself) last.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from . import figures, hierarchy, request
from .periods import add_months, parse_period
from .reform_marks import REFORM_MONTH
from .theme import BEHIND

NOT_EXPECTED = "not_applicable"  # as the map calls it
MOVERS_MONTHS = 3

CELL_COLUMNS = ["code", "name", "level", "parent_code", "indicator", "value", "numerator", "denominator",
                "target", "deadline", "status", "reported", "expected", "gap_points", "gap_units", "basis"]


# --- pure frame building --------------------------------------------------------------------

def build_cells(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long frame, one row per (unit, indicator), from each indicator's ``figures()`` frame.
    Units nobody is expected to report for get the status ``not_applicable``."""
    parts = []
    for code, frame in frames.items():
        if frame is None or frame.empty:
            continue
        part = frame.reindex(columns=[c for c in CELL_COLUMNS if c != "indicator"]).copy()
        part.insert(4, "indicator", code)
        part.loc[part["expected"].fillna(0).astype(int) == 0, "status"] = NOT_EXPECTED
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=CELL_COLUMNS)
    return pd.concat(parts, ignore_index=True)[CELL_COLUMNS]


def applicable(cells: pd.DataFrame) -> list[str]:
    """Indicators (in their order of appearance) that at least one unit is expected to report."""
    if cells.empty:
        return []
    expected = cells[cells["status"] != NOT_EXPECTED]
    return [c for c in dict.fromkeys(cells["indicator"]) if c in set(expected["indicator"])]


def build_table(cells: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """Wide frame, one row per unit: code, name, level, parent_code, then for each indicator
    ``<ind>`` (value) and ``<ind>__status``. Units in first-seen order."""
    base = cells.drop_duplicates("code")[["code", "name", "level", "parent_code"]].set_index("code")
    for ind in indicators:
        own = cells[cells["indicator"] == ind].set_index("code")
        base[ind] = own["value"].reindex(base.index).astype("float64")
        base[f"{ind}__status"] = own["status"].reindex(base.index).fillna(NOT_EXPECTED)
    return base.reset_index()


def filter_behind(table: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """Units at_risk or off_track on at least one of `indicators`."""
    if table.empty or not indicators:
        return table.iloc[0:0] if not indicators else table
    mask = np.zeros(len(table), dtype=bool)
    for ind in indicators:
        mask |= table[f"{ind}__status"].isin(BEHIND).to_numpy()
    return table[mask]


def sort_table(table: pd.DataFrame, key: str, descending: bool) -> pd.DataFrame:
    """Sort by a column (``name``, ``code``, ``zone_name`` or an indicator's value). Missing
    values always go last, whatever the direction; ties keep the name order."""
    if table.empty or key not in table.columns:
        return table
    if key in ("name", "zone_name", "code"):
        keys = table[key].fillna("").map(collation_key)
        order = keys.sort_values(ascending=not descending, kind="mergesort").index
        return table.loc[order]
    by_name = table.loc[table["name"].fillna("").map(collation_key).sort_values(kind="mergesort").index]
    values = by_name[key]
    present = by_name[values.notna()].sort_values(key, ascending=not descending, kind="mergesort")
    return pd.concat([present, by_name[values.isna()]])


def collation_key(text: str) -> tuple:
    """Vietnamese-friendly ordering without ICU: letters by their base letter first (so
    'Đ' sorts with 'D' and 'Ả' with 'A'), then by the full text."""
    import unicodedata

    base = unicodedata.normalize("NFD", str(text).replace("Đ", "D").replace("đ", "d"))
    base = "".join(ch for ch in base if not unicodedata.combining(ch)).casefold()
    return (base, str(text))


def rank_movers(now: pd.DataFrame, before: pd.DataFrame, higher_is_better: bool = True,
                n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top and bottom movers: frames with code, name, value_before, value_now, change
    (points, signed as the value moves). See the module rules."""
    merged = now[["code", "name", "value"]].rename(columns={"value": "value_now"}).merge(
        before[["code", "value"]].rename(columns={"value": "value_before"}), on="code", how="inner")
    merged = merged[merged["value_now"].notna() & merged["value_before"].notna()].copy()
    merged["change"] = merged["value_now"] - merged["value_before"]
    sign = 1.0 if higher_is_better else -1.0
    merged["improvement"] = sign * merged["change"]
    merged = merged.sort_values(["improvement", "code"], ascending=[False, True], kind="mergesort")
    columns = ["code", "name", "value_before", "value_now", "change"]
    top = merged.head(n)
    rest = merged.iloc[len(top):]
    bottom = rest.sort_values(["improvement", "code"], ascending=[True, True], kind="mergesort").head(n)
    return top[columns].reset_index(drop=True), bottom[columns].reset_index(drop=True)


def zone_of(chain: list[tuple[str, str]], zone_level: str | None = None) -> str | None:
    """The zone (the ancestor at the level below the root, or the entity itself if it is one)
    in an ancestor chain [(code, level), ...] from the entity up."""
    zone_level = zone_level or hierarchy.middle_level()
    for code, level in chain:
        if level == zone_level:
            return code
    return None


def group_by_zone(codes: list[str], zone_for: dict[str, str | None], names: dict[str, str]) -> list[dict]:
    """[{zone_code, zone_name, entities: [{code, name}]}], zones in code order, entities in
    code order; entities without a zone (above the zones) in a last group with zone_code None."""
    groups: dict[str | None, list[str]] = {}
    for code in codes:
        groups.setdefault(zone_for.get(code), []).append(code)
    ordered = sorted(z for z in groups if z is not None) + ([None] if None in groups else [])
    return [{"zone_code": zone, "zone_name": names.get(zone) if zone is not None else None,
             "entities": [{"code": c, "name": names.get(c, c)} for c in sorted(groups[zone])]}
            for zone in ordered]


# --- fetching ---------------------------------------------------------------------------------

def cells(period_label: str, level: str, parent: str | None = None,
          indicators: list[str] | None = None, units: str = "period") -> pd.DataFrame:
    """The scorecard's long frame for every indicator (or the ones given). `units`: "period" the
    units valid in the period; "today" today's units (a month before the reform derived from
    their predecessors); "then" the old units as they were (see :func:`then_figures`)."""
    codes = list(indicators) if indicators is not None else list(figures.indicators()["code"])
    read = then_figures if units == UNITS_THEN else (
        lambda c, p, lv, par: figures.figures(c, p, lv, par, *figures.units_args(units)))
    return build_cells({code: request.in_scope(read(code, period_label, level, parent)) for code in codes})


UNITS_TODAY, UNITS_THEN = "today", "then"


def units_choice(period_label: str | None, asked: str | None) -> str | None:
    """The scorecard's units for a period: None after the reform (one set of units); before it,
    "today" (the default) or "then" as asked."""
    if not period_label or parse_period(period_label).end >= REFORM_MONTH:
        return None
    return UNITS_THEN if asked == UNITS_THEN else UNITS_TODAY


def then_figures(indicator_code: str, period_label: str, level: str, parent: str | None = None) -> pd.DataFrame:
    """The old units of `level` as they were in a period before the reform, with their own
    reported figures: those beneath `parent` (the root by default) in the hierarchy, and those
    beneath the old units it was formed from (old Hải Phòng and old Hải Dương for new Hải
    Phòng), found through the crosswalk."""
    parent = parent or figures.root_code()
    parts, seen = [], set()
    for top in [parent] + old_ancestry(parent):
        frame = figures.figures(indicator_code, period_label, level, top, figures.UNITS_PERIOD)
        frame = frame[~frame["code"].isin(seen)]
        seen.update(frame["code"])
        parts.append(frame)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=figures.FIGURE_COLUMNS)
    return pd.concat(parts, ignore_index=True).sort_values("code", kind="mergesort").reset_index(drop=True)


def old_ancestry(code: str) -> list[str]:
    """Every old unit `code` was formed from, at any remove (predecessors of predecessors)."""
    out, todo = [], [code]
    while todo:
        for p in figures.predecessors(todo.pop()):
            if p["code"] not in out and p["code"] != code:
                out.append(p["code"])
                todo.append(p["code"])
    return out


def with_zones(table: pd.DataFrame) -> pd.DataFrame:
    """Add zone_code and zone_name (the district-level ancestor) to a frame with a code column."""
    units = figures.units()
    zone_codes = [zone_of(figures.ancestors(code)) for code in table["code"]]
    out = table.copy()
    out["zone_code"] = zone_codes
    out["zone_name"] = [units.loc[z, "name"] if z is not None and z in units.index else None for z in zone_codes]
    return out


def movers(indicator_code: str, period_label: str, level: str, parent: str | None = None,
           n: int = 5) -> dict:
    """{'end', 'start', 'top', 'bottom'}: the movers between the period's last month and
    MOVERS_MONTHS earlier."""
    period = figures.effective_period(parse_period(period_label), indicator_code)
    end = period.end
    start = add_months(end, -MOVERS_MONTHS)
    ind = figures.indicator(indicator_code)
    now = request.in_scope(figures.figures(indicator_code, end, level, parent))
    before = request.in_scope(figures.figures(indicator_code, start, level, parent))
    top, bottom = rank_movers(now, before, bool(ind["higher_is_better"]), n)
    return {"start": start, "end": end, "top": top, "bottom": bottom}


def completeness(indicator_code: str, period_label: str, code: str | None = None) -> dict:
    """Reporting completeness of one indicator in one period beneath `code` (the province
    when None): {indicator, period, code, expected, reported, completeness, missing}.

    `expected`/`reported` are those of the unit's figures() row (the overview's "Báo cáo x/y");
    `missing` is figures.not_reported() grouped by zone. Raises UnknownIndicator, UnknownUnit,
    PeriodError."""
    figures.indicator(indicator_code)
    label = parse_period(period_label).label
    code = code or figures.root_code()
    ent = figures.entity(code)
    # The unit's own row, by its own kind of units (an old unit as it was, a unit of today as today)
    frame = figures.figures(indicator_code, label, ent["level"], code,  # the headline's own memo key
                            *figures.units_args(figures.units_mode(code, label)))
    row = frame[frame["code"] == code]
    expected = int(row["expected"].iloc[0]) if not row.empty else 0
    reported = int(row["reported"].iloc[0]) if not row.empty else 0
    silent = figures.not_reported(indicator_code, code, label)
    zone_for = {c: zone_of(figures.ancestors(c)) for c in silent}
    names = {}
    for c in set(silent) | {z for z in zone_for.values() if z}:
        try:
            names[c] = figures.entity(c)["name"]
        except figures.UnknownUnit:
            names[c] = c
    return {
        "indicator": indicator_code,
        "period": label,
        "code": code,
        "expected": expected,
        "reported": reported,
        "completeness": (reported / expected) if expected else None,
        "missing": group_by_zone(silent, zone_for, names),
    }


def children_cells(code: str, period_label: str, indicators: list[str] | None = None,
                   units: str = "period") -> pd.DataFrame:
    """The direct children of a unit (units whose parent it is, and facilities attached to
    it), one row per (child, indicator), each at its own level."""
    ent = figures.entity(code)
    if ent["level"] == hierarchy.FACILITY:
        return pd.DataFrame(columns=CELL_COLUMNS)
    parts = []
    below = hierarchy.report_child(ent["level"])
    for level in dict.fromkeys([below, hierarchy.FACILITY]):
        part = cells(period_label, level, code, indicators, units)
        parts.append(part[part["parent_code"].astype(str) == code])
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CELL_COLUMNS)


def peer_rank(frame: pd.DataFrame, code: str, higher_is_better: bool = True) -> tuple[int, int] | None:
    """(rank, count) of `code` by value among the rows of `frame` that have a value, best
    first (ties share the better rank). None when `code` has no value."""
    present = frame[frame["value"].notna()]
    if code not in set(present["code"]):
        return None
    values = present["value"].astype("float64")
    ranks = values.rank(ascending=not higher_is_better, method="min")
    mine = ranks[present["code"] == code].iloc[0]
    return int(mine), len(present)
