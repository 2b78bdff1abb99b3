"""First start: schema, built-in indicators, and the demo province if the database is empty."""
from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, text

from . import aggregates, store
from .database import is_up_to_date, set_meta, upgrade

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo:hai-phong-2025"


@contextmanager
def first_start_lock(engine: Engine) -> Iterator[None]:
    """Serialise first-start work between processes (several gunicorn workers start at
    once): a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(20250701)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(20250701)"))
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_suffix(Path(database).suffix + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_database(engine: Engine, load_demo: bool = True) -> bool:
    """Upgrade the schema, make sure the catalogue's indicators exist, and fill an empty
    database with the demo province. Returns True if the demo was loaded now."""
    with first_start_lock(engine):
        return _prepare(engine, load_demo)


def _prepare(engine: Engine, load_demo: bool) -> bool:
    if not is_up_to_date(engine):
        upgrade(engine)
    with engine.connect() as conn:
        has_indicators = conn.execute(text("SELECT COUNT(*) FROM indicators")).scalar_one() > 0
        has_units = conn.execute(text("SELECT COUNT(*) FROM units")).scalar_one() > 0
    if not has_indicators:
        with store.write_transaction(engine) as conn:
            store.load_builtin_indicators(conn)
    if load_demo and not has_units:
        load_demo_province(engine)
        aggregates.ensure(engine)
        return True
    aggregates.ensure(engine)
    return False


def load_demo_province(engine: Engine, user: str | None = None) -> dict[str, int]:
    """(Re)load the illustrative Hải Phòng province in one transaction. Idempotent: the
    generator is deterministic and every row is keyed, so a second run replaces each row
    with itself."""
    from .demo import build_demo  # the generator pulls in geopandas: only when needed

    demo = build_demo()
    counts: dict[str, int] = {}
    with store.write_transaction(engine) as conn:
        store.load_builtin_indicators(conn)
        counts["units"] = sum(store.upsert_units(conn, demo.units))
        counts["facilities"] = sum(store.upsert_facilities(conn, demo.facilities))
        store.rebuild_hierarchy(conn)
        # Map boundaries: the communes from geodata/, then zones and province outline, by
        # the same functions as `dashboard geodata import` / `build-zones`.
        from .boundaries import load_demo_boundaries

        counts["boundaries"] = sum(r.stored for r in load_demo_boundaries(conn).values())
        counts["targets"] = sum(store.upsert_targets(conn, demo.targets))
        load_id = store.record_load(conn, kind="values", source_file=DEMO_SOURCE,
                                    checksum=store.frame_checksum(demo.values), user=user, is_demo=True)
        added, replaced = store.upsert_values(conn, demo.values, load_id)
        store.finish_load(conn, load_id, added, replaced)
        counts["values"] = added + replaced
        set_meta(conn, "demo_seed", "hai-phong-2025")
    log.info("demo province loaded: %s", counts)
    return counts
