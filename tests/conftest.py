"""Shared fixtures: the same tests run on SQLite and on a real PostgreSQL server.

PostgreSQL: TEST_DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test.
Each test session works in its own schema, dropped at the end, so parallel runs and the
department's data never meet. Where no server answers the PostgreSQL cases are skipped
with the reason printed; under CI (CI=true) that skip is a failure.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard import cache, figures
from dashboard.database import make_engine, upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_problem() -> str | None:
    try:
        probe = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"


_PG_PROBLEM = _pg_problem()


def pytest_report_header(config):
    return f"postgresql: {'unavailable - ' + _PG_PROBLEM if _PG_PROBLEM else PG_URL}"


def require_postgres():
    if _PG_PROBLEM:
        if IN_CI:
            pytest.fail(f"CI=true but {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)


def _pg_engine_in_new_schema():
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # The schema rides in the URL (not connect_args), so commands given engine.url reach it too.
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    return engine, admin, schema


def _drop_schema(admin, schema):
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        upgrade(engine)
        yield engine
        engine.dispose()
        _drop_schema(admin, schema)


@pytest.fixture
def use_engine(empty_engine):
    """Point the read side (dashboard.figures) at the test database, with a fresh cache."""
    figures.set_engine(empty_engine)
    cache.clear()
    yield empty_engine
    figures.set_engine(None)
    cache.clear()


@pytest.fixture(scope="session")
def demo_data():
    from dashboard.demo import build_demo

    return build_demo()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_engine(request, tmp_path_factory, demo_data):
    """A database of each kind holding the demo province (loaded once per session)."""
    from dashboard.bootstrap import prepare_database

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
        prepare_database(engine, load_demo=True)
        yield engine
        engine.dispose()
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        prepare_database(engine, load_demo=True)
        yield engine
        engine.dispose()
        _drop_schema(admin, schema)


@pytest.fixture
def demo_db(demo_engine):
    figures.set_engine(demo_engine)
    cache.clear()
    yield demo_engine
    figures.set_engine(None)
    cache.clear()


# Browser fixtures (live_server, browser, page) live in tests/browser_helpers.py.
from tests.browser_helpers import browser, live_server, page  # noqa: E402,F401


#: Slow copies of tests whose code path the default run already covers (the same test on SQLite,
#: or the same pack written in-process): they run with `-m slow`, keeping the default run short.
SLOW_COPIES = {
    "tests/test_cli_db.py::test_db_upgrade_then_load_demo_twice_is_idempotent[postgresql]",
    "tests/test_auth_cli.py::test_demo_remove_deletes_the_demo_and_keeps_the_departments_data[postgresql]",
    "tests/test_briefing.py::test_briefing_runs_as_a_command",
}


@pytest.hookimpl(tryfirst=True)  # before the `-m` selection reads the markers
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW_COPIES:
            item.add_marker(pytest.mark.slow)
