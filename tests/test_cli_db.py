"""`dashboard db upgrade` and `dashboard load-demo` on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from dashboard.cli import main
from dashboard.config import ConfigError, load_settings
from dashboard.database import make_engine
from tests.conftest import PG_URL, require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_db_upgrade_then_load_demo_twice_is_idempotent(database_url):
    assert run("--database", database_url, "db", "upgrade").exit_code == 0
    first = run("--database", database_url, "load-demo", "--user", "tester")
    assert first.exit_code == 0, first.output
    # a numbered line per step on stderr, as it goes, then the total
    steps = [ln for ln in first.stderr.splitlines() if ln.startswith("[")]
    assert [ln.split("]")[0] + "]" for ln in steps] == [f"[{i}/7]" for i in range(1, 8)], first.stderr
    assert "Ranh giới bản đồ / map boundaries" in first.stderr and first.stderr.splitlines()[-1].startswith("Xong")
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows_1 = conn.execute(text("SELECT indicator_code, period, entity_code, numerator, denominator "
                                   "FROM kpi_values ORDER BY 1, 2, 3")).all()
        units_1 = conn.execute(text("SELECT COUNT(*) FROM units")).scalar_one()
    second = run("--database", database_url, "load-demo")
    assert second.exit_code == 0, second.output
    with engine.connect() as conn:
        rows_2 = conn.execute(text("SELECT indicator_code, period, entity_code, numerator, denominator "
                                   "FROM kpi_values ORDER BY 1, 2, 3")).all()
        loads = conn.execute(text("SELECT user_name, rows_added, rows_replaced, is_demo FROM data_loads "
                                  "ORDER BY id")).all()
        units_2 = conn.execute(text("SELECT COUNT(*) FROM units")).scalar_one()
    engine.dispose()
    assert rows_1 == rows_2 and len(rows_1) > 20_000
    assert units_1 == units_2 == 1 + 27 + 114 + 2 + 27 + 374  # today's city, and the units before the reform
    assert loads[0][0] == "tester" and loads[0][1] == len(rows_1) and loads[0][2] == 0
    assert loads[1][1] == 0 and loads[1][2] == len(rows_1)  # the second load replaced every row


def test_schema_is_identical_on_both_databases(tmp_path):
    require_postgres()
    shapes = {}
    for kind in ("sqlite", "postgresql"):
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'shape.db'}"
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        assert run("--database", url, "db", "upgrade").exit_code == 0
        engine = make_engine(url)
        insp = inspect(engine)
        shapes[kind] = {
            table: (sorted(c["name"] for c in insp.get_columns(table)),
                    # PostgreSQL also lists a unique constraint's own index: compare constraints apart.
                    sorted(i["name"] for i in insp.get_indexes(table) if not i.get("duplicates_constraint")),
                    sorted(u["name"] for u in insp.get_unique_constraints(table)))
            for table in insp.get_table_names()
        }
        engine.dispose()
        if kind == "postgresql":
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    assert shapes["sqlite"] == shapes["postgresql"]
    assert "ix_kpi_values_covering" in shapes["sqlite"]["kpi_values"][1]
    # an undo and the loads page ask by load (migration 0010)
    assert "ix_kpi_values_load" in shapes["sqlite"]["kpi_values"][1]
    assert "ix_audit_log_action_subject" in shapes["sqlite"]["audit_log"][1]


def test_help_is_bilingual():
    result = run("--help")
    assert result.exit_code == 0 and "Quản trị dữ liệu" in result.output and "data administration" in result.output


@pytest.mark.parametrize("env,needle", [
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
    ({"DASHBOARD_LANG": "fr"}, "DASHBOARD_LANG"),
    ({"CACHE_TYPE": "RedisCache"}, "CACHE_REDIS_URL"),
    ({"DASHBOARD_DEBUG": "maybe"}, "DASHBOARD_DEBUG"),
])
def test_bad_configuration_names_the_variable_in_both_languages(env, needle):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    assert needle in message and "Biến môi trường" in message


def test_configuration_defaults_and_postgres_url_normalised():
    settings = load_settings({})
    assert settings.database_url.endswith("data/dashboard.db") and settings.port == 8050
    assert settings.cache_type == "SimpleCache"
    pg = load_settings({"DATABASE_URL": "postgres://u@h/db", "CACHE_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert pg.database_url == "postgresql+psycopg://u@h/db" and pg.cache_type == "RedisCache"


def test_bad_database_url_is_a_usage_error_not_a_traceback():
    result = CliRunner().invoke(main, ["--database", "nonsense://", "db", "current"])
    assert result.exit_code == 2 and "DATABASE_URL" in result.output
