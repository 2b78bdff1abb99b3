"""Engines, migrations and the data version.

The data version is one integer that every write transaction bumps. Cached query results
are keyed on it, so a load is visible at once in every worker without flushing the cache.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Tables holding the department's data, in an order that satisfies foreign keys.
DATA_TABLES = ("meta", "levels", "units", "facilities", "indicators", "indicator_scopes", "targets",
               "data_loads", "kpi_values", "entity_ancestors", "agg_periods", "aggregates", "aggregate_progress",
               "users", "wall_tokens", "audit_log", "kpi_value_history", "record_history")


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite files get their folder created, foreign keys and WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA busy_timeout = 10000")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One shared engine per URL in this process."""
    return make_engine(url)


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


class MigrationError(RuntimeError):
    pass


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (Alembic), the same migrations on SQLite and PostgreSQL.

    SQLite alters a table by rebuilding it, and dropping the old copy of a table that others
    refer to trips foreign-key enforcement. SQLite only lets that be switched off outside a
    transaction, so it is switched off here, before the migration's transaction, and the keys
    are checked before committing (the procedure SQLite's documentation gives for schema changes)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            conn.commit()
        try:
            with conn.begin():
                command.upgrade(_alembic_config(conn), revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise MigrationError(f"foreign keys broken by the migration: {broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                conn.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def data_version(conn: Connection) -> int:
    return int(conn.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one())


#: meta key bumped by every rebuild of the hierarchy (``store.rebuild_hierarchy``): reads of units,
#: facilities, the crosswalk and the closure are keyed on it rather than on the data version.
HIERARCHY_VERSION_KEY = "hierarchy_version"


def bump_hierarchy_version(conn: Connection) -> int:
    version = int(get_meta(conn, HIERARCHY_VERSION_KEY, "0") or 0) + 1
    set_meta(conn, HIERARCHY_VERSION_KEY, str(version))
    return version


def bump_data_version(conn: Connection) -> int:
    """Call inside every write transaction; readers' cache keys change when it commits."""
    conn.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    return data_version(conn)




def get_meta(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(text("SELECT value FROM meta WHERE key = :key"), {"key": key}).scalar()
    return default if value is None else value


def set_meta(conn: Connection, key: str, value: str | None) -> None:
    conn.execute(text("DELETE FROM meta WHERE key = :key"), {"key": key})
    if value is not None:
        conn.execute(text("INSERT INTO meta (key, value) VALUES (:key, :value)"), {"key": key, "value": value})


def table_checksums(engine: Engine) -> dict[str, str]:
    """A digest of every row of every data table: tests compare it before and after a failed import."""
    out: dict[str, str] = {}
    with engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
        for table in DATA_TABLES + ("data_version",):
            if table not in existing:
                continue
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
            digest = hashlib.sha256()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
            out[table] = digest.hexdigest()
    return out
