"""Roll-up rules against sums computed independently with pandas over the raw rows."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard import aggregation, figures
from dashboard.periods import PeriodError, parse_period
from tests.world import VALUES, load_world

# Written out by hand (not read from the database): each reporting entity's commune, zone, province.
COMMUNE_OF = {"00004": "00004", "00005": "00005", "00006": "00006", "00007": "00007", "00008": "00008",
              "BV1": "00004", "BV2": "00006", "TYT4": "00004", "TYT5": "00005", "TYT6": "00006"}
ZONE_OF_COMMUNE = {"00004": "001", "00005": "001", "00006": "002", "00007": "002", "00008": "002"}


def expected_rollup(indicator: str, months: list[str], stock: bool, key) -> pd.DataFrame:
    rows = VALUES[(VALUES["indicator"] == indicator) & VALUES["period"].isin(months)].copy()
    if stock:
        rows = rows.sort_values("period").groupby("entity_code").tail(1)
    else:
        rows = rows.groupby("entity_code", as_index=False)[["numerator", "denominator"]].sum()
    rows["code"] = rows["entity_code"].map(key)
    out = rows.groupby("code")[["numerator", "denominator"]].sum()
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def _rollup(engine, indicator, time_agg, period, level):
    with engine.connect() as conn:
        return aggregation.rollup(conn, indicator, time_agg, parse_period(period), level).set_index("code")


def test_stock_quarter_takes_each_entitys_latest_month(world):
    got = _rollup(world, "stockind", "stock", "2025-Q3", "district")
    want = expected_rollup("stockind", ["2025-07", "2025-08", "2025-09"], True,
                           lambda e: ZONE_OF_COMMUNE[COMMUNE_OF[e]])
    for code in want.index:
        assert got.loc[code, "numerator"] == pytest.approx(want.loc[code, "numerator"])
        assert got.loc[code, "denominator"] == pytest.approx(want.loc[code, "denominator"])
        assert got.loc[code, "value"] == pytest.approx(want.loc[code, "value"])
    # By hand: zone 001 = (70 + 30) / (100 + 200) = 33.33 %, not the mean of 70 % and 15 %.
    assert got.loc["001", "value"] == pytest.approx(100 * 100 / 300)


def test_flow_quarter_sums_months_and_facilities_roll_up(world):
    months = ["2025-07", "2025-08", "2025-09"]
    for level, key in (("commune", lambda e: COMMUNE_OF[e]),
                       ("district", lambda e: ZONE_OF_COMMUNE[COMMUNE_OF[e]]),
                       ("province", lambda e: "01")):
        got = _rollup(world, "flowind", "flow", "2025-Q3", level)
        want = expected_rollup("flowind", months, False, key)
        for code in want.index:
            assert got.loc[code, "numerator"] == pytest.approx(want.loc[code, "numerator"]), (level, code)
            assert got.loc[code, "denominator"] == pytest.approx(want.loc[code, "denominator"]), (level, code)
    province = _rollup(world, "flowind", "flow", "2025-Q3", "province").loc["01"]
    # By hand: (30+40+50) + (1+3) + (2+2+2) + 0 = 130 over 300 + 20 + 12 + 5 = 337.
    assert province["numerator"] == 130 and province["denominator"] == 337
    assert province["reported"] == 4 and province["expected"] == 5  # TYT5 never reported


def test_rate_is_never_an_average_of_children(world):
    got = _rollup(world, "flowind", "flow", "2025-Q3", "facility")
    mean_of_rates = got["value"].dropna().mean()
    province = _rollup(world, "flowind", "flow", "2025-Q3", "province").loc["01", "value"]
    assert province == pytest.approx(100 * 130 / 337)
    assert not math.isclose(province, mean_of_rates, rel_tol=1e-3)


def test_missing_is_not_zero_and_completeness_counts_it(world):
    got = _rollup(world, "flowind", "flow", "2025-09", "facility")
    assert math.isnan(got.loc["TYT5", "value"]) and math.isnan(got.loc["TYT5", "numerator"])
    assert got.loc["TYT5", "reported"] == 0 and got.loc["TYT5", "expected"] == 1
    assert math.isnan(got.loc["TYT6", "value"])  # reported in August only
    commune = _rollup(world, "stockind", "stock", "2025-09", "commune")
    assert math.isnan(commune.loc["00005", "value"])
    zone = _rollup(world, "stockind", "stock", "2025-09", "district").loc["001"]
    assert zone["reported"] == 1 and zone["expected"] == 2 and zone["completeness"] == 0.5


def test_history_under_old_units_rolls_up_next_to_new_ones(world):
    before = _rollup(world, "stockind", "stock", "2025-06", "district").loc["002"]
    after = _rollup(world, "stockind", "stock", "2025-09", "district").loc["002"]
    # June: only the old commune 00007 reported (45/60); 00006 had not reported yet, 00008 did not exist.
    assert (before["numerator"], before["denominator"], before["expected"]) == (45, 60, 2)
    # September: 00006 (920/1000) and the new 00008 (5/50); the old 00007 is no longer expected.
    assert (after["numerator"], after["denominator"], after["expected"]) == (925, 1050, 2)


def test_monthly_series_fills_gaps_with_nan(world):
    with world.connect() as conn:
        frame = aggregation.monthly_series(conn, "stockind", "00005", "2025-06", "2025-09").set_index("period")
    assert list(frame.index) == ["2025-06", "2025-07", "2025-08", "2025-09"]
    assert math.isnan(frame.loc["2025-06", "value"]) and math.isnan(frame.loc["2025-09", "value"])
    assert frame.loc["2025-08", "value"] == pytest.approx(15.0)
    assert frame.loc["2025-09", "expected"] == 1 and frame.loc["2025-09", "reported"] == 0


def test_not_reported_lists_silent_entities(world):
    with world.connect() as conn:
        silent = aggregation.not_reported(conn, "flowind", "01", parse_period("2025-09"))
    assert silent == ["TYT5", "TYT6"]


def test_targets_inherit_from_nearest_ancestor(world):
    # Zone 002 has its own 95 % target; zone 001 and its communes inherit the province's 80 %.
    assert figures.resolve_target("stockind", "00006", "2025-09").value == 95.0
    assert figures.resolve_target("stockind", "00004", "2025-09").value == 80.0
    assert figures.resolve_target("stockind", "01", "2025-09").source == "KH thử 1"


def test_figures_table_joins_names_targets_and_status(world):
    table = figures.figures("stockind", "2025-Q3", "commune", "001").set_index("code")
    assert list(table.index) == ["00004", "00005"]
    assert table.loc["00004", "name"] == "Phường Bốn"
    assert table.loc["00004", "value"] == pytest.approx(70.0)
    assert table.loc["00004", "target"] == 80.0
    # 70 % of 100 people against 80 %: 10 people short.
    assert table.loc["00004", "gap_units"] == pytest.approx(10.0)


def test_cache_sees_a_new_load_at_once(world):
    from dashboard import store

    first = figures.figures("flowind", "2025-09", "facility").set_index("code")
    assert math.isnan(first.loc["TYT5", "value"])
    with store.write_transaction(world) as conn:
        load_id = store.record_load(conn, kind="values", source_file="late.csv", checksum="y")
        store.upsert_values(conn, pd.DataFrame([("flowind", "TYT5", "2025-09", 1.0, 2.0)],
                                               columns=["indicator", "entity_code", "period", "numerator",
                                                        "denominator"]), load_id)
    second = figures.figures("flowind", "2025-09", "facility").set_index("code")
    assert second.loc["TYT5", "value"] == pytest.approx(50.0)


@pytest.mark.parametrize("raw,start,end", [("2025-07", "2025-07", "2025-07"), ("2025-Q3", "2025-07", "2025-09"),
                                           ("2025-q4", "2025-10", "2025-12"), ("2024", "2024-01", "2024-12")])
def test_parse_period(raw, start, end):
    period = parse_period(raw)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("raw", ["2025-13", "2025-Q5", "25-07", "", "2025/07", "abc", "2025-00"])
def test_parse_period_rejects_with_bilingual_message(raw):
    with pytest.raises(PeriodError, match="Kỳ báo cáo không hợp lệ.*invalid period"):
        parse_period(raw)
