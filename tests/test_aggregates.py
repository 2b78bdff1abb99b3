"""The figures stored at load time (dashboard/aggregates.py) equal the roll-up computed from the
raw values at call time (figures.figures_live, dashboard/aggregation.py: the oracle), for every
entity and period of the hand-made world and a sample of the demo, on SQLite and PostgreSQL; a
load recomputes what it touched and nothing else; the batch progress rules equal the scalar ones."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboard import aggregates, figures, progress, store
from dashboard.periods import month_index, month_range
from dashboard.progress_batch import evaluate_batch
from tests.world import load_world

EXACT = ["status", "target_source", "deadline", "flags", "projected_month", "reported", "expected", "last_month",
         "name", "parent_code"]
CLOSE = ["numerator", "denominator", "value", "target", "gap_points", "gap_units", "needed_pace", "actual_pace",
         "projected_value"]


def assert_same(stored: pd.DataFrame, live: pd.DataFrame, where: tuple) -> None:
    assert list(stored["code"]) == list(live["code"]), where
    a, b = stored.set_index("code"), live.set_index("code")
    # A unit nobody beneath reports ("không áp dụng") has no stored progress: compare its counts only.
    applicable = b["expected"] > 0
    for col in EXACT:
        x = a[col] if col in ("reported", "expected", "name") else a[col][applicable]
        y = b[col] if col in ("reported", "expected", "name") else b[col][applicable]
        assert (x.fillna("∅").astype(str) == y.fillna("∅").astype(str)).all(), (where, col)
    for col in CLOSE:
        x, y = a[col][applicable].astype(float), b[col][applicable].astype(float)
        assert np.allclose(x, y, rtol=1e-12, atol=1e-12, equal_nan=True), (where, col)


def all_periods(first: str, last: str) -> list[str]:
    return [label for label, _kind, _start, _end in aggregates.periods_of(first, last)]


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


LEVELS = ("province", "district", "commune", "facility")  # the world's levels, written out


def test_every_stored_figure_of_the_world_equals_the_live_roll_up(world):
    for indicator in ("stockind", "flowind"):
        for period in all_periods("2025-05", "2025-09"):
            for level in LEVELS:
                for parent in (None, "001", "002"):
                    if parent and level in ("province", "district"):
                        continue
                    assert_same(figures.figures(indicator, period, level, parent),
                                figures.figures_live(indicator, period, level, parent),
                                (indicator, period, level, parent))


def test_series_from_the_store_equal_the_live_series(world):
    for code in ("01", "001", "002", "00004", "00007", "00008", "BV1", "TYT5"):
        for indicator in ("stockind", "flowind"):
            stored = figures.series(indicator, code, "2025-03", "2025-10")
            live = figures.series_live(indicator, code, "2025-03", "2025-10")
            assert list(stored["period"]) == list(live["period"])
            for col in ("numerator", "denominator", "value"):
                assert np.allclose(stored[col], live[col], equal_nan=True), (code, indicator, col)
            # Months outside the data (before its first month, after its last) are stored as nobody
            # expected (completeness unknown); inside it the counts agree month by month.
            inside = stored["period"].between("2025-05", "2025-09")
            for col in ("reported", "expected", "completeness"):
                assert np.allclose(stored[col][inside], live[col][inside], equal_nan=True), (code, indicator, col)
            assert (stored["reported"][~inside] == 0).all()


DEMO_PERIODS = ("2026-10", "2026-Q3", "2025", "2023-01")  # the rest: test_every_period_of_the_demo (slow)


def test_a_sample_of_the_demo_equals_the_live_roll_up(demo_db):
    for indicator in figures.indicators()["code"]:
        for period in DEMO_PERIODS:
            for level in ("province", "district", "commune", "facility"):
                assert_same(figures.figures(indicator, period, level), figures.figures_live(indicator, period, level),
                            (indicator, period, level))
    assert_same(figures.figures("hssk", "2026-10", "commune", "303"),
                figures.figures_live("hssk", "2026-10", "commune", "303"), ("hssk", "303"))


@pytest.mark.slow
def test_every_period_of_the_demo_equals_the_live_roll_up(demo_db):
    for indicator in figures.indicators()["code"]:
        for period in all_periods("2023-01", figures.latest_month(indicator)):
            for level in ("province", "district", "commune", "facility"):
                assert_same(figures.figures(indicator, period, level), figures.figures_live(indicator, period, level),
                            (indicator, period, level))


def stored(engine, table: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(f"SELECT * FROM {table} ORDER BY indicator_code, period, entity_code"), conn)


def test_a_load_recomputes_what_it_touched_and_nothing_else(world):
    before_sums, before_progress = stored(world, "aggregates"), stored(world, "aggregate_progress")
    version = figures.version()
    with store.write_transaction(world) as conn:
        load_id = store.record_load(conn, kind="values", source_file="one.csv", checksum="y")
        store.upsert_values(conn, pd.DataFrame([("stockind", "00005", "2025-09", 150, 200)],
                                               columns=["indicator", "entity_code", "period", "numerator",
                                                        "denominator"]), load_id)
        counts = aggregates.refresh(conn)
    assert figures.version() == version + 1  # one bump, after the refresh, in the same transaction
    # September, Q3 and 2025 of stockind: the three periods holding the month, at every level.
    touched = {"2025-09", "2025-Q3", "2025"}
    after_sums = stored(world, "aggregates")
    same = before_sums[~((before_sums["indicator_code"] == "stockind") & before_sums["period"].isin(touched))]
    kept = after_sums.merge(same, how="inner")
    assert len(kept) == len(same)  # every other stored roll-up is exactly as it was
    assert counts["sums"] == len(after_sums[(after_sums["indicator_code"] == "stockind")
                                            & after_sums["period"].isin(touched)])
    row = after_sums[(after_sums["indicator_code"] == "stockind") & (after_sums["period"] == "2025-09")
                     & (after_sums["entity_code"] == "001")].iloc[0]
    # zone 001 in September: 00004 70/100 and now 00005 150/200 (by hand)
    assert (row["numerator"], row["denominator"], row["reported"], row["expected"]) == (220, 300, 2, 2)
    assert len(stored(world, "aggregate_progress")) == len(before_progress)
    # ...and the result is what a full rebuild gives.
    with store.write_transaction(world) as conn:
        aggregates.rebuild(conn)
    pd.testing.assert_frame_equal(stored(world, "aggregates"), after_sums)


AGGREGATE_TABLES = ("agg_periods", "aggregates", "aggregate_progress")


def aggregate_checksums(engine) -> dict[str, str]:
    from dashboard.database import table_checksums

    return {t: v for t, v in table_checksums(engine).items() if t in AGGREGATE_TABLES}


def load_values(engine, rows: list[tuple]) -> dict:
    with store.write_transaction(engine) as conn:
        load_id = store.record_load(conn, kind="values", source_file="more.csv", checksum="z")
        store.upsert_values(conn, pd.DataFrame(rows, columns=["indicator", "entity_code", "period", "numerator",
                                                              "denominator"]), load_id)
        return aggregates.refresh(conn)


@pytest.mark.parametrize("rows, restricted", [
    # one commune corrects an old month: only its ancestors' progress, only the paced periods
    ([("stockind", "00005", "2025-07", 20, 200)], True),
    # a station's flow in a month inside the data
    ([("flowind", "TYT5", "2025-08", 3, 4)], True),
    # a month new to the data: the quarter and year in progress now end later, for every entity
    ([("stockind", "00004", "2025-10", 75, 100), ("stockind", "00006", "2025-10", 930, 1000)], False),
    # a month before every other: each indicator gains periods at the start
    ([("flowind", "BV1", "2025-03", 10, 100)], False),
])
def test_an_incremental_refresh_equals_a_full_rebuild(world, rows, restricted):
    """The refresh of a load (periods holding or pacing on the months written, entities above the
    ones written, periods whose window changed for everyone) leaves the three tables exactly as
    recomputing everything does, row for row (a checksum of every row)."""
    full_progress = len(stored(world, "aggregate_progress"))
    counts = load_values(world, rows)
    incremental = aggregate_checksums(world)
    if restricted:  # fewer progress rows than one period of every entity: the restriction was used
        assert 0 < counts["progress"] < full_progress / len(all_periods("2025-05", "2025-09"))
    with store.write_transaction(world) as conn:
        aggregates.rebuild(conn)
    assert aggregate_checksums(world) == incremental
    for period in ("2025-07", "2025-Q3", "2025"):  # and the oracle agrees
        assert_same(figures.figures("stockind", period, "commune"), figures.figures_live("stockind", period, "commune"),
                    (rows, period))


def test_a_target_change_refreshes_statuses_only(world):
    sums = stored(world, "aggregates")
    with store.write_transaction(world) as conn:
        store.upsert_targets(conn, pd.DataFrame([("stockind", "01", 30.0, "2025-12", "KH mới")],
                                                columns=["indicator", "unit_code", "value", "deadline", "source"]))
    pd.testing.assert_frame_equal(stored(world, "aggregates"), sums)
    row = figures.figures("stockind", "2025-09", "commune").set_index("code").loc["00004"]
    assert row["target"] == 30.0 and row["status"] == "achieved" and row["target_source"] == "KH mới"
    assert_same(figures.figures("stockind", "2025-09", "commune"),
                figures.figures_live("stockind", "2025-09", "commune"), "after target")


def test_a_hierarchy_change_refreshes_what_it_moves(world):
    moved = pd.DataFrame([("00005", "Xã Năm", "commune", "002", None, None)],
                         columns=["code", "name", "level", "parent_code", "valid_from", "valid_to"])
    with store.write_transaction(world) as conn:
        store.upsert_units(conn, moved)
        store.rebuild_hierarchy(conn)
    zones = figures.figures("stockind", "2025-09", "district").set_index("code")
    # 00005 (did not report in September) now expected in zone 002, no longer in 001
    assert (zones.loc["001", "expected"], zones.loc["002", "expected"]) == (1, 3)
    assert_same(figures.figures("stockind", "2025-09", "district"),
                figures.figures_live("stockind", "2025-09", "district"), "after move")


def test_a_database_upgraded_with_values_gets_its_figures(use_engine):
    load_world(use_engine)
    with use_engine.begin() as conn:
        conn.execute(text("DELETE FROM aggregate_progress"))
        conn.execute(text("DELETE FROM aggregates"))
        conn.execute(text("DELETE FROM meta WHERE key = 'aggregates_rules'"))
    assert aggregates.ensure(use_engine) is True
    assert aggregates.ensure(use_engine) is False  # made by these rules: nothing to do
    assert_same(figures.figures.uncached("stockind", "2025-Q3", "commune"),
                figures.figures_live("stockind", "2025-Q3", "commune"), "ensure")


def test_periods_cover_months_quarters_and_years_in_progress():
    got = aggregates.periods_of("2025-11", "2026-02")
    assert [g[0] for g in got] == ["2025-11", "2025-12", "2026-01", "2026-02", "2025-Q4", "2026-Q1", "2025", "2026"]
    assert dict((g[0], (g[2], g[3])) for g in got)["2026-Q1"] == ("2026-01", "2026-02")  # in progress
    assert dict((g[0], (g[2], g[3])) for g in got)["2025"] == ("2025-01", "2025-12")


# --- the batch rules equal the scalar ones ---------------------------------------------------------

def scalar(num, den, month0, target, deadline, higher) -> progress.Progress:
    months = month_range(progress.month_from_index(month0), progress.month_from_index(month0 + len(num) - 1))
    obs = [progress.Observation(m, n, d) for m, n, d in zip(months, num, den) if not math.isnan(n)]
    t = progress.Target(target, progress.month_from_index(deadline)) if not math.isnan(target) else None
    return progress.evaluate(obs, t, months[-1], higher_is_better=higher)


cell = st.one_of(st.none(), st.tuples(st.integers(-5, 130), st.sampled_from([0, 50, 100, 100, 100, 200])))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(cell, min_size=25, max_size=25), target=st.one_of(st.none(), st.integers(0, 100)),
       deadline_shift=st.integers(-30, 30), higher=st.booleans())
def test_batch_progress_equals_the_scalar_rules(cells, target, deadline_shift, higher):
    month0 = month_index("2024-01")
    num = np.array([np.nan if c is None else float(c[0]) for c in cells])
    den = np.array([np.nan if c is None else float(c[1]) for c in cells])
    t = np.nan if target is None else float(target)
    deadline = month0 + 24 + deadline_shift
    got = evaluate_batch(num[None, :], den[None, :], np.array([month0]), np.array([t]), np.array([deadline]), higher)
    want = scalar(num, den, month0, t, deadline, higher)
    assert got["status"][0] == want.status
    assert got["flags"][0] == ",".join(want.flags)
    for key in ("actual_pace", "needed_pace", "projected_value"):
        a, b = got[key][0], getattr(want, key)
        assert (np.isnan(a) and b is None) or a == b, key  # to the last bit
    pm = got["projected_month"][0]
    assert (pm < 0 and want.projected_month is None) or progress.month_from_index(int(pm)) == want.projected_month
