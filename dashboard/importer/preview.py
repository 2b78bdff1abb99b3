"""What a load would change, before it is confirmed: the real loader run inside a transaction
that is rolled back.

``preview(engine, checked, user)`` writes the checked rows exactly as the load would
(``load._run``: the same counts, the same history), refreshes the stored figures for what it
touched (``aggregates.refresh``), reads the difference, and rolls everything back. So the
preview is what the load does, not an estimate:

* ``changes``: rows added and replaced per indicator × month (values), or per table and
  indicator (the small tables);
* ``moves``: the month figures that move most, before → after (every level, largest change of
  the value first; a figure that appears has no "before").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, bindparam, text

from .. import aggregates
from .load import _run
from .pipeline import Checked
from .report import ImportProgress

#: Figures listed as moving most.
MOVES = 10


@dataclass
class Change:
    what: str        # indicator code (values, targets) or table name
    month: str       # 'YYYY-MM' for values, '' otherwise
    added: int
    replaced: int


@dataclass
class Move:
    indicator: str
    period: str
    entity_code: str
    entity_name: str
    level: str
    before: float | None
    after: float | None


@dataclass
class Preview:
    changes: list[Change] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(c.added for c in self.changes)

    @property
    def replaced(self) -> int:
        return sum(c.replaced for c in self.changes)


_MONTH_FIGURES = text("SELECT indicator_code, period, entity_code, level, value FROM aggregates "
                      "WHERE indicator_code = :indicator AND period IN :months").bindparams(
    bindparam("months", expanding=True))


def preview(engine: Engine, checked: Checked, user: str, limit: int = MOVES) -> Preview:
    out = Preview()
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            _run(conn, checked.batch, checked.values, checked.files, user, ImportProgress(), write=True)
            ids = [f.load_id for f in checked.files if f.load_id is not None]
            touched = aggregates.touched(conn)
            months = {k: sorted(v) for k, v in touched.months.items()}
            before = _figures(conn, months)
            if touched:
                aggregates.refresh(conn)
            after = _figures(conn, months)
            if checked.batch.kind == "values":
                out.changes = _value_changes(conn, ids)
            else:
                out.changes = _record_changes(conn, ids)
            out.moves = _moves(conn, before, after, limit)
        finally:
            transaction.rollback()
            conn.info.pop("aggregates_touched", None)  # the record lives on the pooled connection
            for f in checked.files:
                f.load_id = None
    return out


def _figures(conn, months: dict[str, list[str]]) -> pd.DataFrame:
    frames = [pd.read_sql(_MONTH_FIGURES, conn, params={"indicator": ind, "months": ms})
              for ind, ms in months.items() if ms]
    if not frames:
        return pd.DataFrame(columns=["indicator_code", "period", "entity_code", "level", "value"])
    return pd.concat(frames, ignore_index=True)


def _value_changes(conn, ids: list[int]) -> list[Change]:
    if not ids:
        return []
    ids_param = bindparam("ids", expanding=True)
    written = conn.execute(text("SELECT indicator_code, period, COUNT(*) FROM kpi_values WHERE load_id IN :ids "
                                "GROUP BY indicator_code, period").bindparams(ids_param), {"ids": ids}).all()
    replaced = {(i, p): int(n) for i, p, n in conn.execute(
        text("SELECT indicator_code, period, COUNT(*) FROM kpi_value_history WHERE replaced_by_load_id IN :ids "
             "GROUP BY indicator_code, period").bindparams(ids_param), {"ids": ids})}
    out = [Change(str(i), str(p), int(n) - replaced.get((i, p), 0), replaced.get((i, p), 0)) for i, p, n in written]
    return sorted(out, key=lambda c: (c.what, c.month))


def _record_changes(conn, ids: list[int]) -> list[Change]:
    import json

    if not ids:
        return []
    rows = conn.execute(text("SELECT table_name, row_key, previous FROM record_history WHERE load_id IN :ids")
                        .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all()
    counts: dict[str, list[int]] = {}
    for table, key, previous in rows:
        what = json.loads(key)[0] if table == "targets" else table
        pair = counts.setdefault(str(what), [0, 0])
        pair[0 if previous is None else 1] += 1
    return [Change(what, "", a, r) for what, (a, r) in sorted(counts.items())]


def _moves(conn, before: pd.DataFrame, after: pd.DataFrame, limit: int) -> list[Move]:
    keys = ["indicator_code", "period", "entity_code"]
    merged = after.merge(before[keys + ["value"]], on=keys, how="outer", suffixes=("", "_before"))
    if merged.empty:
        return []
    merged["level"] = merged["level"].fillna("")
    new, old = merged["value"].astype(float), merged["value_before"].astype(float)
    changed = ~((new == old) | (new.isna() & old.isna()))
    merged = merged[changed].copy()
    if merged.empty:
        return []
    merged["size"] = (merged["value"].astype(float) - merged["value_before"].astype(float)).abs()
    merged["appears"] = merged["size"].isna()
    merged = merged.sort_values(["appears", "size", "indicator_code", "period", "entity_code"],
                                ascending=[True, False, True, True, True]).head(limit)
    names = _names(conn, list(merged["entity_code"].astype(str)))
    return [Move(str(r.indicator_code), str(r.period), str(r.entity_code), names.get(str(r.entity_code), ""),
                 str(r.level), _num(r.value_before), _num(r.value)) for r in merged.itertuples()]


def _names(conn, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    out: dict[str, str] = {}
    for table in ("units", "facilities"):
        statement = text(f"SELECT code, name FROM {table} WHERE code IN :codes").bindparams(  # noqa: S608
            bindparam("codes", expanding=True))
        out.update({str(c): str(n) for c, n in conn.execute(statement, {"codes": codes})})
    return out


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if value != value else value
