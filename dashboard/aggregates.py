"""Figures computed once per load, read at request.

``refresh(conn, ...)`` runs inside a load's transaction (``store.write_transaction`` calls it
before bumping the data version), so readers see either the figures before the load or the
figures after it, never a mix. It recomputes only what the load touched:

* **sums** (``aggregates``): the roll-up of every unit and facility for the touched indicators and
  the periods containing a touched month — set-based SQL, one ``INSERT … SELECT`` per indicator
  (``queries/aggregate_sums_stock.sql`` / ``_flow.sql``), by the same rules as the on-the-fly
  roll-up in ``dashboard/aggregation.py`` (ratio of sums, stock = latest month, flow = sum,
  missing ≠ 0, validity dates). That roll-up stays as the tests' oracle.
* **progress** (``aggregate_progress``): the target that applies, the status, gaps, paces and
  projection of the stored figures of the touched indicators whose period's pace window (its end
  month and the HISTORY_MONTHS before it) holds a touched month, for the ancestors of the entities
  written only, by ``dashboard.progress`` — the same function ``figures.figures_live`` (the oracle)
  uses. A period whose window of months changed (new to the data, or a quarter or year in progress
  that now ends later) is recomputed for every entity, sums and progress.

A change of the hierarchy recomputes everything; a change of targets recomputes progress only.
``dashboard db rebuild-aggregates`` recomputes everything, with progress.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from . import progress, sql
from .periods import add_months, month_from_index, month_range, parse_period

log = logging.getLogger(__name__)

#: Bumped whenever the stored figures' rules or columns change: a database whose stored figures
#: were made by other rules is rebuilt at the next start or `dashboard db upgrade` (ensure()).
RULES_VERSION = "2"  # 2: crosswalk shares and basis; a stock counts who exists at its end

#: Months of history before a figure's own month that its pace and status are judged on (as the
#: on-the-fly figures do).
HISTORY_MONTHS = 24
PROGRESS_CHUNK = 5000


@dataclass
class Touched:
    """What a write transaction changed, so its refresh recomputes only that."""

    months: dict[str, set[str]] = field(default_factory=dict)  # indicator -> months written
    # indicator -> entities written (with `months`: at most those entities in those months);
    # None: not known, every entity
    entities: dict[str, set[str] | None] = field(default_factory=dict)
    targets: set[str] = field(default_factory=set)               # indicators whose targets changed
    hierarchy: bool = False
    indicators: set[str] = field(default_factory=set)            # definitions changed (stock/flow, scopes)
    shrunk: set[str] = field(default_factory=set)                # months may have gone (an undo): all anew

    def values(self, indicator: str, months: Iterable[str], entities: Iterable[str] | None = None) -> None:
        self.months.setdefault(indicator, set()).update(months)
        if entities is None:
            self.entities[indicator] = None
        elif self.entities.setdefault(indicator, set()) is not None:
            self.entities[indicator].update(entities)

    def __bool__(self) -> bool:
        return bool(self.months or self.targets or self.hierarchy or self.indicators or self.shrunk)


def touched(conn: Connection) -> Touched:
    """The record of what this transaction changed (kept on the connection)."""
    return conn.info.setdefault("aggregates_touched", Touched())


# --- periods -------------------------------------------------------------------------------

def periods_of(first: str, last: str) -> list[tuple[str, str, str, str]]:
    """(label, kind, start_month, end_month) of every month first..last, the quarters and years
    that hold them; a quarter or year in progress ends at `last`."""
    months = month_range(first, last)
    out = [(m, "month", m, m) for m in months]
    for label in sorted({f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months}):
        p = parse_period(label)
        out.append((label, "quarter", p.start, min(p.end, last)))
    for label in sorted({m[:4] for m in months}):
        p = parse_period(label)
        out.append((label, "year", p.start, min(p.end, last)))
    return out


def _labels_touching(periods: list[tuple[str, str, str, str]], months: set[str]) -> list[str]:
    return [label for label, _kind, start, end in periods if any(start <= m <= end for m in months)]


# --- refresh -------------------------------------------------------------------------------

def refresh(conn: Connection, what: Touched | None = None, *, on_progress: Callable | None = None) -> dict:
    """Recompute what `what` (default: this transaction's record) says changed; everything when it
    says the hierarchy changed. Returns counts for the log.

    For values written (``Touched.values``) the work is cut three ways, each giving the rows a
    full rebuild gives (tests/test_aggregates.py compares them):

    * periods: sums of the periods holding a written month; progress of the periods whose pace
      window (their end month and the HISTORY_MONTHS before it) holds one;
    * entities (progress): only the written entities' ancestors (themselves included), unless
      they are most of them;
    * except a period whose window of months changed (a month new to the data, the quarter and
      year in progress that now end later): recomputed for every entity."""
    what = what if what is not None else touched(conn)
    conn.info.pop("aggregates_chains", None)  # read afresh by this refresh (a failed one may have left it)
    conn.info.pop("aggregates_feeds", None)
    started = time.perf_counter()
    if not _has_tables(conn):  # a schema from before the aggregates: ensure() fills them after upgrade
        conn.info.pop("aggregates_touched", None)
        return {"sums": 0, "progress": 0, "seconds": 0.0}
    if conn.dialect.name == "postgresql":
        # Statistics of freshly written rows (ANALYZE sees this transaction's own rows): without
        # them the planner takes a bulk-loaded table for empty and nested-loops it (minutes, not ms).
        written = ["kpi_values"] if what.months or what.hierarchy else []
        written += ["entity_ancestors", "units", "facilities"] if what.hierarchy else []
        for table in written:
            conn.exec_driver_sql(f"ANALYZE {table}")
    indicators = pd.read_sql(text("SELECT code, time_agg, higher_is_better FROM indicators"), conn)
    spans = {r.indicator_code: (r.first_month, r.last_month)
             for r in sql.fetch_df(conn, "value_months").itertuples()}
    first_overall = min((f for f, _ in spans.values()), default=None)
    counts = {"sums": 0, "progress": 0}
    todo = []
    for ind in indicators.itertuples():
        code = ind.code
        if code not in spans:
            sql.run(conn, "agg_periods_delete", {"indicator": code})
            conn.execute(text("DELETE FROM aggregates WHERE indicator_code = :i"), {"i": code})
            conn.execute(text("DELETE FROM aggregate_progress WHERE indicator_code = :i"), {"i": code})
            continue
        periods = periods_of(first_overall, spans[code][1])
        everything = what.hierarchy or code in what.indicators or code in what.shrunk
        if code in what.shrunk:  # periods past the last month left may be stored: forget them all
            conn.execute(text("DELETE FROM aggregates WHERE indicator_code = :i"), {"i": code})
            conn.execute(text("DELETE FROM aggregate_progress WHERE indicator_code = :i"), {"i": code})
        plan = _Plan(code, periods)
        plan.reshape(conn)
        if everything:
            plan.sums_all = plan.progress_all = [p[0] for p in periods]
        else:
            months = what.months.get(code, set())
            touching = set(_labels_touching(periods, months))
            paced = set(_labels_pacing(periods, months))
            if code in what.targets:
                plan.progress_all = [p[0] for p in periods]
            else:
                plan.progress_all = [p[0] for p in periods if p[0] in plan.reshaped]
                plan.progress_part = [p[0] for p in periods if p[0] in paced and p[0] not in plan.reshaped]
            # The sums statements (queries/aggregate_sums_*.sql) recompute a period for every entity.
            plan.sums_all = [p[0] for p in periods if p[0] in touching or p[0] in plan.reshaped]
            plan.written = what.entities.get(code) if code in what.months else set()
        if plan:
            todo.append((ind, plan))
    if on_progress and todo:
        on_progress(0, len(todo), "")
    for n, (ind, plan) in enumerate(todo, start=1):
        scope = _scope(conn, plan.written) if plan.progress_part else None
        if scope is None:  # every entity: the part joins the whole
            plan.progress_all = [label for label, *_ in plan.periods
                                 if label in {*plan.progress_all, *plan.progress_part}]
            plan.progress_part = []
        counts["sums"] += _refresh_sums(conn, ind.code, ind.time_agg, plan, scope)
        if plan.progress_all or plan.progress_part:
            counts["progress"] += _refresh_progress(conn, ind.code, bool(ind.higher_is_better), plan, scope)
        if on_progress:
            on_progress(n, len(todo), ind.code)
    if conn.dialect.name == "postgresql" and counts["sums"]:
        # Fresh rows with stale statistics make the planner pick nested loops (minutes, not ms).
        for table in ("aggregates", "aggregate_progress", "agg_periods"):
            conn.exec_driver_sql(f"ANALYZE {table}")
    if what.hierarchy:  # everything was recomputed, by this code's rules
        from .database import set_meta

        set_meta(conn, "aggregates_rules", RULES_VERSION)
    conn.info.pop("aggregates_touched", None)
    conn.info.pop("aggregates_chains", None)
    conn.info.pop("aggregates_feeds", None)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    if counts["sums"] or counts["progress"]:
        log.info("aggregates refreshed: %s", counts)
    return counts


#: Above this share of every entity, a refresh of "the written entities' ancestors" is a full one
#: (the restriction would cost more than it saves).
SCOPE_SHARE = 0.5


@dataclass
class _Plan:
    """What one indicator's refresh recomputes: periods for every entity (``*_all``) and periods
    for the written entities' ancestors only (``*_part``)."""

    code: str
    periods: list[tuple[str, str, str, str]]
    sums_all: list[str] = field(default_factory=list)
    progress_all: list[str] = field(default_factory=list)
    progress_part: list[str] = field(default_factory=list)
    written: set[str] | None = None  # the entities written (None: not known)
    reshaped: set[str] = field(default_factory=set)  # periods new or with another window of months
    gone: list[str] = field(default_factory=list)    # periods stored that are no longer periods

    def reshape(self, conn: Connection) -> None:
        stored = {r.label: (r.kind, r.start_month, r.end_month)
                  for r in sql.fetch_df(conn, "agg_periods_of", indicator=self.code).itertuples()}
        now = {label: (kind, start, end) for label, kind, start, end in self.periods}
        self.reshaped = {label for label, window in now.items() if stored.get(label) != window}
        self.gone = sorted(set(stored) - set(now))

    def __bool__(self) -> bool:
        return bool(self.sums_all or self.progress_all or self.progress_part or self.gone
                    or self.reshaped)


def _labels_pacing(periods: list[tuple[str, str, str, str]], months: set[str]) -> list[str]:
    """The periods whose progress reads one of `months`: the period's own figure, and its pace
    over the window of HISTORY_MONTHS + 1 months ending at its end month."""
    return [label for label, _kind, _start, end in periods
            if any(m <= end <= add_months(m, HISTORY_MONTHS) for m in months)]


def _scope(conn: Connection, written: set[str] | None) -> set[str] | None:
    """The entities whose figures the written ones feed (each with all its ancestors, by the
    closure), or None for every entity (not known, or most of them anyway)."""
    if written is None:
        return None
    feeds = _feeds_of(conn)
    scope = {entity for code in written for entity in feeds.get(code, (code,))}
    return None if len(scope) > SCOPE_SHARE * max(len(feeds), 1) else scope


def _feeds_of(conn: Connection) -> dict[str, set[str]]:
    """entity -> every unit its figures reach: its ancestors in the hierarchy and, for an old
    entity, those of its successors (the crosswalk rows: an old commune's 2024 value moves its new
    commune's derived figure). Read once per refresh."""
    feeds = conn.info.get("aggregates_feeds")
    if feeds is None:
        frame = pd.read_sql(text("SELECT entity_code, ancestor_code FROM entity_ancestors"), conn)
        feeds = {}
        for entity, ancestor in zip(frame["entity_code"].astype(str), frame["ancestor_code"].astype(str)):
            feeds.setdefault(entity, {entity}).add(ancestor)
        conn.info["aggregates_feeds"] = feeds
    return feeds


def _has_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table("aggregate_progress")


def _refresh_sums(conn: Connection, code: str, time_agg: str, plan: _Plan, scope: set[str] | None) -> int:
    sql.run(conn, "agg_periods_delete", {"indicator": code})
    sql.run(conn, "agg_periods_insert", [{"indicator": code, "label": label, "kind": kind, "start_month": start,
                                          "end_month": end} for label, kind, start, end in plan.periods])
    if time_agg not in ("stock", "flow"):
        raise ValueError(f"time aggregation must be stock or flow, not {time_agg!r}")
    for chunk in _chunks(plan.gone, 200):
        sql.run(conn, "aggregate_delete", {"indicator": code, "labels": chunk})
        sql.run(conn, "aggregate_progress_delete", {"indicator": code, "labels": chunk})
    total = 0
    for chunk in _chunks(plan.sums_all, 200):
        sql.run(conn, "aggregate_delete", {"indicator": code, "labels": chunk})
        total += max(sql.run(conn, f"aggregate_sums_{time_agg}", {"indicator": code, "labels": chunk}), 0)
    return total


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- progress ------------------------------------------------------------------------------

def _chains(conn: Connection) -> dict[str, list[tuple[str, str]]]:
    # The hierarchy only (via 0): a target set on new Hải Phòng does not judge old Hải Dương.
    frame = pd.read_sql(text("SELECT entity_code, ancestor_code, ancestor_level, depth FROM entity_ancestors "
                             "WHERE via = 0 ORDER BY entity_code, depth"), conn)
    out: dict[str, list[tuple[str, str]]] = {}
    for entity, ancestor, level in zip(frame["entity_code"], frame["ancestor_code"], frame["ancestor_level"]):
        out.setdefault(str(entity), []).append((str(ancestor), level))
    return out


def _targets(conn: Connection, code: str) -> dict[str, list[progress.Target]]:
    from .figures import targets_by_scope

    table = pd.read_sql(text("SELECT scope_code, value, deadline, source FROM targets WHERE indicator_code = :i"),
                        conn, params={"i": code})
    return targets_by_scope(table)


def _chains_of(conn: Connection) -> dict[str, list[tuple[str, str]]]:
    """The closure as each entity's chain of ancestors, read once per refresh."""
    chains = conn.info.get("aggregates_chains")
    if chains is None:  # the same closure for every indicator of one refresh
        chains = conn.info["aggregates_chains"] = _chains(conn)
    return chains


def _refresh_progress(conn: Connection, code: str, higher_is_better: bool, plan: _Plan,
                      scope: set[str] | None) -> int:
    """Progress of `plan.progress_all` for every entity and of `plan.progress_part` for the
    entities of `scope` only (their panel alone is read)."""
    chains = _chains_of(conn)
    by_scope = _targets(conn, code)
    total = 0
    for labels, entities in ((plan.progress_all, None), (plan.progress_part, scope)):
        if labels:
            total += _progress_of(conn, code, higher_is_better, labels, entities, chains, by_scope, plan.periods)
    return total


def _progress_of(conn: Connection, code: str, higher_is_better: bool, labels: list[str],
                 entities: set[str] | None, chains: dict, by_scope: dict, plan_periods: list) -> int:
    # A period's pace reads the HISTORY_MONTHS before its end: only those months of the panel.
    ends = {label: end for label, _kind, _start, end in plan_periods}
    since = add_months(min(ends[label] for label in labels), -HISTORY_MONTHS)
    monthly = sql.fetch_df(conn, "aggregate_monthly_reported", indicator=code, since=since)
    if entities is not None:
        monthly = monthly[monthly["entity_code"].astype(str).isin(entities)]
        chosen = sorted(entities)
    panel = _Panel(monthly)
    total = 0
    for chunk in _chunks(labels, 200):
        if entities is None:
            sql.run(conn, "aggregate_progress_delete", {"indicator": code, "labels": chunk})
        else:
            for few in _chunks(chosen, 500):
                sql.run(conn, "aggregate_progress_delete_entities",
                        {"indicator": code, "labels": chunk, "entities": few})
        rows = sql.fetch_df(conn, "aggregate_for_progress", indicator=code, labels=chunk)
        if entities is not None:
            rows = rows[rows["entity_code"].astype(str).isin(entities)].reset_index(drop=True)
        for start in range(0, len(rows), PROGRESS_CHUNK * 10):
            part = rows.iloc[start:start + PROGRESS_CHUNK * 10]
            frame = progress_frame(part, panel, chains, by_scope, higher_is_better)
            frame.insert(0, "indicator_code", code)
            # NaN is no value to the database: None; plain tuples keep the bulk insert fast.
            rows_out = list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
            total += sql.bulk_insert(conn, "aggregate_progress", PROGRESS_TABLE_COLUMNS, rows_out)
    return total


class _Panel:
    """Every entity's monthly figures of one indicator as two dense arrays (entities × months)."""

    def __init__(self, monthly: pd.DataFrame):
        self.first = None
        self.index: dict[str, int] = {}
        if monthly.empty:
            self.num = self.den = np.full((0, 0), np.nan)
            return
        months = _month_indices(monthly["period"])
        self.first = int(months.min())
        width = int(months.max()) - self.first + 1
        codes = monthly["entity_code"].astype(str)
        self.index = {c: i for i, c in enumerate(pd.unique(codes))}
        rows = codes.map(self.index).to_numpy()
        self.num = np.full((len(self.index), width), np.nan)
        self.den = np.full((len(self.index), width), np.nan)
        self.num[rows, months - self.first] = monthly["numerator"].to_numpy(dtype=float)
        self.den[rows, months - self.first] = monthly["denominator"].to_numpy(dtype=float)

    def window(self, entities: list[str], end_months: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """num, den of `width` months ending at each end month (NaN outside what was reported)."""
        rows = len(entities)
        num = np.full((rows, width), np.nan)
        den = np.full((rows, width), np.nan)
        if self.first is None or rows == 0:
            return num, den
        e = np.array([self.index.get(c, -1) for c in entities])
        cols = (end_months - self.first)[:, None] + np.arange(-(width - 1), 1)[None, :]
        ok = (e[:, None] >= 0) & (cols >= 0) & (cols < self.num.shape[1])
        safe_e = np.broadcast_to(np.maximum(e, 0)[:, None], cols.shape)
        safe_c = np.clip(cols, 0, max(self.num.shape[1] - 1, 0))
        num[ok] = self.num[safe_e[ok], safe_c[ok]]
        den[ok] = self.den[safe_e[ok], safe_c[ok]]
        return num, den


PROGRESS_TABLE_COLUMNS = ["indicator_code", "period", "entity_code", "target", "deadline", "target_source",
                          "target_scope", "status", "gap_points", "gap_units", "needed_pace", "actual_pace",
                          "projected_value", "projected_month", "flags"]


def _month_indices(months: pd.Series) -> np.ndarray:
    """'YYYY-MM' -> year * 12 + month - 1; parsed once per distinct month (a few dozen in
    hundreds of thousands of rows)."""
    codes, distinct = pd.factorize(months.astype(str))
    if not len(distinct):
        return np.zeros(len(codes), dtype=int)
    each = np.array([int(m[:4]) * 12 + int(m[5:7]) - 1 for m in distinct], dtype=int)
    return each[codes]


def progress_frame(rows: pd.DataFrame, panel: _Panel, chains: dict, by_scope: dict,
                   higher_is_better: bool) -> pd.DataFrame:
    """Progress of every figure in `rows` (entity_code, period, end_month, numerator, denominator,
    value, reported), in the columns of aggregate_progress after the indicator: the vectorised form
    of figures.progress_of."""
    from .progress_batch import evaluate_batch

    width = HISTORY_MONTHS + 1
    entities = rows["entity_code"].astype(str).tolist()
    ends = rows["end_month"].astype(str).tolist()
    end_i = _month_indices(rows["end_month"]) if len(rows) else np.zeros(0, dtype=int)
    num, den = panel.window(entities, end_i, width)
    p_num = rows["numerator"].to_numpy(dtype=float)
    p_den = rows["denominator"].to_numpy(dtype=float)
    value = rows["value"].to_numpy(dtype=float)
    reported = rows["reported"].to_numpy(dtype=int)
    # The period's own figure stands as the observation of its last month (figures.period_observations).
    own = reported > 0
    num[own, -1] = np.where(~np.isnan(p_num[own]) & ~np.isnan(p_den[own]), p_num[own], np.nan)
    den[own, -1] = np.where(~np.isnan(p_num[own]) & ~np.isnan(p_den[own]), p_den[own], np.nan)

    targets = _targets_for(entities, ends, chains, by_scope)
    t_value = targets["target"].to_numpy(dtype=float)
    t_deadline = np.where(targets["deadline"].notna(), _month_indices(targets["deadline"].fillna("0000-01")), 0)
    out = evaluate_batch(num, den, end_i - (width - 1), t_value, t_deadline, higher_is_better)

    sign = 1.0 if higher_is_better else -1.0
    with np.errstate(invalid="ignore"):
        gap_points = np.where(~np.isnan(t_value) & ~np.isnan(value), sign * (t_value - value), np.nan)
        gap_units = np.where(~np.isnan(gap_points) & ~np.isnan(p_den) & (p_den != 0),
                             sign * (t_value / 100.0 * p_den - p_num), np.nan)
    projected = out["projected_month"]
    frame = pd.DataFrame({
        "period": rows["period"].to_numpy(), "entity_code": entities,
        "target": t_value, "deadline": targets["deadline"].to_numpy(), "target_source": targets["source"].to_numpy(),
        "target_scope": targets["scope"].to_numpy(),
        "status": np.where((reported == 0) | np.isnan(value), "no_data", out["status"]),
        "gap_points": gap_points, "gap_units": gap_units, "needed_pace": out["needed_pace"],
        "actual_pace": out["actual_pace"], "projected_value": out["projected_value"],
        "projected_month": [month_from_index(int(m)) if m >= 0 else None for m in projected],
        "flags": out["flags"],
    })
    return frame


def _targets_for(entities: list[str], ends: list[str], chains: dict, by_scope: dict) -> pd.DataFrame:
    """The target applying to each (entity, month): its own scope's or its nearest ancestor's, and
    among that scope's targets the earliest deadline not yet passed, else the latest
    (figures.pick_target_and_scope, looked up once per entity and once per scope and month)."""
    from .figures import pick_target_and_scope

    nearest: dict[str, str | None] = {}
    for entity in set(entities):
        chain = chains.get(entity) or [(entity, "")]
        nearest[entity] = next((anc for anc, _level in chain if by_scope.get(anc)), None)
    chosen: dict = {}
    out = []
    for entity, end in zip(entities, ends):
        scope = nearest[entity]
        if scope is None:
            out.append((np.nan, None, None, None))
            continue
        key = (scope, end)
        if key not in chosen:
            target, _ = pick_target_and_scope(by_scope, [(scope, "")], end)
            chosen[key] = (target.value, target.deadline, target.source, scope)
        out.append(chosen[key])
    return pd.DataFrame(out, columns=["target", "deadline", "source", "scope"])


def _num(value) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def rebuild(conn: Connection, on_progress: Callable | None = None) -> dict:
    """Recompute every stored figure (``dashboard db rebuild-aggregates``)."""
    return refresh(conn, Touched(hierarchy=True), on_progress=on_progress)


def ensure(engine) -> bool:
    """Rebuild the stored figures if they were made by other rules than this code's (a database
    upgraded from before they existed, or after a change of the rules). True if it rebuilt."""
    from . import store

    with engine.connect() as conn:
        made_by = conn.execute(text("SELECT value FROM meta WHERE key = 'aggregates_rules'")).scalar()
    if made_by == RULES_VERSION:
        return False
    with store.write_transaction(engine) as conn:
        store.rebuild_hierarchy(conn)  # the closure's rules may have changed with the figures'
        rebuild(conn)
    return True
