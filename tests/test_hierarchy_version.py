"""Reads of the hierarchy alone (units, facilities, the crosswalk, the closure) are keyed on
``meta.hierarchy_version``, which only a rebuild of the hierarchy bumps: after a load of values
the first page re-reads no unit table, yet a change of units is seen by the next request."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import event

from dashboard import figures, store
from dashboard.database import HIERARCHY_VERSION_KEY, get_meta
from tests.app_helpers import web_app
from tests.world import UNITS, load_world


def stored_version(engine) -> str | None:
    with engine.connect() as conn:
        return get_meta(conn, HIERARCHY_VERSION_KEY)


class Statements:
    def __init__(self, engine):
        self.engine, self.seen = engine, []
        event.listen(engine, "before_cursor_execute", self.hear)

    def hear(self, _conn, _cursor, statement, *_args):
        code = [line for line in statement.splitlines() if not line.strip().startswith("--")]
        self.seen.append(" ".join(" ".join(code).split()))

    def reading(self, table: str) -> int:
        return sum(f"FROM {table} " in s + " " and s.startswith("SELECT") for s in self.seen)

    def stop(self):
        event.remove(self.engine, "before_cursor_execute", self.hear)


def load_value(engine, numerator: float) -> None:
    with store.write_transaction(engine) as conn:
        load_id = store.record_load(conn, kind="values", source_file="v.csv", checksum=str(numerator))
        store.upsert_values(conn, pd.DataFrame([("stockind", "00004", "2025-09", numerator, 100.0)],
                                               columns=["indicator", "entity_code", "period", "numerator",
                                                        "denominator"]), load_id)


def test_a_rebuild_bumps_it_and_a_values_load_leaves_it(use_engine):
    load_world(use_engine)
    first = stored_version(use_engine)
    assert first is not None and int(first) >= 1
    load_value(use_engine, 42.0)
    assert stored_version(use_engine) == first
    with store.write_transaction(use_engine) as conn:
        store.upsert_units(conn, UNITS.assign(name=UNITS["name"] + " (mới)"))
        store.rebuild_hierarchy(conn)
    assert int(stored_version(use_engine)) == int(first) + 1


def test_a_request_after_a_values_load_reads_no_unit_table_but_sees_a_renamed_unit(use_engine):
    load_world(use_engine)
    server = web_app().server
    with server.test_request_context("/"):
        assert figures.entity("00004")["name"] == "Phường Bốn"
        assert figures.ancestors("00004")[-1] == ("01", "province")
    load_value(use_engine, 43.0)
    heard = Statements(use_engine)
    try:
        with server.test_request_context("/"):
            assert figures.entity("00004")["name"] == "Phường Bốn"
            assert figures.ancestors("00004")[-1] == ("01", "province")
            figures.resolver()
        assert heard.reading("units") == 0 and heard.reading("entity_ancestors") == 0, heard.seen
        with store.write_transaction(use_engine) as conn:
            store.upsert_units(conn, UNITS.assign(name=UNITS["name"].where(UNITS["code"] != "00004", "Phường Bốn Mới")))
            store.rebuild_hierarchy(conn)
        with server.test_request_context("/"):
            assert figures.entity("00004")["name"] == "Phường Bốn Mới"
        assert heard.reading("units") >= 1
    finally:
        heard.stop()


def test_a_database_written_before_the_version_existed_is_keyed_on_its_data_version(use_engine):
    load_world(use_engine)
    with store.write_transaction(use_engine) as conn:
        conn.exec_driver_sql(f"DELETE FROM meta WHERE key = '{HIERARCHY_VERSION_KEY}'")
    server = web_app().server
    with server.test_request_context("/"):
        assert figures.hierarchy_version() == f"d{figures.version()}"
        assert figures.entity("00004")["name"] == "Phường Bốn"
    load_value(use_engine, 44.0)
    with server.test_request_context("/"):
        assert figures.hierarchy_version() == f"d{figures.version()}"
