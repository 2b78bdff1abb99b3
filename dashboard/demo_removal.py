"""Remove the illustrative demo province: its values, loads, targets, units (old and new),
facilities and crosswalk links.

``plan(conn)`` says what would go; ``remove(engine, actor)`` does it in one transaction,
audited, and bumps the data version so every page drops the "Dữ liệu minh họa" label at
once. The department's own data is never touched:

* values: only those written by the demo's loads (``data_loads.is_demo``);
* targets: only rows still exactly as the demo wrote them (same value and source);
* units and facilities: only rows still as the demo wrote them and no longer used by
  anything that stays (values, targets, facilities, child units), children first;
* crosswalk links (``unit_links``): the demo's rows, still as it wrote them, of which one end
  goes; a link the department changed or added keeps both of its units, like a value does;
* map boundaries of the units removed.

The demo's meta entries go too (its seed, and the session key kept for it: a server
without SECRET_KEY then refuses to serve, as for any database with real data).
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, text

from . import store
from .auth import audit, secret

DEMO_META = ("demo_seed", secret.DEMO_META_KEY)


@dataclass
class RemovalPlan:
    load_ids: list[int] = field(default_factory=list)
    values: int = 0
    target_ids: list[int] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # children before parents
    links: list[tuple[str, str]] = field(default_factory=list)  # (old_code, new_code)
    boundaries: int = 0
    kept_units: list[str] = field(default_factory=list)
    kept_facilities: list[str] = field(default_factory=list)
    orphaned_accounts: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.load_ids or self.values or self.target_ids or self.facilities or self.units
                    or self.links)

    def counts(self) -> dict[str, int]:
        return {"values": self.values, "loads": len(self.load_ids), "targets": len(self.target_ids),
                "units": len(self.units), "facilities": len(self.facilities), "links": len(self.links),
                "boundaries": self.boundaries,
                "kept_units": len(self.kept_units), "kept_facilities": len(self.kept_facilities)}


def _nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(a, b) -> bool:
    if _blank(a) and _blank(b):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-9
    return _nfc(a) == _nfc(b)


def _frame(conn: Connection, query: str) -> pd.DataFrame:
    return pd.read_sql(text(query), conn)


def plan(conn: Connection) -> RemovalPlan:
    from .demo import build_demo  # deterministic: the same rows the demo wrote

    demo = build_demo()
    out = RemovalPlan()
    loads = _frame(conn, "SELECT id, is_demo FROM data_loads")
    out.load_ids = [int(i) for i, d in zip(loads["id"], loads["is_demo"]) if bool(d)]
    values = _frame(conn, "SELECT entity_code, load_id FROM kpi_values")
    demo_rows = values["load_id"].isin(out.load_ids)
    out.values = int(demo_rows.sum())
    used_by_values = set(values.loc[~demo_rows, "entity_code"].astype(str))

    targets = _frame(conn, "SELECT id, indicator_code, scope_code, deadline, value, source FROM targets")
    wanted = {(r.indicator, str(r.scope_code), r.deadline): (r.value, r.source)
              for r in demo.targets.itertuples()}
    for row in targets.itertuples():
        key = (row.indicator_code, str(row.scope_code), row.deadline)
        if key in wanted and _same(row.value, wanted[key][0]) and _same(row.source, wanted[key][1]):
            out.target_ids.append(int(row.id))
    staying_targets = targets[~targets["id"].isin(out.target_ids)]
    used_by_targets = set(staying_targets["scope_code"].astype(str))

    facilities = _frame(conn, "SELECT code, name, type, unit_code FROM facilities")
    demo_fac = {str(r.code): (r.name, r.type, str(r.unit_code)) for r in demo.facilities.itertuples()}
    for row in facilities.itertuples():
        code = str(row.code)
        if code not in demo_fac or not all(_same(a, b) for a, b in zip((row.name, row.type, str(row.unit_code)),
                                                                        demo_fac[code])):
            continue
        (out.kept_facilities if code in used_by_values | used_by_targets else out.facilities).append(code)
    staying_fac_units = set(facilities.loc[~facilities["code"].astype(str).isin(out.facilities), "unit_code"]
                            .astype(str))

    links = _frame(conn, "SELECT old_code, new_code, effective, share, basis FROM unit_links")
    demo_links = {(str(r.old_code), str(r.new_code)): (str(r.effective), r.share, r.basis)
                  for r in demo.links.itertuples()}
    is_demo_link = [
        (str(r.old_code), str(r.new_code)) in demo_links
        and all(_same(a, b) for a, b in zip((str(r.effective)[:10], r.share, r.basis),
                                           demo_links[(str(r.old_code), str(r.new_code))]))
        for r in links.itertuples()]
    staying_links = links.loc[[not d for d in is_demo_link]] if len(links) else links
    used_by_links = set(staying_links["old_code"].astype(str)) | set(staying_links["new_code"].astype(str))

    units = _frame(conn, "SELECT code, name, level, parent_code FROM units")
    demo_units = {str(r.code): (r.name, r.level, None if _blank(r.parent_code) else str(r.parent_code))
                  for r in demo.units.itertuples()}
    parent = {str(c): (None if _blank(p) else str(p)) for c, p in zip(units["code"], units["parent_code"])}
    candidates = set()
    for row in units.itertuples():
        code = str(row.code)
        stored = (row.name, row.level, None if _blank(row.parent_code) else str(row.parent_code))
        if code in demo_units and all(_same(a, b) for a, b in zip(stored, demo_units[code])):
            candidates.add(code)
    used = used_by_values | used_by_targets | staying_fac_units | used_by_links
    removable = {c for c in candidates if c not in used}
    # A unit stays while any unit that stays has it as parent: repeat until nothing changes.
    changed = True
    while changed:
        changed = False
        for code, par in parent.items():
            if code not in removable and par in removable:
                removable.discard(par)
                changed = True
    depth = {c: _depth(c, parent) for c in removable}
    out.units = sorted(removable, key=lambda c: (-depth[c], c))
    out.kept_units = sorted(candidates - removable)
    out.links = sorted((str(r.old_code), str(r.new_code)) for r, d in zip(links.itertuples(), is_demo_link)
                       if d and (str(r.old_code) in removable or str(r.new_code) in removable))
    if out.units:
        out.boundaries = int(conn.execute(
            text("SELECT COUNT(*) FROM boundaries WHERE code IN :codes").bindparams(bindparam("codes", expanding=True)),
            {"codes": out.units}).scalar_one())
        users = _frame(conn, "SELECT username, unit_code FROM users WHERE unit_code IS NOT NULL")
        out.orphaned_accounts = sorted(users.loc[users["unit_code"].astype(str).isin(out.units), "username"])
    return out


def _depth(code: str, parent: dict[str, str | None]) -> int:
    depth, seen = 0, {code}
    while parent.get(code) is not None and parent[code] not in seen:
        code = parent[code]
        seen.add(code)
        depth += 1
    return depth


def _delete_in(conn: Connection, table: str, column: str, keys: list) -> None:
    if not keys:
        return
    statement = text(f"DELETE FROM {table} WHERE {column} IN :keys").bindparams(  # noqa: S608 - fixed names
        bindparam("keys", expanding=True))
    for start in range(0, len(keys), 500):
        conn.execute(statement, {"keys": keys[start:start + 500]})


def remove(engine: Engine, *, actor: str) -> RemovalPlan:
    """Remove the demo in one transaction (the plan is recomputed inside it) and audit it."""
    with store.write_transaction(engine) as conn:
        removal = plan(conn)
        _delete_in(conn, "kpi_values", "load_id", removal.load_ids)
        _delete_in(conn, "targets", "id", removal.target_ids)
        _delete_in(conn, "facilities", "code", removal.facilities)
        for old_code, new_code in removal.links:
            conn.execute(text("DELETE FROM unit_links WHERE old_code = :old AND new_code = :new"),
                         {"old": old_code, "new": new_code})
        if removal.units:
            _delete_in(conn, "boundaries", "code", removal.units)
            for code in removal.units:  # children first: parent keys hold until their children are gone
                conn.execute(text("DELETE FROM units WHERE code = :code"), {"code": code})
        _delete_in(conn, "data_loads", "id", removal.load_ids)
        for key in DEMO_META:
            conn.execute(text("DELETE FROM meta WHERE key = :key"), {"key": key})
        store.rebuild_hierarchy(conn)
        if removal.units:
            from .boundaries import prepare_layers

            prepare_layers(conn)
        audit.record(conn, actor, "demo_remove", "demo:hai-phong-2025", removal.counts())
    return removal
