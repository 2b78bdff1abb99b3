"""Writes. Every function here runs inside the caller's transaction; `write_transaction`
opens one, refreshes the stored aggregates for what the writes touched (each write records it
with ``aggregates.touched(conn)``), then bumps the data version: readers see the figures before
the load or after it, never a mix."""
from __future__ import annotations

import getpass
import hashlib
import os
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import pandas as pd
from sqlalchemy import Connection, Engine, text

from . import aggregates
from .catalog import builtin_indicators
from .database import bump_data_version
from .periods import month_of

UNIT_LEVELS = ("province", "district", "commune")
FACILITY_TYPES = ("hospital", "health_centre", "station", "other")
LEVEL_ORDER = {"province": 0, "district": 1, "commune": 2, "facility": 3}


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for a whole load: all of it or none of it."""
    with engine.begin() as conn:
        yield conn
        if aggregates.touched(conn):
            aggregates.refresh(conn)
        bump_data_version(conn)


def nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN/NaT turned into None, the way drivers expect."""
    clean = frame.astype(object).where(pd.notna(frame), None)
    return clean.to_dict("records")


# --- indicators -------------------------------------------------------------------------

def upsert_indicators(conn: Connection, indicators: list[dict]) -> int:
    """Insert or update indicator definitions and their reporting scopes."""
    for order, ind in enumerate(indicators):
        row = {
            "code": ind["code"], "name_vi": nfc(ind["name_vi"]), "name_en": ind.get("name_en") or ind["name_vi"],
            "short_vi": nfc(ind.get("short_vi")), "short_en": ind.get("short_en"),
            "numerator_vi": nfc(ind.get("numerator_vi")), "numerator_en": ind.get("numerator_en"),
            "denominator_vi": nfc(ind.get("denominator_vi")), "denominator_en": ind.get("denominator_en"),
            "time_agg": ind["time"], "higher_is_better": bool(ind.get("higher_is_better", True)),
            "display_unit": ind.get("display_unit", "%"), "decimals": int(ind.get("decimals", 1)),
            "grp": ind.get("group"), "unit_vi": nfc(ind.get("unit_vi")), "unit_en": ind.get("unit_en"),
            "gap_vi": nfc(ind.get("gap_vi")), "gap_en": ind.get("gap_en"),
            "headline": ind.get("headline"), "sort_order": int(ind.get("sort_order", order)),
        }
        cols = list(row)
        conn.execute(text(
            f"INSERT INTO indicators ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
            f"ON CONFLICT (code) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols if c != 'code')}"
        ), row)
        aggregates.touched(conn).indicators.add(ind["code"])
        if ind.get("reported_by"):
            conn.execute(text("DELETE FROM indicator_scopes WHERE indicator_code = :code"), {"code": ind["code"]})
            conn.execute(text("INSERT INTO indicator_scopes (indicator_code, entity_kind) VALUES (:code, :kind)"),
                         [{"code": ind["code"], "kind": kind} for kind in ind["reported_by"]])
    return len(indicators)


def load_builtin_indicators(conn: Connection) -> int:
    return upsert_indicators(conn, builtin_indicators())


# --- hierarchy --------------------------------------------------------------------------

def upsert_units(conn: Connection, units: pd.DataFrame) -> tuple[int, int]:
    """Insert or update units (parents before children). Returns (added, replaced)."""
    existing = set(pd.read_sql(text("SELECT code FROM units"), conn)["code"].astype(str))
    frame = units.copy()
    frame["name"] = frame["name"].map(nfc)
    for col in ("valid_from", "valid_to"):
        if col not in frame:
            frame[col] = None
    frame["_depth"] = _depths(frame, existing_parents=_existing_parent_map(conn))
    frame = frame.sort_values("_depth")
    cols = ["code", "name", "level", "parent_code", "valid_from", "valid_to"]
    rows = _records(frame[cols])
    conn.execute(text(
        "INSERT INTO units (code, name, level, parent_code, valid_from, valid_to) "
        "VALUES (:code, :name, :level, :parent_code, :valid_from, :valid_to) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, "
        "parent_code = excluded.parent_code, valid_from = excluded.valid_from, valid_to = excluded.valid_to"
    ), rows)
    added = sum(1 for r in rows if r["code"] not in existing)
    return added, len(rows) - added


def _existing_parent_map(conn: Connection) -> dict[str, str | None]:
    frame = pd.read_sql(text("SELECT code, parent_code FROM units"), conn)
    return dict(zip(frame["code"].astype(str), frame["parent_code"]))


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


def upsert_facilities(conn: Connection, facilities: pd.DataFrame) -> tuple[int, int]:
    existing = set(pd.read_sql(text("SELECT code FROM facilities"), conn)["code"].astype(str))
    frame = facilities.copy()
    frame["name"] = frame["name"].map(nfc)
    for col in ("lat", "lon"):
        if col not in frame:
            frame[col] = None
    rows = _records(frame[["code", "name", "type", "unit_code", "lat", "lon"]])
    conn.execute(text(
        "INSERT INTO facilities (code, name, type, unit_code, lat, lon) "
        "VALUES (:code, :name, :type, :unit_code, :lat, :lon) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, "
        "unit_code = excluded.unit_code, lat = excluded.lat, lon = excluded.lon"
    ), rows)
    added = sum(1 for r in rows if r["code"] not in existing)
    return added, len(rows) - added


def rebuild_hierarchy(conn: Connection) -> int:
    """Recompute entity_ancestors (each unit and facility with all its ancestors, itself
    included) from units and facilities. The hierarchy is data: call after any change."""
    units = pd.read_sql(text("SELECT code, level, parent_code, valid_from, valid_to FROM units"), conn)
    facilities = pd.read_sql(text("SELECT code, type, unit_code FROM facilities"), conn)
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
    for code in units["code"].astype(str):
        vf, vt = validity[code]
        for depth, anc in enumerate(chain(code)):
            rows.append({"entity_code": code, "entity_kind": level[code], "ancestor_code": anc,
                         "ancestor_level": level[anc], "depth": depth, "valid_from": vf, "valid_to": vt})
    for fac in facilities.itertuples():
        vf, vt = validity.get(str(fac.unit_code), (None, None))
        rows.append({"entity_code": fac.code, "entity_kind": f"facility:{fac.type}", "ancestor_code": fac.code,
                     "ancestor_level": "facility", "depth": 0, "valid_from": vf, "valid_to": vt})
        for depth, anc in enumerate(chain(str(fac.unit_code)), start=1):
            rows.append({"entity_code": fac.code, "entity_kind": f"facility:{fac.type}", "ancestor_code": anc,
                         "ancestor_level": level[anc], "depth": depth, "valid_from": vf, "valid_to": vt})
    aggregates.touched(conn).hierarchy = True
    conn.execute(text("DELETE FROM entity_ancestors"))
    if rows:
        conn.execute(text(
            "INSERT INTO entity_ancestors (entity_code, entity_kind, ancestor_code, ancestor_level, depth, "
            "valid_from, valid_to) VALUES (:entity_code, :entity_kind, :ancestor_code, :ancestor_level, "
            ":depth, :valid_from, :valid_to)"), rows)
    return len(rows)


# --- targets ----------------------------------------------------------------------------

def upsert_targets(conn: Connection, targets: pd.DataFrame) -> tuple[int, int]:
    """Targets keyed by (indicator, scope, deadline); a re-import replaces the value and source."""
    existing = pd.read_sql(text("SELECT indicator_code, scope_code, deadline FROM targets"), conn)
    keys = set(zip(existing["indicator_code"], existing["scope_code"], existing["deadline"]))
    frame = targets.rename(columns={"indicator": "indicator_code", "unit_code": "scope_code"}).copy()
    for col in ("source", "note"):
        if col not in frame:
            frame[col] = None
    frame["source"] = frame["source"].map(nfc)
    frame["note"] = frame["note"].map(nfc)
    rows = _records(frame[["indicator_code", "scope_code", "value", "deadline", "source", "note"]])
    conn.execute(text(
        "INSERT INTO targets (indicator_code, scope_code, value, deadline, source, note) "
        "VALUES (:indicator_code, :scope_code, :value, :deadline, :source, :note) "
        "ON CONFLICT (indicator_code, scope_code, deadline) DO UPDATE SET value = excluded.value, "
        "source = excluded.source, note = excluded.note"), rows)
    aggregates.touched(conn).targets.update(r["indicator_code"] for r in rows)
    added = sum(1 for r in rows if (r["indicator_code"], r["scope_code"], r["deadline"]) not in keys)
    return added, len(rows) - added


# --- values and loads -------------------------------------------------------------------

def frame_checksum(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(frame.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def record_load(conn: Connection, *, kind: str, source_file: str, checksum: str, user: str | None = None,
                is_demo: bool = False) -> int:
    result = conn.execute(text(
        "INSERT INTO data_loads (loaded_at, user_name, kind, source_file, checksum, is_demo) "
        "VALUES (:at, :user, :kind, :file, :checksum, :demo) RETURNING id"),
        {"at": datetime.now(timezone.utc), "user": user or current_user(), "kind": kind,
         "file": source_file, "checksum": checksum, "demo": is_demo})
    return int(result.scalar_one())


def finish_load(conn: Connection, load_id: int, added: int, replaced: int) -> None:
    conn.execute(text("UPDATE data_loads SET rows_added = :a, rows_replaced = :r, rows_total = :t WHERE id = :id"),
                 {"a": added, "r": replaced, "t": added + replaced, "id": load_id})


def upsert_values(conn: Connection, values: pd.DataFrame, load_id: int) -> tuple[int, int]:
    """Write (indicator, entity_code, period, numerator, denominator) rows. A row for an
    existing (indicator, entity, month) replaces it. Returns (added, replaced)."""
    frame = values.rename(columns={"indicator": "indicator_code", "unit_code": "entity_code"})
    frame = frame[["indicator_code", "entity_code", "period", "numerator", "denominator"]].copy()
    existing = 0
    for (ind, per), group in frame.groupby(["indicator_code", "period"], sort=False):
        stored = conn.execute(text("SELECT entity_code FROM kpi_values WHERE indicator_code = :i AND period = :p"),
                              {"i": ind, "p": per}).scalars().all()
        if stored:
            existing += int(group["entity_code"].isin(set(stored)).sum())
    rows = _records(frame.assign(load_id=load_id))
    record = aggregates.touched(conn)
    for ind, months in frame.groupby("indicator_code")["period"]:
        record.values(str(ind), set(months.astype(str)))
    conn.execute(text(
        "INSERT INTO kpi_values (indicator_code, entity_code, period, numerator, denominator, load_id) "
        "VALUES (:indicator_code, :entity_code, :period, :numerator, :denominator, :load_id) "
        "ON CONFLICT (indicator_code, period, entity_code) DO UPDATE SET numerator = excluded.numerator, "
        "denominator = excluded.denominator, load_id = excluded.load_id"), rows)
    return len(rows) - existing, existing
