"""The read side every view uses: cached figures with names, targets and statuses.

Data flows one way: SQL (queries/) -> frame (aggregation) -> figures here -> figure and
layout (layouts/), the JSON API and the exports. All of them call these functions, so the
map, the table, the API and ``dashboard export`` agree to the last digit.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from flask import has_request_context
import pandas as pd
from sqlalchemy import Engine

from . import aggregation, progress, sql
from .cache import DATABASE_ERRORS, DataUnavailable, current_version, database_back, memoized, on_clear
from .hierarchy import FACILITY
from .config import load_settings
from .database import HIERARCHY_VERSION_KEY, data_version, engine_for, get_meta
from .periods import Period, PeriodError, add_months, month_of, month_range, parse_period


_engine: Engine | None = None


class UnknownIndicator(LookupError):
    pass


class UnknownUnit(LookupError):
    pass


def set_engine(engine: Engine | None) -> None:
    """Point the read side at another database (tests, the CLI's --database)."""
    global _engine
    _engine = engine


def engine() -> Engine:
    return _engine if _engine is not None else engine_for(load_settings().database_url)


def version() -> int:
    """The data version every memoised read is keyed on: read once per web request and reused
    (during a database outage, the last good one); read at every call outside a request."""
    return current_version(_url(), _read_version)


def _read_version() -> int:
    with engine().connect() as conn:
        return data_version(conn)


#: (database, data version) -> the hierarchy version read under it.
_HIERARCHY_VERSIONS: "OrderedDict[tuple, str]" = OrderedDict()


def hierarchy_version() -> str:
    """What reads of the hierarchy alone (units, facilities, the crosswalk, the closure) are
    keyed on: ``meta.hierarchy_version``, bumped by ``store.rebuild_hierarchy``, read once per
    data version in each process. A load of values bumps the data version but leaves this one,
    so the first page after it rebuilds no unit table, resolver or ancestry (75 ms nationally).
    A database that never stored one (written before it existed) is keyed on its data version."""
    url, current = _url(), version()
    known = _HIERARCHY_VERSIONS.get((url, current))
    if known is not None:
        return known
    try:
        with engine().connect() as conn:
            stored = get_meta(conn, HIERARCHY_VERSION_KEY)
    except DATABASE_ERRORS as exc:  # as the data version does: the caller's cache decides
        raise DataUnavailable(str(exc)) from exc
    known = f"h{stored}" if stored else f"d{current}"
    _HIERARCHY_VERSIONS[(url, current)] = known
    while len(_HIERARCHY_VERSIONS) > 64:
        _HIERARCHY_VERSIONS.popitem(last=False)
    return known


def database_answers() -> bool:
    """Does the database answer now? (Asked directly: pages retrying after an outage.)"""
    return database_back(_url(), _read_version)


_URLS: dict[int, tuple[Engine, str]] = {}


def _url() -> str:
    """The database every memo is keyed on, rendered once per engine (it is asked dozens of
    times a request)."""
    eng = engine()
    known = _URLS.get(id(eng))
    if known is None or known[0] is not eng:
        known = (eng, eng.url.render_as_string(hide_password=False))
        if len(_URLS) > 16:
            _URLS.clear()
        _URLS[id(eng)] = known
    return known[1]


#: Small catalogue reads every request makes (indicators, units, the closure...), kept in this
#: process per data version as well, so a cached page is answered without unpickling them again.
#: Their callers never change what they get (they filter, sort and copy).
_LOCAL: "OrderedDict[tuple, object]" = OrderedDict()
_LOCAL_SIZE = 64
on_clear(_LOCAL.clear)
on_clear(_HIERARCHY_VERSIONS.clear)


def _cached(fn=None, *, local: bool = False, on=None):
    """Memoise on the data version (or `on`, another version function: ``hierarchy_version``)
    and the database, so two databases never share entries."""
    if fn is None:
        return lambda f: _cached(f, local=local, on=on)
    keyed_on = on or version
    inner = memoized(keyed_on, name=f"{fn.__module__}.{fn.__qualname__}")(lambda url, *args: fn(*args))

    def wrapper(*args):
        url = _url()
        if not local or not has_request_context():  # outside a request every read sees the latest write
            return inner(url, *args)
        from .cache import outage

        try:
            key = (fn.__qualname__, url, keyed_on(), args)
        except Exception:  # noqa: BLE001 - the database is away: the shared cache's fallback decides
            return inner(url, *args)
        if outage() is not None:  # last-good figures: the shared cache records what it serves
            return inner(url, *args)
        hit = _LOCAL.get(key)
        if hit is not None:
            _LOCAL.move_to_end(key)
            return list(hit) if isinstance(hit, list) else hit
        result = inner(url, *args)
        if outage() is None:  # never keep a fallback figure as current
            _LOCAL[key] = result
            while len(_LOCAL) > _LOCAL_SIZE:
                _LOCAL.popitem(last=False)
        return result

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.uncached = fn
    return wrapper


# --- catalogue ----------------------------------------------------------------------------

@_cached(local=True)
def indicators() -> pd.DataFrame:
    from .catalog.defaults import complete

    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "indicators")
        scopes = sql.fetch_df(conn, "indicator_scopes")
    # Every field a view reads, filled as the store fills it: never NaN, None or "nan" on a page.
    frame = pd.DataFrame([complete(row) for row in frame.to_dict("records")], columns=frame.columns)
    frame["higher_is_better"] = frame["higher_is_better"].astype(bool)
    kinds = scopes.groupby("indicator_code")["entity_kind"].apply(tuple)
    frame["reported_by"] = frame["code"].map(kinds).map(lambda v: v if isinstance(v, tuple) else ())
    return frame.set_index("code", drop=False).rename_axis(None)


@_cached(local=True)
def indicator_codes() -> tuple[str, ...]:
    """Every indicator's code, in catalogue order (what the request reader checks a URL against)."""
    return tuple(indicators()["code"])


@_cached(local=True)
def reported_by() -> dict[str, tuple[str, ...]]:
    """code -> the entity kinds that report it (read per request: kept apart from the frame)."""
    table = indicators()
    return {str(c): tuple(k) for c, k in zip(table["code"], table["reported_by"])}


def indicator(code: str) -> dict:
    table = indicators()
    if code not in table.index:
        raise UnknownIndicator(
            f"Không có chỉ tiêu {code!r} / unknown indicator {code!r}; "
            f"có / known: {', '.join(table.index)}")
    return table.loc[code].to_dict()


@_cached(local=True)
def headline_codes() -> list[str]:
    table = indicators()
    heads = table[table["headline"].notna()].sort_values("headline")
    return list(heads["code"])


def name_of_indicator(code: str, lang: str, short: bool = False) -> str:
    ind = indicator(code)
    if short:
        return ind.get(f"short_{lang}") or ind.get(f"name_{lang}") or ind["name_vi"]
    return ind.get(f"name_{lang}") or ind["name_vi"]


@_cached(local=True, on=hierarchy_version)
def levels() -> list:
    from .hierarchy import Level

    with engine().connect() as conn:
        return [Level(code=r["code"], depth=int(r["depth"]), name_vi=r["name_vi"], name_en=r["name_en"])
                for r in sql.fetch_rows(conn, "levels")]


@_cached(local=True, on=hierarchy_version)
def units() -> pd.DataFrame:
    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "units")
    frame["code"] = frame["code"].astype(str)
    return frame.set_index("code", drop=False).rename_axis(None)


@_cached(local=True, on=hierarchy_version)
def unit_links() -> pd.DataFrame:
    """The crosswalk: old_code → new_code (unit keys), effective date, share (NaN: not given)."""
    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "unit_links")
    for col in ("old_code", "new_code"):
        frame[col] = frame[col].astype(str)
    frame["effective"] = frame["effective"].map(lambda v: str(v)[:10] if v is not None else None)
    frame["share"] = pd.to_numeric(frame["share"], errors="coerce")
    return frame


@_cached(local=True, on=hierarchy_version)
def resolver():
    """unitkeys.Resolver over every unit, built once per data version: what a URL's plain code
    or ``code@YYYY-MM`` names."""
    from .unitkeys import Resolver

    u = units()
    return Resolver(zip(u["code"], u["valid_from"], u["valid_to"]))


def is_old(code: str) -> bool:
    """A unit that has ended (a valid_to): an old unit of before the 2025 reform (a facility:
    its unit's)."""
    u = units()
    if code not in u.index:
        f = facilities()
        if code not in f.index:
            return False
        code = str(f.loc[code, "unit_code"])
        if code not in u.index:
            return False
    return u.loc[code, "valid_to"] is not None and not pd.isna(u.loc[code, "valid_to"])


def _linked(code: str, mine: str, other: str) -> list[dict]:
    links = unit_links()
    own = links[links[mine] == code]
    u = units()
    out = []
    for row in own.itertuples(index=False):
        key = getattr(row, other)
        out.append({"code": key, "name": str(u.loc[key, "name"]) if key in u.index else key,
                    "level": str(u.loc[key, "level"]) if key in u.index else None,
                    "share": None if pd.isna(row.share) else float(row.share), "effective": row.effective})
    return sorted(out, key=lambda r: (r["name"], r["code"]))


def successors(code: str) -> list[dict]:
    """The units an old unit went to (from unit_links): code (key), name, level, share, effective."""
    return _linked(code, "old_code", "new_code")


def predecessors(code: str) -> list[dict]:
    """The old units a unit was formed from (from unit_links), with the share of each it took."""
    return _linked(code, "new_code", "old_code")


def units_mode(code: str, period_label: str | None = None) -> str:
    """How a unit's own figures are read in a period: "today" for a unit valid today that began
    after the period started (its months before the reform derived from its predecessors), else
    "period" (as every listing reads them: the same memoised figures)."""
    if is_old(code):
        return UNITS_PERIOD
    u = units()
    key = code if code in u.index else (str(facilities().loc[code, "unit_code"]) if code in facilities().index else None)
    began = month_of(u.loc[key, "valid_from"]) if key in u.index else None
    if began is None or began != began:
        return UNITS_PERIOD
    if period_label is None:
        return UNITS_TODAY
    return UNITS_TODAY if parse_period(period_label).start < began else UNITS_PERIOD


def default_units(parent: str) -> str:
    """A listing's units when none are asked: beneath a unit of today, today's units (a 2024 map
    of new Hải Phòng shows its communes of today, derived from their predecessors); beneath an old
    unit, its units of then."""
    return UNITS_PERIOD if is_old(parent) else UNITS_TODAY


def units_args(mode: str) -> tuple:
    """figures()' extra argument for a mode: none for "period", so its memo key stays the one
    every other view uses."""
    return () if mode == UNITS_PERIOD else (mode,)


@_cached(local=True, on=hierarchy_version)
def levels_in_use() -> tuple[str, ...]:
    """The levels that hold at least one unit (dashboard.hierarchy orders them)."""
    return tuple(sorted(set(units()["level"])))


@_cached(local=True, on=hierarchy_version)
def facilities() -> pd.DataFrame:
    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "facilities")
    frame["code"] = frame["code"].astype(str)
    return frame.set_index("code", drop=False).rename_axis(None)


@_cached(local=True)
def targets() -> pd.DataFrame:
    with engine().connect() as conn:
        return sql.fetch_df(conn, "targets")


@_cached(local=True, on=hierarchy_version)
def ancestry() -> dict[str, list[tuple[str, str]]]:
    """For every unit and facility, [(code, level), ...] from itself up to the province."""
    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "entity_ancestors")
    frame = frame.sort_values(["entity_code", "depth"])
    out: dict[str, list[tuple[str, str]]] = {}
    for entity_code, ancestor, level in zip(frame["entity_code"], frame["ancestor_code"], frame["ancestor_level"]):
        out.setdefault(str(entity_code), []).append((str(ancestor), level))
    return out


def ancestors(code: str) -> list[tuple[str, str]]:
    """[(code, level), ...] from the entity itself up to the province."""
    return ancestry().get(code, [])


def lineage(code: str) -> list[tuple[str, str, str]]:
    """[(code, level, name), ...] from the province down to `code`, for breadcrumbs."""
    out = []
    for anc, level in reversed(ancestors(code) or [(code, "")]):
        try:
            name = entity(anc)["name"]
        except UnknownUnit:
            name = anc
        out.append((anc, level, name))
    return out


@_cached(local=True, on=hierarchy_version)
def _entities() -> dict[str, dict]:
    """code -> entity dict for every unit and facility, built once per hierarchy version: every
    request names a unit or two, and a pandas row lookup cost 0.1 ms each."""
    out = {str(c): {**row, "level": FACILITY, "parent_code": row["unit_code"]}
           for c, row in facilities().to_dict("index").items()}
    out.update({str(c): row for c, row in units().to_dict("index").items()})  # a unit wins a shared code
    return out


def entity(code: str) -> dict:
    """A unit or a facility as a dict with code, name, level, parent_code (a copy: callers may
    change it)."""
    found = _entities().get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownUnit(f"Không có đơn vị {code!r} / unknown unit or facility {code!r}")
    return dict(found)


@_cached(local=True, on=hierarchy_version)
def root_code() -> str:
    """The top of the hierarchy (the province, or the country): the unit of the top level
    without a parent that is valid today (the first by code if several)."""
    from .hierarchy import root_level

    u = units()
    roots = u[(u["level"] == root_level()) & u["parent_code"].isna()]
    if roots.empty:
        raise UnknownUnit("Chưa có đơn vị hành chính nào / no units loaded")
    current = roots[roots["valid_to"].isna()]
    return str((current if not current.empty else roots).sort_values("code")["code"].iloc[0])


@_cached(local=True)
def latest_month(indicator_code: str | None = None) -> str | None:
    with engine().connect() as conn:
        if indicator_code is None:
            return sql.fetch_value(conn, "latest_month_all") or sql.fetch_value(conn, "latest_month_values")
        return sql.fetch_value(conn, "latest_month", indicator=indicator_code)


@_cached(local=True)
def months(indicator_code: str) -> list[str]:
    with engine().connect() as conn:
        return [str(m) for m in sql.fetch_df(conn, "months_with_data", indicator=indicator_code)["period"]]


@_cached(local=True)
def is_demo() -> bool:
    """True while any stored value comes from the illustrative demo load."""
    with engine().connect() as conn:
        return bool(sql.fetch_value(conn, "demo_rows", yes=True))


@_cached
def data_loads() -> pd.DataFrame:
    with engine().connect() as conn:
        return sql.fetch_df(conn, "data_loads")


# --- periods ------------------------------------------------------------------------------

def resolve_period(label: str | None, indicator_code: str | None = None) -> Period:
    """The period to show: the one asked for, or the latest month with data. Raises PeriodError."""
    if not label:
        last = latest_month(indicator_code) or latest_month()
        if last is None:
            raise PeriodError("Chưa có số liệu / no data loaded yet")
        return parse_period(last)
    return parse_period(label)


def effective_period(period: Period, indicator_code: str) -> Period:
    """A year or quarter still in progress ends at the last month with data."""
    return period.clipped_to(latest_month(indicator_code))


# --- figures ------------------------------------------------------------------------------

def series_live(indicator_code: str, code: str, start: str, end: str) -> pd.DataFrame:
    """series(), rolled up from the raw values at call time (the oracle)."""
    with engine().connect() as conn:
        return aggregation.monthly_series(conn, indicator_code, code, start, end)


@_cached
def series(indicator_code: str, code: str, start: str, end: str) -> pd.DataFrame:
    """Every month from `start` to `end` for one unit or facility, from the stored aggregates: a
    month with no report has value NaN; completeness is counted against the entities expected
    that month."""
    with engine().connect() as conn:
        rows = sql.fetch_df(conn, "aggregate_series", indicator=indicator_code, code=code, start=start, end=end)
    frame = pd.DataFrame({"period": month_range(start, end)})
    if not rows.empty:
        rows["period"] = rows["period"].astype(str)
        frame = frame.merge(rows, on="period", how="left")
    else:
        frame = frame.assign(numerator=np.nan, denominator=np.nan, value=np.nan, reported=0, expected=0, basis=0)
    for col in ("numerator", "denominator", "value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("reported", "expected", "basis"):
        frame[col] = pd.to_numeric(frame.get(col), errors="coerce").fillna(0).astype(int)
    frame.loc[frame["reported"] == 0, ["numerator", "denominator", "value"]] = np.nan
    frame["completeness"] = frame["reported"] / frame["expected"].where(frame["expected"] > 0)
    return frame[aggregation.SERIES_COLUMNS]


@_cached
def not_reported(indicator_code: str, code: str, period_label: str) -> list[str]:
    period = effective_period(parse_period(period_label), indicator_code)
    with engine().connect() as conn:
        return aggregation.not_reported(conn, indicator_code, code, period)


def targets_by_scope(table: pd.DataFrame) -> dict[str, list[progress.Target]]:
    """One indicator's targets grouped by scope, each list sorted by deadline."""
    out: dict[str, list[progress.Target]] = {}
    for scope, value, deadline, source in sorted(
            zip(table["scope_code"], table["value"], table["deadline"], table["source"]),
            key=lambda r: (str(r[0]), str(r[2]))):
        out.setdefault(str(scope), []).append(
            progress.Target(value=float(value), deadline=str(deadline), source=str(source or "")))
    return out


def pick_target(table: pd.DataFrame | dict, chain: list[tuple[str, str]], as_of: str) -> progress.Target | None:
    """The target that applies to an entity whose ancestor chain (itself first) is `chain`:
    its own, else its nearest ancestor's. Among one scope's targets, the earliest deadline
    not yet passed at `as_of`, else the latest one. `table` holds one indicator's targets
    (a frame, or its targets_by_scope() when called in a loop)."""
    return pick_target_and_scope(table, chain, as_of)[0]


def pick_target_and_scope(table: pd.DataFrame | dict, chain: list[tuple[str, str]], as_of: str
                          ) -> tuple[progress.Target | None, str | None]:
    """pick_target, and the code of the unit whose own target it is (itself or an ancestor)."""
    by_scope = targets_by_scope(table) if isinstance(table, pd.DataFrame) else table
    for anc, _level in chain:
        own = by_scope.get(anc)
        if not own:
            continue
        upcoming = [t for t in own if t.deadline >= as_of]
        return (upcoming[0] if upcoming else own[-1]), anc
    return None, None


def resolve_target(indicator_code: str, code: str, as_of: str) -> progress.Target | None:
    table = targets()
    return pick_target(table[table["indicator_code"] == indicator_code], ancestors(code) or [(code, "")], as_of)


def _observations(frame: pd.DataFrame) -> list[progress.Observation]:
    return [progress.Observation(month=str(m), numerator=float(n), denominator=float(d))
            for m, n, d in zip(frame["period"], frame["numerator"], frame["denominator"]) if pd.notna(n)]


def _observations_by_code(history: pd.DataFrame) -> dict[str, list[progress.Observation]]:
    """Monthly observations of every unit in one pass (history is ordered by code, month)."""
    out: dict[str, list[progress.Observation]] = {}
    if history.empty:
        return out
    for code, m, n, d in zip(history["code"], history["period"], history["numerator"], history["denominator"]):
        if pd.notna(n):
            out.setdefault(code, []).append(progress.Observation(month=str(m), numerator=float(n),
                                                                 denominator=float(d)))
    return out


def period_observations(history: list[progress.Observation], as_of: str, numerator, denominator
                        ) -> list[progress.Observation]:
    """The monthly history with the period's own figure standing as the observation of its
    last month (`as_of`). For a month it is that month's figure; for a quarter or a year the
    period's sum (flow) or latest months (stock) replace the last month, so the status, the gap
    and the value shown always describe the same figure; the pace still comes from the months."""
    obs = [o for o in history if o.month != as_of]
    if pd.notna(numerator) and pd.notna(denominator):
        obs.append(progress.Observation(month=as_of, numerator=float(numerator), denominator=float(denominator)))
    return obs


def units_at(level: str, parent: str | None, period: Period, today: bool = False) -> pd.DataFrame:
    """The units (or facilities) of `level` beneath `parent`, valid at some point of `period`
    (`today`: valid today instead, as figures(units="today") lists them)."""
    if level == FACILITY:
        frame = facilities()[["code", "name", "unit_code"]].rename(columns={"unit_code": "parent_code"})
        frame = frame.assign(level=FACILITY)
    else:
        u = units()
        months = pd.DataFrame({"valid_from": u["valid_from"].map(month_of), "valid_to": u["valid_to"].map(month_of)})
        valid = aggregation.valid_during(months, *((_OPEN_MONTH, _OPEN_MONTH) if today else (period.start, period.end)))
        frame = u[(u["level"] == level) & valid][["code", "name", "parent_code", "level"]]
    if parent:
        tree = ancestry()
        inside = [c for c in frame["code"] if any(a == parent for a, _ in tree.get(c, ()))]
        frame = frame[frame["code"].isin(inside)]
    return frame.reset_index(drop=True)


FIGURE_COLUMNS = ["code", "name", "level", "parent_code", "numerator", "denominator", "value", "basis", "target",
                  "deadline", "target_source", "status", "reported", "expected", "completeness",
                  "gap_points", "gap_units", "needed_pace", "actual_pace", "projected_value",
                  "projected_month", "flags", "last_month"]
PROGRESS_COLUMNS = ["target", "deadline", "target_source", "status", "gap_points", "gap_units", "needed_pace",
                    "actual_pace", "projected_value", "projected_month", "flags"]


def progress_of(higher_is_better: bool, targets_of_scope: dict, chain: list[tuple[str, str]],
                history: list[progress.Observation], as_of: str, numerator, denominator, value,
                reported: int) -> dict:
    """A figure's progress against the target that applies to it: what the stored aggregates and
    the on-the-fly figures both write beside the sums (one function, so they never disagree).

    `history` is the entity's monthly observations up to `as_of`; progress is judged on the figure
    shown for the period (see period_observations), never on the last month alone: a year's 46 %
    is not "achieved" because December hit 50 %. Nobody reported: "no_data"."""
    target, scope = pick_target_and_scope(targets_of_scope, chain, as_of)
    obs = period_observations(history, as_of, numerator, denominator) if reported else history
    prog = progress.evaluate(obs, target, as_of, higher_is_better=higher_is_better)
    status = "no_data" if reported == 0 or pd.isna(value) else prog.status
    gap_points = gap_units = None
    if target is not None and pd.notna(value):
        gap_points = (target.value - value) if higher_is_better else (value - target.value)
        if pd.notna(denominator) and denominator:
            gap_units = (target.value / 100.0 * denominator - numerator) if higher_is_better \
                else (numerator - target.value / 100.0 * denominator)
    return {"target": target.value if target else None, "deadline": target.deadline if target else None,
            "target_source": target.source if target else None, "target_scope": scope, "status": status,
            "gap_points": gap_points, "gap_units": gap_units, "needed_pace": prog.needed_pace,
            "actual_pace": prog.actual_pace, "projected_value": prog.projected_value,
            "projected_month": prog.projected_month, "flags": ",".join(prog.flags)}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("numerator", "denominator", "value", "gap_points", "gap_units", "needed_pace", "actual_pace",
                "projected_value", "target"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("reported", "expected"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype(int)
    basis = pd.to_numeric(frame["basis"], errors="coerce") if "basis" in frame else pd.Series(0, index=frame.index)
    frame["basis"] = basis.fillna(0).astype(int)
    frame["completeness"] = frame["reported"] / frame["expected"]
    frame["code"] = frame["code"].astype(str)
    return frame


def figures_live(indicator_code: str, period_label: str, level: str, parent: str | None = None,
                 units: str | None = None) -> pd.DataFrame:
    """figures(), rolled up from the raw values at call time by dashboard.aggregation: the oracle
    the stored aggregates are tested against (and what they are computed to equal)."""
    from .hierarchy import is_level

    if not is_level(level):
        raise ValueError(f"Cấp không hợp lệ {level!r} / invalid level {level!r}")
    ind = indicator(indicator_code)
    period = effective_period(parse_period(period_label), indicator_code)
    units = units or default_units(parent or root_code())
    # Beneath the root, as figures() reads (old provinces, valid to 2025-06, are roots of their own).
    frame = units_at(level, parent or root_code(), period, today=units == UNITS_TODAY)
    with engine().connect() as conn:
        sums = aggregation.rollup(conn, indicator_code, ind["time_agg"], period, level)
        history = sql.fetch_df(conn, "rollup_monthly", indicator=indicator_code, level=level,
                               start=add_months(period.end, -24), end=period.end)
    if not history.empty:
        history["code"] = history["code"].astype(str)
        history["period"] = history["period"].astype(str)
    frame = frame.merge(sums, on="code", how="left")
    frame["reported"] = frame["reported"].fillna(0).astype(int)
    frame["expected"] = frame["expected"].fillna(0).astype(int)
    by_code = _observations_by_code(history)
    tree = ancestry()
    all_targets = targets()
    own_targets = targets_by_scope(all_targets[all_targets["indicator_code"] == indicator_code])
    out = [progress_of(bool(ind["higher_is_better"]), own_targets, tree.get(row.code) or [(row.code, level)],
                       by_code.get(row.code, []), period.end, row.numerator, row.denominator, row.value,
                       int(row.reported))
           for row in frame.itertuples(index=False)]
    extra = pd.DataFrame(out, index=frame.index, columns=PROGRESS_COLUMNS)
    frame = pd.concat([frame, extra], axis=1)
    return _typed(frame)[FIGURE_COLUMNS]


#: ``units`` of figures(): the units valid in the period viewed ("period", the default), or the
#: units valid today ("today": a month before the 2025 reform as today's units, from their
#: predecessors, each figure with its basis).
UNITS_PERIOD, UNITS_TODAY = "period", "today"
_OPEN_MONTH = "9999-12"  # validity window of "today": only units still valid


@_cached
def figures(indicator_code: str, period_label: str, level: str, parent: str | None = None,
            units: str | None = None) -> pd.DataFrame:
    """Every unit of `level` under `parent` (default: the root) for one indicator and period: the
    sums, the value and its basis, the target that applies, progress against it and reporting
    completeness, read from the aggregates stored at load time. Units where nobody reported keep
    NaN figures and the status 'no_data'; units nobody beneath reports have expected 0.

    `units` "today" lists the units valid today (not those of the period): before the reform,
    their figures are derived from their predecessors (``basis`` 1 exact, 2 estimated). "period"
    lists the units of the period, with their own reported figures. By default it follows the
    parent: beneath a unit valid today, today's units (a 2024 map of new Hải Phòng shows its
    communes of today, on today's boundaries); beneath an old unit, its units of then."""
    from .hierarchy import is_level

    if not is_level(level):
        raise ValueError(f"Cấp không hợp lệ {level!r} / invalid level {level!r}")
    parent = parent or root_code()
    units = units or default_units(parent)
    period = effective_period(parse_period(period_label), indicator_code)
    start, end = (_OPEN_MONTH, _OPEN_MONTH) if units == UNITS_TODAY else (period.start, period.end)
    with engine().connect() as conn:
        frame = sql.fetch_df(conn, "aggregate_rows", indicator=indicator_code, period=period.label, level=level,
                             kind_pattern=f"{FACILITY}:%" if level == FACILITY else "",
                             parent=parent, start=start, end=end)
    if frame.empty:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    frame["status"] = frame["status"].where(frame["status"].notna(), "no_data")
    frame["flags"] = frame["flags"].fillna("")
    frame["parent_code"] = frame["parent_code"].map(lambda v: None if v is None or pd.isna(v) else str(v))
    return _typed(frame)[FIGURE_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class Headline:
    indicator: dict
    period: Period
    code: str
    row: dict
    sparkline: pd.DataFrame
    progress: progress.Progress
    as_of: str | None


@_cached
def headline(indicator_code: str, period_label: str, code: str) -> Headline:
    """One headline card: the figure of `code` for the period, its 12-month trend and progress."""
    period = effective_period(parse_period(period_label), indicator_code)
    level = entity(code)["level"]
    table = figures(indicator_code, period_label, level, code,
                    *units_args(units_mode(code, period_label)))  # the unit's own row
    row = table[table["code"] == code]
    row = row.iloc[0].to_dict() if not row.empty else {c: np.nan for c in FIGURE_COLUMNS} | {"code": code, "status": "no_data"}
    longer = series(indicator_code, code, add_months(period.end, -23), period.end)
    spark = longer.tail(12).reset_index(drop=True)  # the card's 12 months: no second query
    ind = indicator(indicator_code)
    target = resolve_target(indicator_code, code, period.end)
    obs = _observations(longer)
    if row.get("reported"):
        obs = period_observations(obs, period.end, row.get("numerator"), row.get("denominator"))
    prog = progress.evaluate(obs, target, period.end, higher_is_better=ind["higher_is_better"])
    return Headline(indicator=ind, period=period, code=code, row=row, sparkline=spark, progress=prog,
                    as_of=latest_month(indicator_code))


# --- change over time ---------------------------------------------------------------------

def comparison_labels(period_label: str, indicator_code: str | None = None) -> dict[str, str | None]:
    """The earlier periods a figure is compared with: ``previous`` (the month, quarter or year
    before) and ``year_ago`` (the same month or quarter a year earlier; for a year, the one before,
    so only ``year_ago``). A quarter or year still in progress is compared only for a stock (its
    latest month stands for it); a flow's part-period sum against a whole one would mislead."""
    period = parse_period(period_label)
    if period.kind == "month":
        return {"previous": add_months(period.end, -1), "year_ago": add_months(period.end, -12)}
    if indicator_code is not None:
        clipped = effective_period(period, indicator_code)
        if clipped.end != period.end and indicator(indicator_code)["time_agg"] == "flow":
            return {"previous": None, "year_ago": None}
    year = int(period.start[:4])
    if period.kind == "quarter":
        quarter = (int(period.start[5:7]) - 1) // 3 + 1
        before = add_months(period.start, -3)
        return {"previous": f"{before[:4]}-Q{(int(before[5:7]) - 1) // 3 + 1}", "year_ago": f"{year - 1}-Q{quarter}"}
    return {"previous": None, "year_ago": str(year - 1)}


@_cached
def earlier_values(indicator_code: str, period_label: str, level: str, parent: str | None = None,
                   units: str = UNITS_PERIOD) -> dict[str, dict[str, float | None]]:
    """{code: {"previous": value, "year_ago": value}} for the units figures() lists with the same
    arguments, read from the same stored aggregates (None: nobody reported then, or no such period
    to compare with). The views say the change with wording.change_text."""
    out: dict[str, dict[str, float | None]] = {}
    for which, label in comparison_labels(period_label, indicator_code).items():
        frame = figures(indicator_code, label, level, parent, units) if label else pd.DataFrame(columns=FIGURE_COLUMNS)
        values = {str(c): (float(v) if pd.notna(v) else None) for c, v in zip(frame["code"], frame["value"])}
        for code in values:
            out.setdefault(code, {"previous": None, "year_ago": None})[which] = values[code]
    return out
