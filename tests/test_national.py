"""The national demo (`dashboard load-demo --national`, dashboard/national.py): the country at the
root, provinces, communes, real boundaries and the values through the one importer. By default a
national-shaped sample (2 provinces, 3 communes each, 2 months) goes through the same code path;
the full load (3,321 communes × 12 indicators × 60 months) is a slow test."""
from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard import boundaries, cache, figures, maps
from dashboard.national import COUNTRY_CODE, INDICATORS, Sample, load_national

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Sample(provinces=("01", "31"), communes_per_province=3, months=2)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def national_engine(request, tmp_path_factory):
    """The sample loaded once per database kind (the tests only read it)."""
    from dashboard.database import make_engine, upgrade
    from tests.conftest import _drop_schema, _pg_engine_in_new_schema, require_postgres

    admin = schema = None
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('national') / 'sample.db'}")
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
    upgrade(engine)
    figures.set_engine(engine)
    cache.clear()
    log = io.StringIO()  # not a terminal: progress comes as whole lines
    counts = load_national(engine, sample=SAMPLE, stream=log)
    yield engine, counts, log.getvalue()
    engine.dispose()
    if admin is not None:
        _drop_schema(admin, schema)


@pytest.fixture
def national(national_engine):
    figures.set_engine(national_engine[0])
    cache.clear()
    yield national_engine
    figures.set_engine(None)
    cache.clear()


def test_the_sample_has_the_country_at_its_root_then_provinces_then_communes(national):
    engine, counts, _log = national
    with engine.connect() as conn:
        levels = dict(conn.execute(text("SELECT level, COUNT(*) FROM units GROUP BY level")).all())
        parents = dict(conn.execute(text("SELECT code, parent_code FROM units")).all())
    assert levels == {"country": 1, "province": 2, "commune": 6}
    assert parents[COUNTRY_CODE] is None
    assert {parents[p] for p in ("01", "31")} == {COUNTRY_CODE}
    assert figures.root_code() == COUNTRY_CODE
    assert [lv for lv in figures.levels_in_use()] and set(figures.levels_in_use()) == {"country", "province",
                                                                                       "commune"}
    assert counts["boundaries"] == 2 + 6
    assert figures.headline_codes() == [code for code, *_ in INDICATORS[:4]]  # the overview's cards


def test_the_sample_s_values_roll_up_as_ratio_of_sums(national):
    engine, counts, _log = national
    code = INDICATORS[0][0]  # a stock indicator
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM kpi_values")).scalar() == counts["rows"]
        assert conn.execute(text("SELECT COUNT(DISTINCT indicator_code) FROM kpi_values")).scalar() == 12
        num, den = conn.execute(text(
            "SELECT SUM(v.numerator), SUM(v.denominator) FROM kpi_values v JOIN units u ON u.code = v.entity_code "
            "WHERE v.indicator_code = :i AND v.period = '2021-12' AND u.parent_code = '31'"), {"i": code}).one()
    row = figures.figures(code, "2021-12", "province", COUNTRY_CODE).set_index("code").loc["31"]
    assert row["numerator"] == num and row["denominator"] == den
    assert row["value"] == pytest.approx(100 * num / den)


def test_the_sample_s_maps_read_prepared_layers(national):
    engine, _counts, _log = national
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT level, parent_code FROM boundary_layers")).all())
    assert keys == {("province", COUNTRY_CODE), ("commune", COUNTRY_CODE), ("commune", "01"), ("commune", "31")}
    fig = maps.map_figure(INDICATORS[0][0], None, "province")
    assert sorted(loc for tr in fig.data if tr.type == "choropleth" for loc in tr.locations) == ["01", "31"]
    layer = boundaries.layer_for("commune", "31")
    assert layer is not None and len(layer.features) == 3
    assert layer.tolerance < boundaries.layer_for("province", COUNTRY_CODE).tolerance


def test_progress_prints_lines_when_stderr_is_not_a_terminal(national):
    _engine, _counts, log = national
    lines = [line for line in log.splitlines() if line.strip()]
    assert any("map layers per level and parent" in line for line in lines)
    assert any("stored: 8 ranh giới / boundaries, 4 lớp / layers" in line for line in lines)
    assert any("writing the illustrative values: 100%" in line for line in lines)
    assert "\r" not in log


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_full_national_load_fits_in_ten_minutes_and_one_gigabyte(database, tmp_path):
    """3,321 communes × 12 indicators × 60 months through `dashboard load-demo --national`."""
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'national.db'}"
        cleanup = None
    else:
        from tests.conftest import PG_URL, _pg_engine_in_new_schema, require_postgres

        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        cleanup = (admin, schema)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dashboard", "--database", url, "load-demo", "--national"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    took = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "values 2" in proc.stdout  # 2.39 M rows
        assert took <= 600
        assert peak_mb <= 1024
    finally:
        if cleanup:
            from tests.conftest import _drop_schema

            _drop_schema(*cleanup)
