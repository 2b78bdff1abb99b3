"""Undo a load: its rows go, the rows it replaced come back, in one transaction, audited.

Every load keeps what it replaced (``kpi_value_history`` for values, ``record_history`` for
the small tables: see migration 0006), so the undo of load L is exact:

* values: delete the ``kpi_values`` rows written by L, put back the rows of
  ``kpi_value_history`` replaced by L (with the load that had written them), and drop those
  from the history (they are live again);
* small tables: each key L wrote gets its row before back, or goes when L added it.

A load that a later load overwrote (a cell L wrote was replaced again by M, or M wrote a key
of L again; or, for a units/facilities/indicators load, values of a later load use a key L
added) cannot be undone alone: ``plan`` says which loads stand in the way, and
``undo(..., cascade=True)`` undoes them first, newest first, then L — all in the same
transaction. The figures are refreshed for what changed (``aggregates.touched``) before the
data version is bumped, as for a load. Each undo is one ``audit_log`` row (``load_undo``,
``load:<id>``, who, what it removed and restored); the load's ``data_loads`` row stays.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from . import aggregates, sql, store
from .auth import audit
from .i18n import t

#: What deleting a key a load added would leave pointing at nothing: (table, column) per kind.
_USES = {
    "units": [("kpi_values", "entity_code"), ("units", "parent_code"), ("facilities", "unit_code"),
              ("targets", "scope_code")],
    "facilities": [("kpi_values", "entity_code")],
    "indicators": [("kpi_values", "indicator_code"), ("targets", "indicator_code")],
    "targets": [],
}
#: The small table whose added keys others may use, per kind of load (a crosswalk adds old units and links).
_TABLE_OF = {"crosswalk": "units"}


class UndoRefused(Exception):
    """An undo that cannot be done (as asked): a locale key and its values, and the later
    loads that would have to be undone first (empty when no cascade can help)."""

    def __init__(self, key: str, later: list[int] | None = None, **values: Any):
        self.key = key
        self.values = values
        self.later = later or []
        super().__init__(self.message("vi") + " / " + self.message("en"))

    def message(self, lang: str = "vi") -> str:
        return t(self.key, lang, **self.values)


@dataclass
class UndoPlan:
    load_id: int
    kind: str
    source_file: str
    removed: int = 0            # rows the undo deletes
    restored: int = 0           # rows it puts back
    later: list[int] = field(default_factory=list)  # loads in the way, newest first
    cells: dict[int, int] = field(default_factory=dict)  # later load -> cells of this one it overwrote


def _load_row(conn: Connection, load_id: int) -> dict:
    rows = sql.fetch_rows(conn, "undo_load", load_id=load_id)
    if not rows:
        raise UndoRefused("loads_err_no_load", id=load_id)
    row = rows[0]
    if row["undone_at"] is not None:
        raise UndoRefused("loads_err_undone", id=load_id)
    if bool(row["is_demo"]):
        raise UndoRefused("loads_err_demo", id=load_id)
    return row


def _direct_later(conn: Connection, load_id: int, kind: str) -> dict[int, int]:
    """Later loads that overwrote what `load_id` wrote -> how many of its cells or keys."""
    out: dict[int, int] = {}
    query = "undo_value_dependents" if kind == "values" else "undo_record_dependents"
    for row in sql.fetch_rows(conn, query, load_id=load_id):
        out[int(row["load_id"])] = out.get(int(row["load_id"]), 0) + int(row["cells"])
    if kind != "values":
        for later, n in _users_of_added(conn, load_id, kind)[0].items():
            if later != load_id:
                out[later] = out.get(later, 0) + n
    return out


def _added_keys(conn: Connection, load_id: int) -> list[tuple[str, list]]:
    return [(r["table_name"], json.loads(r["row_key"])) for r in sql.fetch_rows(conn, "undo_records", load_id=load_id)
            if r["previous"] is None]


def _users_of_added(conn: Connection, load_id: int, kind: str) -> tuple[dict[int, int], int]:
    """Keys `load_id` added that something still uses: ({values load -> rows}, other uses)."""
    table_of = _TABLE_OF.get(kind, kind)
    keys = [key[0] for table, key in _added_keys(conn, load_id) if table == table_of and key]
    uses = _USES.get(table_of)
    if not keys or not uses:
        return {}, 0
    by_load: dict[int, int] = {}
    other = 0
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for table, column in uses:
            if table == "kpi_values":
                statement = text(f"SELECT load_id, COUNT(*) FROM kpi_values WHERE {column} IN :keys "  # noqa: S608
                                 "GROUP BY load_id").bindparams(_expanding())
                for lid, n in conn.execute(statement, {"keys": chunk}):
                    by_load[int(lid)] = by_load.get(int(lid), 0) + int(n)
            else:
                statement = text(f"SELECT COUNT(*) FROM {table} WHERE {column} IN :keys").bindparams(  # noqa: S608
                    _expanding())
                if table == "units":  # children the same load added go with it
                    children = text("SELECT code FROM units WHERE parent_code IN :keys").bindparams(_expanding())
                    added = set(keys)
                    n = sum(str(code) not in added for (code,) in conn.execute(children, {"keys": chunk}))
                else:
                    n = int(conn.execute(statement, {"keys": chunk}).scalar_one())
                other += n
    return by_load, other


def _expanding():
    from sqlalchemy import bindparam

    return bindparam("keys", expanding=True)


def plan(conn: Connection, load_id: int) -> UndoPlan:
    """What undoing `load_id` does, and the later loads in its way (all of them, newest first)."""
    row = _load_row(conn, load_id)
    out = UndoPlan(load_id, str(row["kind"]), str(row["source_file"]))
    out.cells = _direct_later(conn, load_id, out.kind)
    seen: set[int] = set()
    todo = list(out.cells)
    while todo:
        later = todo.pop()
        if later in seen:
            continue
        seen.add(later)
        kind = str(_load_row(conn, later)["kind"])
        todo.extend(_direct_later(conn, later, kind))
    out.later = sorted(seen, reverse=True)
    if out.kind == "values":
        out.removed = int(conn.execute(text("SELECT COUNT(*) FROM kpi_values WHERE load_id = :l"),
                                       {"l": load_id}).scalar_one())
        out.restored = int(conn.execute(text("SELECT COUNT(*) FROM kpi_value_history WHERE replaced_by_load_id = :l"),
                                        {"l": load_id}).scalar_one())
    else:
        records = sql.fetch_rows(conn, "undo_records", load_id=load_id)
        out.removed = sum(r["previous"] is None for r in records)
        out.restored = sum(r["previous"] is not None for r in records)
    return out


def refusal(p: UndoPlan) -> UndoRefused:
    """Why `p` cannot be undone alone, naming the later loads and how much each overwrote."""
    detail = ", ".join(f"#{lid} ({n})" for lid, n in sorted(p.cells.items()))
    return UndoRefused("loads_err_later", later=p.later, id=p.load_id, loads=detail,
                       order=", ".join(f"#{i}" for i in [*p.later, p.load_id]))


def undo(engine: Engine, load_id: int, *, actor: str, cascade: bool = False) -> list[UndoPlan]:
    """Undo `load_id` (and with `cascade` the later loads in its way, newest first) in one
    transaction. Returns the plans done, in the order done. Raises UndoRefused."""
    with store.write_transaction(engine) as conn:
        first = plan(conn, load_id)
        if first.later and not cascade:
            raise refusal(first)
        done = []
        for lid in [*first.later, load_id]:
            p = plan(conn, lid)
            if p.later:  # cannot happen in newest-first order; never undo past a later load
                raise refusal(p)
            _undo_one(conn, p)
            audit.record(conn, actor, "load_undo", f"load:{lid}",
                         {"kind": p.kind, "file": p.source_file, "removed": p.removed, "restored": p.restored,
                          **({"for": load_id} if lid != load_id else {})})
            done.append(p)
    return done


def _undo_one(conn: Connection, p: UndoPlan) -> None:
    if p.kind == "values":
        record = aggregates.touched(conn)
        for indicator, month in conn.execute(sql.statement("undo_value_months"), {"load_id": p.load_id}):
            record.values(str(indicator), {str(month)})
            record.shrunk.add(str(indicator))
        sql.run(conn, "undo_values_delete", {"load_id": p.load_id})
        sql.run(conn, "undo_values_restore", {"load_id": p.load_id})
        sql.run(conn, "undo_values_forget", {"load_id": p.load_id})
        return
    _, other = _users_of_added(conn, p.load_id, p.kind)
    if other:
        raise UndoRefused("loads_err_in_use", id=p.load_id, count=other)
    records = sql.fetch_rows(conn, "undo_records", load_id=p.load_id)
    if p.kind == "crosswalk":  # links first (they name the old units), then the old units
        for table in ("unit_links", "units"):
            mine = [r for r in records if r["table_name"] == table]
            _restore_small(conn, table, [json.loads(r["previous"]) for r in mine if r["previous"] is not None],
                           [json.loads(r["row_key"]) for r in mine if r["previous"] is None])
        sql.run(conn, "undo_records_forget", {"load_id": p.load_id})
        return
    restore = [json.loads(r["previous"]) for r in records if r["previous"] is not None]
    added = [json.loads(r["row_key"]) for r in records if r["previous"] is None]
    _restore_small(conn, p.kind, restore, added)
    sql.run(conn, "undo_records_forget", {"load_id": p.load_id})


def _restore_small(conn: Connection, kind: str, restore: list[dict], added: list[list]) -> None:
    touched = aggregates.touched(conn)
    if kind == "units":
        if restore:
            store.upsert_units(conn, pd.DataFrame(restore))
        depth = _unit_depths(conn)
        for (code,) in sorted(added, key=lambda k: -depth.get(k[0], 0)):  # children first
            conn.execute(text("DELETE FROM boundaries WHERE code = :c"), {"c": code})
            conn.execute(text("DELETE FROM units WHERE code = :c"), {"c": code})
        store.rebuild_hierarchy(conn)
    elif kind == "unit_links":
        if restore:
            store.upsert_links(conn, pd.DataFrame(restore))
        for old_code, new_code in added:
            conn.execute(text("DELETE FROM unit_links WHERE old_code = :o AND new_code = :n"),
                         {"o": old_code, "n": new_code})
        touched.hierarchy = True
        store.rebuild_hierarchy(conn)
    elif kind == "facilities":
        if restore:
            store.upsert_facilities(conn, pd.DataFrame(restore))
        for (code,) in added:
            conn.execute(text("DELETE FROM facilities WHERE code = :c"), {"c": code})
        store.rebuild_hierarchy(conn)
    elif kind == "targets":
        if restore:
            store.upsert_targets(conn, pd.DataFrame(restore))
        for indicator, scope, deadline in added:
            conn.execute(text("DELETE FROM targets WHERE indicator_code = :i AND scope_code = :s AND deadline = :d"),
                         {"i": indicator, "s": scope, "d": deadline})
            touched.targets.add(indicator)
    elif kind == "indicators":
        if restore:
            store.upsert_indicators(conn, restore)
        for (code,) in added:
            for table in ("indicator_scopes",):
                conn.execute(text(f"DELETE FROM {table} WHERE indicator_code = :c"), {"c": code})  # noqa: S608
            for table in ("aggregate_progress", "aggregates", "agg_periods"):
                conn.execute(text(f"DELETE FROM {table} WHERE indicator_code = :c"), {"c": code})  # noqa: S608
            conn.execute(text("DELETE FROM indicators WHERE code = :c"), {"c": code})
            touched.indicators.discard(code)
    else:  # pragma: no cover - the importer's kinds only
        raise ValueError(f"cannot undo a load of kind {kind!r}")


def _unit_depths(conn: Connection) -> dict[str, int]:
    units = sql.fetch_df(conn, "units")
    parent = dict(zip(units["code"].astype(str), units["parent_code"]))
    out = {}
    for code in parent:
        depth, cur, seen = 0, parent.get(code), {code}
        while isinstance(cur, str) and cur not in seen:
            seen.add(cur)
            depth += 1
            cur = parent.get(cur)
        out[code] = depth
    return out


def loads(engine: Engine) -> pd.DataFrame:
    """Every load, newest first, with who undid it and when (``undone_at``/``undone_by``)."""
    with engine.connect() as conn:
        return sql.fetch_df(conn, "loads_audit")
