"""The one loader every importer goes through: checked rows in, one transaction out.

``load(engine, batch, values, files, …)`` counts what the rows change (added, replaced per
file) and, unless it is a dry run, writes them with one audit row per file, keeping every
row they replace. Counting and writing share one comparison with what is stored (the
store's ``split_changes`` / ``staged_value_changes``), so a dry run says exactly what the
load would do. A dry run writes nothing: it reads, and stages values in a temporary table
that its rolled-back transaction takes away.

Later importers (wide Excel workbooks, DHIS2) produce a :class:`Batch` or
:class:`ValueRows` and call this too.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import store
from ..catalog.defaults import is_derived
from .checks import Batch
from .formats import INDICATOR_TEXTS
from .report import FileResult, ImportProgress, Issue
from .values import ValueRows

#: kind -> (store table, the key of a checked row as the store spells it)
_KEYS = {
    "units": ("units", lambda r: (r["code"],)),
    "facilities": ("facilities", lambda r: (r["code"],)),
    "indicators": ("indicators", lambda r: (r["code"],)),
    "targets": ("targets", lambda r: (r["indicator"], r["unit_code"], r["deadline"])),
}
_COLUMNS = {
    "units": ["code", "name", "level", "parent_code", "valid_from", "valid_to"],
    "facilities": ["code", "name", "type", "unit_code", "lat", "lon"],
    "targets": ["indicator", "unit_code", "value", "deadline", "source", "note"],
}


def load(engine: Engine, batch: Batch, values: ValueRows | None, files: list[FileResult], user: str,
         progress: ImportProgress, dry_run: bool) -> Issue | None:
    """Count, and unless `dry_run` write, in one transaction. Returns the issue if the
    database refused (everything rolled back, the counts reset)."""
    try:
        if dry_run:
            with engine.connect() as conn:
                with conn.begin() as transaction:
                    _run(conn, batch, values, files, user, progress, write=False)
                    transaction.rollback()
        else:
            refreshing = {"started": False}

            def aggregates_step(done: int, total: int, _indicator: str) -> None:
                if not refreshing["started"]:
                    progress.start("aggregates", ", ".join(f.name for f in files), total)
                    refreshing["started"] = True
                progress.update(done, done)

            with store.write_transaction(engine, on_progress=aggregates_step) as conn:
                _run(conn, batch, values, files, user, progress, write=True)
            if refreshing["started"]:
                progress.end()
    except SQLAlchemyError as exc:
        for f in files:
            f.added = f.replaced = 0
            f.load_id = None
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        return Issue(", ".join(f.name for f in files), "imp_db_error", {"detail": detail})
    return None


def _run(conn: Connection, batch: Batch, values: ValueRows | None, files: list[FileResult], user: str,
         progress: ImportProgress, write: bool) -> None:
    if batch.kind == "values":
        _values(conn, values, files, user, progress, write)
    elif batch.kind == "crosswalk":
        _crosswalk(conn, batch, files, user, write)
    else:
        _small(conn, batch, files, user, write)
    if write:
        for f in files:
            store.finish_load(conn, f.load_id, f.added, f.replaced)
        store.analyze_after_load(conn)


def _small(conn: Connection, batch: Batch, files: list[FileResult], user: str, write: bool) -> None:
    kind = batch.kind
    table, key = _KEYS[kind]
    stored = store.stored_rows(conn, table)
    by_file: dict[int, list[dict]] = {}
    for r in batch.rows:
        by_file.setdefault(id(r["_file"]), []).append(r)
    for f in files:
        f.added, f.replaced = store.split_changes((key(r) for r in by_file.get(id(f), [])), stored)
    if not write:
        return
    for f in files:
        f.load_id = store.record_load(conn, kind=kind, source_file=f.source, checksum=f.checksum, user=user)
        store.keep_history(conn, table, [key(r) for r in by_file.get(id(f), [])], stored, f.load_id)
    # Every file's rows in one write: a unit in one file may be the parent of one in another.
    if kind == "indicators":
        store.upsert_indicators(conn, indicator_records(batch), stored=stored)
        return
    frame = pd.DataFrame([{c: r[c] for c in _COLUMNS[kind]} for r in batch.rows], columns=_COLUMNS[kind],
                         dtype=object)
    if kind == "units":
        store.upsert_units(conn, frame, stored=stored)
        store.rebuild_hierarchy(conn)
    elif kind == "facilities":
        store.upsert_facilities(conn, frame, stored=stored)
        store.rebuild_hierarchy(conn)
    else:
        store.upsert_targets(conn, frame, stored=stored)


def _same(row: dict, stored: dict) -> bool:
    """A row equal to the stored one (dates as days, shares as numbers): not written again."""
    for column, value in row.items():
        a, b = _comparable(value), _comparable(stored.get(column))
        if isinstance(a, float) and isinstance(b, float):
            if abs(a - b) > 1e-12:
                return False
        elif a != b:
            return False
    return True


def _comparable(value):
    value = _native(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        return value[:10]
    return value


def _as_date(value):
    if value is None or hasattr(value, "year"):
        return value
    return date.fromisoformat(str(value)[:10])


def _crosswalk(conn: Connection, batch: Batch, files: list[FileResult], user: str, write: bool) -> None:
    """Old units (``batch.rows``) and links (``batch.links``): only rows that differ from what
    is stored are written (a re-import changes nothing); a stored unit keeps its valid_from."""
    stored_units = store.stored_rows(conn, "units")
    stored_links = store.stored_rows(conn, "unit_links")
    units, links = [], []
    for r in batch.rows:
        row = {c: r[c] for c in _COLUMNS["units"]}
        old = stored_units.get((row["code"],))
        if old is not None:
            row["valid_from"] = _as_date(old.get("valid_from"))
            if _same(row, old):
                continue
        units.append((r["_file"], row))
    for r in batch.links:
        row = {c: r[c] for c in ("old_code", "new_code", "effective", "share", "basis")}
        old = stored_links.get((row["old_code"], row["new_code"]))
        if old is not None and _same(row, old):
            continue
        links.append((r["_file"], row))
    for f in files:
        ua, ur = store.split_changes(((r["code"],) for g, r in units if g is f), stored_units)
        la, lr = store.split_changes(((r["old_code"], r["new_code"]) for g, r in links if g is f), stored_links)
        f.added, f.replaced = ua + la, ur + lr
    if not write:
        return
    for f in files:
        f.load_id = store.record_load(conn, kind="crosswalk", source_file=f.source, checksum=f.checksum, user=user)
        store.keep_history(conn, "units", [(r["code"],) for g, r in units if g is f], stored_units, f.load_id)
        store.keep_history(conn, "unit_links", [(r["old_code"], r["new_code"]) for g, r in links if g is f],
                           stored_links, f.load_id)
    if units:
        frame = pd.DataFrame([r for _f, r in units], columns=_COLUMNS["units"], dtype=object)
        store.upsert_units(conn, frame, stored=stored_units)
    if links:
        frame = pd.DataFrame([r for _f, r in links], columns=["old_code", "new_code", "effective", "share", "basis"],
                             dtype=object)
        store.upsert_links(conn, frame, stored=stored_links)
    if units or links:
        store.rebuild_hierarchy(conn)


def _values(conn: Connection, values: ValueRows, files: list[FileResult], user: str, progress: ImportProgress,
            write: bool) -> None:
    store.begin_value_stage(conn)
    total = len(values)
    progress.start("stage", ", ".join(f.name for f in files), total)
    done = 0
    for file_no, _f in enumerate(files):
        done += store.stage_values(conn, _counted(values.staged(file_no), progress, done))
        progress.update(done, done)
    progress.end()
    changes = store.staged_value_changes(conn)
    for file_no, f in enumerate(files):
        f.added, f.replaced = changes.get(file_no, (0, 0))
    if write:
        progress.start("write", ", ".join(f.name for f in files), total)
        done = 0
        for file_no, f in enumerate(files):
            f.load_id = store.record_load(conn, kind="values", source_file=f.source, checksum=f.checksum, user=user)
            store.apply_staged_values(conn, file_no, f.load_id, f.replaced)
            done += f.added + f.replaced
            progress.update(done, done)
        progress.end()
    store.end_value_stage(conn)


def _counted(rows, progress: ImportProgress, offset: int, every: int = 20_000):
    n = offset
    for row in rows:
        yield row
        n += 1
        if n % every == 0:
            progress.update(n, n)


def indicator_records(batch: Batch) -> list[dict]:
    """Imported fields laid over the stored definition. A field the file leaves blank keeps
    its stored value, unless that value was only a default derived from fields the file now
    changes (a short name cut from the old name follows the new name)."""
    known = batch.known
    next_order = max((int(i.get("sort_order") or 0) for i in known.indicators.values()), default=-1) + 1
    out = []
    for r in batch.rows:
        old = known.indicators.get(r["code"])
        if old is not None:
            record: dict[str, Any] = {k: _native(v) for k, v in old.items()}
            derived = [f for f in INDICATOR_TEXTS if is_derived(record, f)]
            record["time"] = record.pop("time_agg")
            record["group"] = record.pop("grp")
            for f in derived:
                record[f] = None
        else:
            record = {"sort_order": next_order}
            next_order += 1
        for column in ("code", "name_vi", "name_en", "time", "higher_is_better"):
            record[column] = r[column]
        for column in (*INDICATOR_TEXTS, "decimals", "display_unit", "group", "headline", "sort_order"):
            if r.get(column) is not None:
                record[column] = r[column]
        if r["reported_by"]:
            record["reported_by"] = r["reported_by"]
        out.append(record)
    return out


def _native(value):
    """Plain Python values for the driver: NaN -> None, numpy scalars -> Python, 1.0 -> 1."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            return int(value)
    return value
