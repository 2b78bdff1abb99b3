"""figures.figures() statuses and projections on the tiny world, computed by hand.

The world (tests/world.py): stockind targets 80 % by 2025-12 for the province and 95 % by
2025-12 for zone 002 (inherited by its communes); flowind 50 % by 2026-06 for the province.
Every expected number below is worked out in the comment next to it from the rows of
tests/world.py, not read from the code under test.
"""
from __future__ import annotations

import pytest

from dashboard import figures, progress
from tests.world import load_world


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def rows(indicator, period, level, parent=None):
    return figures.figures(indicator, period, level, parent).set_index("code")


def test_commune_statuses_for_a_month(world):
    t = rows("stockind", "2025-09", "commune")
    # 00004: 50, 60, 70 % (Jul-Sep, 100 people): pace 10 points/month, 3 months to 2025-12,
    # projection 70 + 30 = 100 >= 80 inherited from the province -> on track; 10 points = 10 people short.
    r = t.loc["00004"]
    assert (r["status"], r["target"], r["deadline"]) == ("on_track", 80.0, "2025-12")
    assert r["gap_points"] == pytest.approx(10.0) and r["gap_units"] == pytest.approx(10.0)
    assert r["actual_pace"] == pytest.approx(10.0) and r["needed_pace"] == pytest.approx(10 / 3)
    assert r["projected_value"] == pytest.approx(100.0) and r["projected_month"] == "2025-10"  # ceil(10/10)=1
    # 00005 did not report in September: not reported, never a zero.
    assert t.loc["00005", "status"] == "no_data" and t.loc["00005", "reported"] == 0
    # 00006: 90, 91, 92 % against zone 002's own 95 %: pace 1, projection 92 + 3 = 95 exactly -> on track.
    r = t.loc["00006"]
    assert (r["status"], r["target"]) == ("on_track", 95.0)
    assert r["projected_value"] == pytest.approx(95.0) and r["projected_month"] == "2025-12"
    # 00008: a single month, 5/50 = 10 % against 95 %: no pace, 85 points short -> off track.
    r = t.loc["00008"]
    assert r["status"] == "off_track" and "single_point" in r["flags"]
    assert r["gap_units"] == pytest.approx(0.95 * 50 - 5)
    # 00007 ended 2025-06: not a row of September.
    assert "00007" not in t.index


def test_zone_status_uses_the_rolled_up_months(world):
    t = rows("stockind", "2025-09", "district")
    # Zone 001 by month: Jul (50+10)/300 = 20 %, Aug (60+30)/300 = 30 %, Sep 70/100 = 70 % (00005 silent).
    # Slope over (0,20) (1,30) (2,70): sxy = (-1)(-20) + (1)(30) = 50, sxx = 2 -> 25 points/month.
    r = t.loc["001"]
    assert r["value"] == pytest.approx(70.0) and r["actual_pace"] == pytest.approx(25.0)
    assert r["status"] == "on_track" and (r["reported"], r["expected"]) == (1, 2)
    # Zone 002 in September: (920 + 5) / (1000 + 50) = 88.095 % against its own 95 %.
    r = t.loc["002"]
    assert r["value"] == pytest.approx(100 * 925 / 1050)
    assert r["gap_units"] == pytest.approx(0.95 * 1050 - 925)


def test_a_quarter_is_judged_on_the_quarter_not_on_its_last_month(world):
    """The bug this guards: BV1 reached 50 % in September, but its Q3 is 120/300 = 40 %.
    The status must describe the 40 % shown, not September's 50 %."""
    t = rows("flowind", "2025-Q3", "facility")
    r = t.loc["BV1"]
    assert r["value"] == pytest.approx(40.0)
    # Months Jul 30 %, Aug 40 %, then the quarter's 40 % stands for September:
    # slope over (0,30) (1,40) (2,40) = (40 - 30) / 2 = 5; 9 months to 2026-06 -> 40 + 45 = 85 >= 50.
    assert r["status"] == "on_track"
    assert r["actual_pace"] == pytest.approx(5.0)
    assert r["projected_value"] == pytest.approx(85.0)
    assert r["gap_points"] == pytest.approx(10.0)
    assert r["gap_units"] == pytest.approx(0.5 * 300 - 120)  # 30 (the flow's unit) short
    # TYT4: 2/4 every month -> 6/12 = 50 % exactly: achieved (gap 0).
    assert t.loc["TYT4", "status"] == "achieved" and t.loc["TYT4", "gap_points"] == pytest.approx(0.0)
    # TYT6: only 0/5 in August; the quarter 0/5 = 0 % -> flat at 0, 50 points short -> off track.
    assert t.loc["TYT6", "status"] == "off_track"
    assert t.loc["TYT5", "status"] == "no_data"
    # In September alone BV1 is at 50 %: achieved.
    assert rows("flowind", "2025-09", "facility").loc["BV1", "status"] == "achieved"


def test_status_and_gap_never_disagree(world):
    for indicator, periods in (("stockind", ("2025-07", "2025-08", "2025-09", "2025-Q3", "2025")),
                               ("flowind", ("2025-07", "2025-08", "2025-09", "2025-Q3", "2025"))):
        for period in periods:
            for level in ("province", "district", "commune", "facility"):  # the world's levels, by hand
                for r in figures.figures(indicator, period, level).itertuples():
                    if r.status == "achieved" and "deadline_passed" not in r.flags:
                        assert r.gap_points <= progress.EPSILON_POINTS, (indicator, period, level, r.code)
                    if r.status in ("on_track", "at_risk", "off_track", "overdue"):
                        assert r.gap_points > 0, (indicator, period, level, r.code)


def test_headline_progress_agrees_with_the_row(world):
    card = figures.headline("flowind", "2025-Q3", "BV1")
    assert card.progress.status == card.row["status"] == "on_track"
    assert card.progress.value == pytest.approx(card.row["value"])
    assert card.progress.gap_units == pytest.approx(card.row["gap_units"])


def test_a_pace_barely_above_zero_never_reaches_the_target_and_does_not_crash():
    # Found on the demo (hssk, communes): 50 % then 50.0000001 % -> the target of 95 % would be
    # reached in 450 million months, past year 9999; that is "never", not a ValueError.
    obs = [progress.Observation("2025-01", 50.0, 100.0), progress.Observation("2025-02", 50.0000001, 100.0)]
    p = progress.evaluate(obs, progress.Target(95.0, "2025-12"), "2025-02")
    assert p.projected_month is None
    assert p.status == "off_track"  # projection ~50 %, 45 points short
