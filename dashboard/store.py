"""Writes. Every function here runs inside the caller's transaction; `write_transaction`
opens one, refreshes the stored aggregates for what the writes touched (each write records it
with ``aggregates.touched(conn)``), then bumps the data version: readers see the figures before
the load or after it, never a mix.

The statements are named files in ``queries/`` (as on the read side). Nothing stored is lost:
given a load id, every writer keeps what it replaces (``kpi_value_history`` for values,
``record_history`` for the small tables), so a load can be undone exactly. The counts of
rows added and replaced come from the same comparison that picks the rows to keep:
``split_changes`` for the small tables, ``staged_value_changes`` for values.
"""
from __future__ import annotations

import getpass
import hashlib
import itertools
import json
import math
import os
import re
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, Engine

from . import aggregates, sql
from .catalog import builtin_indicators
from .catalog.defaults import complete as complete_indicator
from .database import bump_data_version, bump_hierarchy_version
from .periods import month_of

UNIT_LEVELS = ("province", "district", "commune")
FACILITY_TYPES = ("hospital", "health_centre", "station", "other")
LEVEL_ORDER = {"province": 0, "district": 1, "commune": 2, "facility": 3}

#: Rows per executemany while staging values on SQLite.
STAGE_CHUNK = 20_000

#: The small tables: key columns, the named query that reads them, and the columns kept in history.
TABLES = {
    "units": (("code",), "units", ("code", "name", "level", "parent_code", "valid_from", "valid_to")),
    "facilities": (("code",), "facilities", ("code", "name", "type", "unit_code", "lat", "lon")),
    "targets": (("indicator_code", "scope_code", "deadline"), "targets",
                ("indicator_code", "scope_code", "value", "deadline", "source", "note")),
    "unit_links": (("old_code", "new_code"), "unit_links", ("old_code", "new_code", "effective", "share", "basis")),
    "indicators": (("code",), "indicators",
                   ("code", "name_vi", "name_en", "short_vi", "short_en", "numerator_vi", "numerator_en",
                    "denominator_vi", "denominator_en", "time_agg", "higher_is_better", "display_unit",
                    "decimals", "grp", "unit_vi", "unit_en", "gap_vi", "gap_en", "headline", "sort_order")),
}


@contextmanager
def write_transaction(engine: Engine, on_progress=None) -> Iterator[Connection]:
    """One transaction for a whole load: all of it or none of it. `on_progress(done, total,
    indicator)` hears how the refresh of the aggregates goes (minutes at national scale)."""
    with engine.begin() as conn:
        yield conn
        if aggregates.touched(conn):
            aggregates.refresh(conn, on_progress=on_progress)
        bump_data_version(conn)


def nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def _plain(value: Any) -> Any:
    """A value as drivers and JSON expect it: NaN/NaT -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN/NaT turned into None, the way drivers expect."""
    return [{k: _plain(v) for k, v in row.items()} for row in frame.astype(object).to_dict("records")]


# --- what is stored, and what a write changes ---------------------------------------------

def _json_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _key_of(table: str, row: dict) -> tuple:
    keys = TABLES[table][0]
    return tuple(str(_plain(row[k])) if _plain(row[k]) is not None else None for k in keys)


def stored_rows(conn: Connection, table: str) -> dict[tuple, dict]:
    """Every row of a small table by key (units, facilities, targets, indicators with their
    reporting kinds as ``reported_by``)."""
    _keys, query, columns = TABLES[table]
    frame = sql.fetch_df(conn, query)
    out: dict[tuple, dict] = {}
    for row in frame.to_dict("records"):
        record = {c: _json_value(row.get(c)) for c in columns}
        out[_key_of(table, record)] = record
    if table == "indicators" and out:
        scopes = sql.fetch_df(conn, "indicator_scopes")
        kinds: dict[str, list[str]] = {}
        for code, kind in zip(scopes["indicator_code"], scopes["entity_kind"]):
            kinds.setdefault(str(code), []).append(str(kind))
        for (code,), record in out.items():
            record["reported_by"] = sorted(kinds.get(code, []))
    return out


def split_changes(keys: Iterable[tuple], stored: dict[tuple, Any]) -> tuple[int, int]:
    """(added, replaced) for rows with these keys laid over `stored`: the one count, for a
    dry run, the audit and the store's own return values alike."""
    added = replaced = 0
    for key in keys:
        if key in stored:
            replaced += 1
        else:
            added += 1
    return added, replaced


def keep_history(conn: Connection, table: str, keys: Iterable[tuple], stored: dict[tuple, dict],
                 load_id: int) -> None:
    """Before load `load_id` writes these keys of a small table: keep each stored row it
    replaces, and note the keys it adds (their previous row is NULL)."""
    history = [{"load_id": load_id, "table_name": table, "row_key": json.dumps(list(key), ensure_ascii=False),
                "previous": None if stored.get(key) is None else json.dumps(stored[key], ensure_ascii=False,
                                                                            sort_keys=True)}
               for key in keys]
    if history:
        conn.execute(sql.statement("record_history_insert"), history)


def _write(conn: Connection, table: str, statement: str, rows: list[dict], load_id: int | None,
           stored: dict[tuple, dict] | None) -> tuple[int, int]:
    """Write rows of a small table; with a load id, keep what they replace first (without
    one, as for the demo, there is no load to undo)."""
    stored = stored_rows(conn, table) if stored is None else stored
    keys = [_key_of(table, r) for r in rows]
    if load_id is not None:
        keep_history(conn, table, keys, stored, load_id)
    if rows:
        conn.execute(sql.statement(statement), rows)
    return split_changes(keys, stored)


# --- indicators -------------------------------------------------------------------------

def indicator_row(ind: dict, order: int = 0) -> dict:
    """A catalogue or import record (``time``, ``group``) as a complete ``indicators`` row."""
    row = {k: nfc(v) for k, v in ind.items() if k not in ("time", "group", "reported_by")}
    if "time" in ind:
        row["time_agg"] = ind["time"]
    if "group" in ind:
        row["grp"] = ind["group"]
    row.setdefault("sort_order", order)
    complete = complete_indicator(row)
    return {c: complete.get(c) for c in TABLES["indicators"][2]}


def upsert_indicators(conn: Connection, indicators: list[dict], load_id: int | None = None,
                      stored: dict[tuple, dict] | None = None) -> tuple[int, int]:
    """Insert or update indicator definitions (missing fields get their defaults) and their
    reporting scopes. Returns (added, replaced)."""
    rows = [indicator_row(ind, order) for order, ind in enumerate(indicators)]
    stored = stored_rows(conn, "indicators") if stored is None else stored
    counts = _write(conn, "indicators", "indicator_upsert", rows, load_id, stored)
    aggregates.touched(conn).indicators.update(r["code"] for r in rows)
    for ind in indicators:
        if ind.get("reported_by"):
            conn.execute(sql.statement("indicator_scopes_delete"), {"code": ind["code"]})
            conn.execute(sql.statement("indicator_scope_insert"),
                         [{"code": ind["code"], "kind": kind} for kind in ind["reported_by"]])
    return counts


def load_builtin_indicators(conn: Connection) -> tuple[int, int]:
    return upsert_indicators(conn, builtin_indicators())


# --- hierarchy --------------------------------------------------------------------------

def upsert_units(conn: Connection, units: pd.DataFrame, load_id: int | None = None,
                 stored: dict[tuple, dict] | None = None) -> tuple[int, int]:
    """Insert or update units (parents before children). Returns (added, replaced)."""
    frame = units.copy()
    frame["name"] = frame["name"].map(nfc)
    for col in ("valid_from", "valid_to"):
        if col not in frame:
            frame[col] = None
    stored = stored_rows(conn, "units") if stored is None else stored
    frame["_depth"] = _depths(frame, {k[0]: r["parent_code"] for k, r in stored.items()})
    frame = frame.sort_values("_depth", kind="stable")
    rows = _records(frame[list(TABLES["units"][2])])
    return _write(conn, "units", "unit_upsert", rows, load_id, stored)


def _depths(frame: pd.DataFrame, existing_parents: dict[str, str | None]) -> list[int]:
    parents = dict(existing_parents)
    parents.update(dict(zip(frame["code"].astype(str), frame["parent_code"])))
    out = []
    for code in frame["code"].astype(str):
        depth, seen, cur = 0, {code}, parents.get(code)
        while cur is not None and isinstance(cur, str):
            if cur in seen:
                raise ValueError(f"cyclic parent chain at unit {code}")
            seen.add(cur)
            depth += 1
            cur = parents.get(cur)
        out.append(depth)
    return out


def upsert_links(conn: Connection, links: pd.DataFrame, load_id: int | None = None,
                 stored: dict[tuple, dict] | None = None) -> tuple[int, int]:
    """Insert or update crosswalk links (``old_code``, ``new_code`` as unit keys, ``effective``
    date, ``share`` or None, ``basis`` note). The hierarchy must be rebuilt after. Returns
    (added, replaced)."""
    frame = links.copy()
    for col in ("share", "basis"):
        if col not in frame:
            frame[col] = None
    frame["basis"] = frame["basis"].map(nfc)
    rows = _records(frame[list(TABLES["unit_links"][2])])
    aggregates.touched(conn).hierarchy = True
    return _write(conn, "unit_links", "unit_link_upsert", rows, load_id, stored)


def upsert_facilities(conn: Connection, facilities: pd.DataFrame, load_id: int | None = None,
                      stored: dict[tuple, dict] | None = None) -> tuple[int, int]:
    """Insert or update facilities. Returns (added, replaced)."""
    frame = facilities.copy()
    frame["name"] = frame["name"].map(nfc)
    for col in ("lat", "lon"):
        if col not in frame:
            frame[col] = None
    rows = _records(frame[list(TABLES["facilities"][2])])
    return _write(conn, "facilities", "facility_upsert", rows, load_id, stored)


def rebuild_hierarchy(conn: Connection) -> int:
    """Recompute entity_ancestors (each unit and facility with all its ancestors, itself
    included) from units and facilities, then the crosswalk rows that carry old entities up
    through their successors before the reform (``dashboard/reform.py``). The hierarchy is
    data: call after any change of units, facilities or links."""
    from . import reform

    from sqlalchemy import inspect

    units = sql.fetch_df(conn, "units")
    facilities = sql.fetch_df(conn, "facilities")
    reform_schema = inspect(conn).has_table("unit_links")  # False while upgrading from before 0009
    links = sql.fetch_df(conn, "unit_links") if reform_schema else pd.DataFrame()
    parent = dict(zip(units["code"].astype(str), units["parent_code"]))
    level = dict(zip(units["code"].astype(str), units["level"]))
    validity = {str(r.code): (month_of(r.valid_from), month_of(r.valid_to)) for r in units.itertuples()}

    def chain(code: str) -> list[str]:
        out, seen = [], set()
        while code is not None and isinstance(code, str) and code not in seen:
            seen.add(code)
            out.append(code)
            code = parent.get(code)
        return out

    rows = []
    entities = []  # (code, kind, valid_from, valid_to, chain) of every entity, for the crosswalk
    for code in units["code"].astype(str):
        vf, vt = validity[code]
        own = chain(code)
        entities.append((code, level[code], vf, vt, own))
        for depth, anc in enumerate(own):
            rows.append({"entity_code": code, "entity_kind": level[code], "ancestor_code": anc,
                         "ancestor_level": level[anc], "depth": depth, "valid_from": vf, "valid_to": vt})
    for fac in facilities.itertuples():
        # A facility outlives the reform: it reports from its start (unknown here) until its
        # unit ends, so a station's 2024 values count under the commune it belongs to today.
        vf, vt = None, validity.get(str(fac.unit_code), (None, None))[1]
        kind = f"facility:{fac.type}"
        own = chain(str(fac.unit_code))
        entities.append((str(fac.code), kind, vf, vt, own))
        rows.append({"entity_code": fac.code, "entity_kind": kind, "ancestor_code": fac.code,
                     "ancestor_level": "facility", "depth": 0, "valid_from": vf, "valid_to": vt})
        for depth, anc in enumerate(own, start=1):
            rows.append({"entity_code": fac.code, "entity_kind": kind, "ancestor_code": anc,
                         "ancestor_level": level[anc], "depth": depth, "valid_from": vf, "valid_to": vt})
    for row in rows:
        row["share"], row["via"] = 1.0, 0
    if reform_schema and not links.empty:
        pairs = {(str(r["entity_code"]), str(r["ancestor_code"])) for r in rows}
        rows += reform.closure_rows(entities, links.to_dict("records"), chain, level, pairs)
    aggregates.touched(conn).hierarchy = True
    bump_hierarchy_version(conn)  # readers rebuild their unit tables and closure (figures.hierarchy_version)
    conn.execute(sql.statement("entity_ancestors_delete"))
    if rows:
        conn.execute(sql.statement("entity_ancestor_insert" if reform_schema else "entity_ancestor_insert_pre_reform"),
                     rows)
    return len(rows)


# --- targets ----------------------------------------------------------------------------

def upsert_targets(conn: Connection, targets: pd.DataFrame, load_id: int | None = None,
                   stored: dict[tuple, dict] | None = None) -> tuple[int, int]:
    """Targets keyed by (indicator, scope, deadline); a re-import replaces the value and source."""
    frame = targets.rename(columns={"indicator": "indicator_code", "unit_code": "scope_code"}).copy()
    for col in ("source", "note"):
        if col not in frame:
            frame[col] = None
    frame["source"] = frame["source"].map(nfc)
    frame["note"] = frame["note"].map(nfc)
    rows = _records(frame[list(TABLES["targets"][2])])
    aggregates.touched(conn).targets.update(r["indicator_code"] for r in rows)
    return _write(conn, "targets", "target_upsert", rows, load_id, stored)


# --- loads ------------------------------------------------------------------------------

def frame_checksum(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(frame.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def record_load(conn: Connection, *, kind: str, source_file: str, checksum: str, user: str | None = None,
                is_demo: bool = False) -> int:
    result = conn.execute(sql.statement("data_load_insert"),
                          {"at": datetime.now(timezone.utc), "user": user or current_user(), "kind": kind,
                           "file": source_file, "checksum": checksum, "demo": is_demo})
    return int(result.scalar_one())


def finish_load(conn: Connection, load_id: int, added: int, replaced: int) -> None:
    conn.execute(sql.statement("data_load_finish"),
                 {"added": added, "replaced": replaced, "total": added + replaced, "id": load_id})


def analyze_after_load(conn: Connection) -> None:
    """PostgreSQL: planner statistics for the tables a load writes, inside the load's
    transaction, so they commit with the rows (and queries later in the transaction plan
    with them too). SQLite plans well without them."""
    if conn.dialect.name == "postgresql":
        conn.execute(sql.statement("analyze_loaded_tables"))


# --- values -----------------------------------------------------------------------------
#
# Values go through a temporary table: rows are staged (COPY on PostgreSQL, chunked
# executemany on SQLite), counted against kpi_values once, then laid over it with three
# set-based statements per file: keep the rows about to be replaced, then replace them (an upsert
# on SQLite; delete and insert on PostgreSQL).

#: A staged row: (file_no, indicator_code, period, entity_code, numerator, denominator).
StagedRow = tuple[int, str, str, str, float, float]


def begin_value_stage(conn: Connection) -> None:
    conn.execute(sql.statement("staged_values_create"))
    conn.execute(sql.statement("staged_values_clear"))


def stage_values(conn: Connection, rows: Iterable[StagedRow]) -> int:
    """Append rows to the stage; returns how many."""
    rows = iter(rows)
    n = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            with cursor.copy(sql.statement("staged_values_copy").text) as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n
    # The driver's own executemany with tuples: sqlite3 binds named parameters from dicts
    # three times slower than numbered ones from tuples, so the file's :names become ?1, ?2…
    # in the order of StagedRow.
    names = ["file_no", "indicator_code", "period", "entity_code", "numerator", "denominator"]
    statement = re.sub(r":(\w+)", lambda m: f"?{names.index(m.group(1)) + 1}",
                       sql.statement("staged_values_insert").text)
    cursor = conn.connection.driver_connection.cursor()
    try:
        while chunk := list(itertools.islice(rows, STAGE_CHUNK)):
            cursor.executemany(statement, chunk)
            n += len(chunk)
    finally:
        cursor.close()
    return n


def staged_value_changes(conn: Connection) -> dict[int, tuple[int, int]]:
    """file_no -> (added, replaced) of the staged rows against kpi_values as stored now."""
    if conn.dialect.name == "postgresql":
        conn.execute(sql.statement("staged_values_analyze"))
    out = {}
    for file_no, staged, replaced in conn.execute(sql.statement("staged_values_changes")):
        out[int(file_no)] = (int(staged) - int(replaced), int(replaced))
    return out


def apply_staged_values(conn: Connection, file_no: int, load_id: int, replaced: int) -> None:
    """Lay one file's staged rows over kpi_values, keeping each row they replace.
    `replaced` is the file's count from staged_value_changes: a file that replaces nothing
    (a first load) skips the join that keeps and deletes."""
    params = {"file_no": file_no, "load_id": load_id}
    record = aggregates.touched(conn)
    written: dict[str, set[str]] = {}
    for indicator, entity in conn.execute(sql.statement("staged_values_entities"), {"file_no": file_no}):
        written.setdefault(str(indicator), set()).add(str(entity))
    for indicator, month in conn.execute(sql.statement("staged_values_months"), {"file_no": file_no}):
        record.values(str(indicator), {str(month)}, written.get(str(indicator), set()))
    if replaced:
        conn.execute(sql.statement("kpi_value_history_insert"), params)
    # Measured on 2.4 M replaced rows: SQLite replaces fastest in place (an upsert touches
    # only the index holding the two numbers), PostgreSQL fastest by delete and insert in key
    # order (its UPDATE rewrote every index entry in random order, several times slower).
    if conn.dialect.name == "sqlite":
        conn.execute(sql.statement("kpi_values_upsert_staged"), params)
        return
    if replaced:
        conn.execute(sql.statement("kpi_values_delete_staged"), params)
    conn.execute(sql.statement("kpi_values_insert_staged"), params)


def end_value_stage(conn: Connection) -> None:
    conn.execute(sql.statement("staged_values_drop"))


def upsert_values(conn: Connection, values: pd.DataFrame, load_id: int) -> tuple[int, int]:
    """Write (indicator, entity_code or unit_code, period, numerator, denominator) rows of one
    load. A row for an existing (indicator, entity, month) replaces it, and the replaced row
    is kept. Returns (added, replaced)."""
    frame = values.rename(columns={"indicator": "indicator_code", "unit_code": "entity_code"})
    begin_value_stage(conn)
    stage_values(conn, ((0, str(i), str(p), str(e), float(n), float(d)) for i, p, e, n, d in zip(
        frame["indicator_code"], frame["period"], frame["entity_code"], frame["numerator"],
        frame["denominator"])))
    added, replaced = staged_value_changes(conn).get(0, (0, 0))
    apply_staged_values(conn, 0, load_id, replaced)
    end_value_stage(conn)
    return added, replaced
