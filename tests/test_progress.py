"""Tests for dashboard.progress.

Every expected number is worked out by hand in the comment next to it; none
is computed with the code under test. Unless said otherwise the denominator is
1000, so a value of 70 % is numerator 700 and 1 percentage point = 10 units.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.progress import (
    AT_RISK_MARGIN_POINTS,
    FLAGS,
    PACE_WINDOW_MONTHS,
    STATUS_ORDER,
    STATUSES,
    Observation,
    Target,
    add_months,
    evaluate,
    month_index,
    status_sort_key,
)


def obs(month: str, num, den=1000) -> Observation:
    return Observation(month, num, den)


def monthly(first: str, numerators, den=1000) -> list[Observation]:
    """Consecutive months starting at `first` (only for 2025-01..2025-12)."""
    year, mon = first.split("-")
    start = int(mon)
    return [Observation(f"{year}-{start + k:02d}", n, den) for k, n in enumerate(numerators)]


# --------------------------------------------------------------------------
# Month arithmetic and constants
# --------------------------------------------------------------------------


def test_month_index_values():
    assert month_index("0000-01") == 0
    assert month_index("2025-01") == 24300  # 2025 * 12 + 0
    assert month_index("2025-12") == 24311  # 2025 * 12 + 11
    assert month_index("2025-03") - month_index("2024-12") == 3


def test_add_months_crosses_years():
    assert add_months("2024-11", 3) == "2025-02"
    assert add_months("2025-01", -1) == "2024-12"
    assert add_months("2025-01", -13) == "2023-12"
    assert add_months("2025-06", 0) == "2025-06"
    assert add_months("2025-06", 18) == "2026-12"


@pytest.mark.parametrize("bad", ["2025-13", "2025-00", "2025-1", "25-01", "2025/01", "2025-01-15", ""])
def test_month_index_rejects_malformed(bad):
    with pytest.raises(ValueError):
        month_index(bad)


def test_constants():
    assert AT_RISK_MARGIN_POINTS == 5.0
    assert PACE_WINDOW_MONTHS == 6
    assert STATUSES == ("achieved", "on_track", "at_risk", "off_track", "overdue", "no_data", "no_target")
    assert STATUS_ORDER == ("overdue", "off_track", "at_risk", "no_data", "on_track", "achieved", "no_target")
    assert set(FLAGS) == {"zero_denominator", "over_100", "negative_value", "single_point", "deadline_passed"}


def test_status_sort_worst_first():
    mixed = ["achieved", "no_target", "on_track", "no_data", "off_track", "at_risk", "overdue"]
    assert sorted(mixed, key=status_sort_key) == [
        "overdue", "off_track", "at_risk", "no_data", "on_track", "achieved", "no_target",
    ]


# --------------------------------------------------------------------------
# Rising series: on_track / at_risk / off_track and the margin boundary
# --------------------------------------------------------------------------


def test_steady_rise_on_track_all_numbers():
    # 60, 62, 64, 66, 68, 70 % over 2025-01..06 -> slope exactly 2 points/month.
    series = monthly("2025-01", [600, 620, 640, 660, 680, 700])
    p = evaluate(series, Target(80, "2025-12", "QĐ 123"), "2025-06")
    assert p.status == "on_track"
    assert p.value == pytest.approx(70.0)
    assert p.value_month == "2025-06"
    assert p.target == 80.0
    assert p.deadline == "2025-12"
    assert p.gap_points == pytest.approx(10.0)  # 80 - 70
    assert p.gap_units == pytest.approx(100.0)  # 80/100*1000 - 700
    assert p.months_left == 6  # 2025-06 -> 2025-12
    assert p.needed_pace == pytest.approx(10 / 6)  # 1.666.. points/month
    assert p.needed_pace_units == pytest.approx(100 / 6)  # 16.66.. units/month
    assert p.actual_pace == pytest.approx(2.0)
    assert p.actual_pace_units == pytest.approx(20.0)  # 2 * 1000 / 100
    assert p.projected_value == pytest.approx(82.0)  # 70 + 2 * 6
    assert p.projected_month == "2025-11"  # ceil(10 / 2) = 5 months after 2025-06
    assert p.flags == ()


def test_projection_exactly_at_target_is_on_track():
    # 60..65 % (slope 1), 6 months left: 65 + 6 = 71 == target 71.
    series = monthly("2025-01", [600, 610, 620, 630, 640, 650])
    p = evaluate(series, Target(71, "2025-12"), "2025-06")
    assert p.projected_value == pytest.approx(71.0)
    assert p.status == "on_track"
    assert p.projected_month == "2025-12"  # ceil(6 / 1) = 6 months after 2025-06


def test_slow_rise_at_risk():
    # 60..65 % (slope 1): projection 65 + 1 * 6 = 71, target 73 -> short by 2 < 5.
    series = monthly("2025-01", [600, 610, 620, 630, 640, 650])
    p = evaluate(series, Target(73, "2025-12"), "2025-06")
    assert p.status == "at_risk"
    assert p.actual_pace == pytest.approx(1.0)
    assert p.projected_value == pytest.approx(71.0)
    assert p.gap_points == pytest.approx(8.0)  # 73 - 65
    assert p.needed_pace == pytest.approx(8 / 6)
    assert p.projected_month == "2026-02"  # ceil(8 / 1) = 8 months after 2025-06


def test_margin_boundary_just_inside_is_at_risk():
    # Projection 71, target 75.9 -> short by 4.9 < 5 -> at_risk.
    series = monthly("2025-01", [600, 610, 620, 630, 640, 650])
    assert evaluate(series, Target(75.9, "2025-12"), "2025-06").status == "at_risk"


def test_margin_boundary_exactly_margin_is_off_track():
    # Projection 71, target 76 -> short by exactly 5 -> not "less than 5" -> off_track.
    series = monthly("2025-01", [600, 610, 620, 630, 640, 650])
    assert evaluate(series, Target(76, "2025-12"), "2025-06").status == "off_track"


def test_slow_rise_off_track():
    # Projection 71, target 90 -> short by 19 -> off_track; reaches 90 after ceil(25/1)=25 months.
    series = monthly("2025-01", [600, 610, 620, 630, 640, 650])
    p = evaluate(series, Target(90, "2025-12"), "2025-06")
    assert p.status == "off_track"
    assert p.projected_month == "2027-07"  # 2025-06 + 25 months


def test_projected_month_rounds_up():
    # 55, 56.5, 58, 59.5, 61 % over 2025-01..05: slope 1.5. Target 71: gap 10,
    # 10 / 1.5 = 6.67 -> 7 months after 2025-05 = 2025-12. Projection at the
    # deadline 2025-12: 61 + 1.5 * 7 = 71.5 >= 71 -> on_track.
    series = monthly("2025-01", [550, 565, 580, 595, 610])
    p = evaluate(series, Target(71, "2025-12"), "2025-05")
    assert p.actual_pace == pytest.approx(1.5)
    assert p.projected_month == "2025-12"
    assert p.projected_value == pytest.approx(71.5)
    assert p.status == "on_track"


# --------------------------------------------------------------------------
# Achieved, flat, falling
# --------------------------------------------------------------------------


def test_target_already_met():
    # 94, 96 %: value 96 >= target 95. Gap -1 point = 95*10 - 960 = -10 units.
    series = [obs("2025-05", 940), obs("2025-06", 960)]
    p = evaluate(series, Target(95, "2025-12"), "2025-06")
    assert p.status == "achieved"
    assert p.gap_points == pytest.approx(-1.0)
    assert p.gap_units == pytest.approx(-10.0)
    assert p.needed_pace == 0.0
    assert p.needed_pace_units == 0.0
    assert p.projected_month == "2025-06"  # already there
    assert p.projected_value == pytest.approx(108.0)  # raw: 96 + 2 * 6, not capped
    assert "over_100" not in p.flags  # a projection above 100 is not bad data


def test_target_met_exactly_is_achieved():
    # 950 / 1000 = 95 % == target 95.
    p = evaluate([obs("2025-06", 950)], Target(95, "2025-12"), "2025-06")
    assert p.status == "achieved"
    assert p.gap_points == pytest.approx(0.0)


def test_flat_series_off_track_never_reaches():
    # 70, 70, 70 %: slope 0; projection 70, target 80 -> short 10 -> off_track.
    series = monthly("2025-01", [700, 700, 700])
    p = evaluate(series, Target(80, "2025-12"), "2025-03")
    assert p.status == "off_track"
    assert p.actual_pace == pytest.approx(0.0)
    assert p.projected_value == pytest.approx(70.0)
    assert p.projected_month is None
    assert p.months_left == 9  # 2025-03 -> 2025-12
    assert p.needed_pace == pytest.approx(10 / 9)


def test_flat_series_close_to_target_at_risk_but_never_reaches():
    # 78, 78, 78 %: projection 78, target 80 -> short 2 -> at_risk; flat -> no month.
    series = monthly("2025-01", [780, 780, 780])
    p = evaluate(series, Target(80, "2025-12"), "2025-03")
    assert p.status == "at_risk"
    assert p.projected_month is None


def test_falling_series():
    # 80, 79, 78, 77 %: slope -1; 8 months left: 77 - 8 = 69 vs 85 -> off_track.
    series = monthly("2025-01", [800, 790, 780, 770])
    p = evaluate(series, Target(85, "2025-12"), "2025-04")
    assert p.status == "off_track"
    assert p.actual_pace == pytest.approx(-1.0)
    assert p.actual_pace_units == pytest.approx(-10.0)
    assert p.projected_value == pytest.approx(69.0)
    assert p.projected_month is None
    assert p.needed_pace == pytest.approx(1.0)  # (85 - 77) / 8


# --------------------------------------------------------------------------
# Single point and the pace window
# --------------------------------------------------------------------------


def test_single_point_within_margin_at_risk():
    # 92 %, target 95 -> gap 3 < 5 -> at_risk.
    p = evaluate([obs("2025-06", 920)], Target(95, "2025-12"), "2025-06")
    assert p.status == "at_risk"
    assert p.flags == ("single_point",)
    assert p.actual_pace is None
    assert p.actual_pace_units is None
    assert p.projected_value is None
    assert p.projected_month is None
    assert p.needed_pace == pytest.approx(0.5)  # (95 - 92) / 6
    assert p.needed_pace_units == pytest.approx(5.0)  # (950 - 920) / 6


def test_single_point_gap_exactly_margin_off_track():
    # 90 %, target 95 -> gap exactly 5 -> off_track.
    p = evaluate([obs("2025-06", 900)], Target(95, "2025-12"), "2025-06")
    assert p.status == "off_track"
    assert "single_point" in p.flags


def test_single_point_far_off_track():
    # 60 %, target 95 -> gap 35 -> off_track.
    assert evaluate([obs("2025-06", 600)], Target(95, "2025-12"), "2025-06").status == "off_track"


def test_point_six_months_back_is_outside_window():
    # Window ending 2025-06 is 2025-01..2025-06; 2024-12 is outside -> single point.
    series = [obs("2024-12", 100), obs("2025-06", 920)]
    p = evaluate(series, Target(95, "2025-12"), "2025-06")
    assert p.actual_pace is None
    assert "single_point" in p.flags
    assert p.status == "at_risk"  # 95 - 92 = 3 < 5


def test_point_five_months_back_is_inside_window():
    # 2025-01 at 82 %, 2025-06 at 92 %: slope (92 - 82) / 5 = 2.
    # Projection 92 + 2 * 6 = 104 >= 95 -> on_track.
    series = [obs("2025-01", 820), obs("2025-06", 920)]
    p = evaluate(series, Target(95, "2025-12"), "2025-06")
    assert p.actual_pace == pytest.approx(2.0)
    assert p.status == "on_track"
    assert "single_point" not in p.flags


def test_missing_month_uses_real_month_distances():
    # Exact line y = 50 + 3x at months x = 0,1,2,4,5 (2025-01..06, April
    # missing): 50, 53, 56, 62, 65. True slope 3. Had the points been treated
    # as consecutive (x = 0..4): mean x 2, mean y 57.2,
    # sxy = 14.4 + 4.2 + 0 + 4.8 + 15.6 = 39, sxx = 10 -> 3.9 (wrong).
    series = [obs("2025-01", 500), obs("2025-02", 530), obs("2025-03", 560),
              obs("2025-05", 620), obs("2025-06", 650)]
    p = evaluate(series, Target(90, "2025-12"), "2025-06")
    assert p.actual_pace == pytest.approx(3.0)
    assert p.actual_pace_units == pytest.approx(30.0)
    assert p.projected_value == pytest.approx(83.0)  # 65 + 3 * 6
    assert p.status == "off_track"  # 90 - 83 = 7 >= 5


@pytest.mark.parametrize("april", [Observation("2025-04", None, 1000),
                                   Observation("2025-04", 590, None),
                                   Observation("2025-04", 0, 0),
                                   Observation("2025-04", float("nan"), 1000)])
def test_unusable_month_in_window_is_skipped(april):
    # Same exact line as above with April present but unusable -> still slope 3.
    series = [obs("2025-01", 500), obs("2025-02", 530), obs("2025-03", 560), april,
              obs("2025-05", 620), obs("2025-06", 650)]
    p = evaluate(series, Target(90, "2025-12"), "2025-06")
    assert p.actual_pace == pytest.approx(3.0)
    assert "zero_denominator" not in p.flags  # only flagged for the latest month


def test_slope_is_least_squares_not_endpoints():
    # 2025-01..04: 10, 14, 12, 16 %. mean x 1.5, mean y 13;
    # sxy = (-1.5)(-3) + (-0.5)(1) + (0.5)(-1) + (1.5)(3) = 4.5 - 0.5 - 0.5 + 4.5 = 8;
    # sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5 -> slope 1.6 (endpoints would give 2).
    series = monthly("2025-01", [100, 140, 120, 160])
    p = evaluate(series, None, "2025-04")
    assert p.actual_pace == pytest.approx(1.6)


def test_window_ends_at_value_month_not_as_of():
    # Data stops at 2025-03 (60, 62, 64 %), as_of 2025-06: slope 2 over 2025-01..03,
    # months_left counted from 2025-03: 9; projection 64 + 2 * 9 = 82 >= 80.
    series = monthly("2025-01", [600, 620, 640])
    p = evaluate(series, Target(80, "2025-12"), "2025-06")
    assert p.value_month == "2025-03"
    assert p.months_left == 9
    assert p.actual_pace == pytest.approx(2.0)
    assert p.projected_value == pytest.approx(82.0)
    assert p.status == "on_track"


def test_observations_after_as_of_are_ignored():
    # 2025-07 (99 %) is after as_of 2025-06 and must not be used.
    series = monthly("2025-01", [600, 620, 640, 660, 680, 700, 990])
    p = evaluate(series, Target(80, "2025-12"), "2025-06")
    assert p.value == pytest.approx(70.0)
    assert p.value_month == "2025-06"
    assert p.actual_pace == pytest.approx(2.0)


def test_as_of_may_be_a_date():
    # '2025-06-15' is month 2025-06: same as the steady-rise case (value 70).
    series = monthly("2025-01", [600, 620, 640, 660, 680, 700, 990])
    p = evaluate(series, Target(80, "2025-12"), "2025-06-15")
    assert p.value_month == "2025-06"
    assert p.status == "on_track"


def test_input_order_does_not_matter():
    # Shuffled 60, 62, 64 % -> value 64 (2025-03), slope 2.
    series = [obs("2025-03", 640), obs("2025-01", 600), obs("2025-02", 620)]
    p = evaluate(series, Target(80, "2025-12"), "2025-03")
    assert p.value == pytest.approx(64.0)
    assert p.actual_pace == pytest.approx(2.0)


def test_duplicate_month_rejected():
    with pytest.raises(ValueError):
        evaluate([obs("2025-01", 600), obs("2025-01", 610)], None, "2025-01")


# --------------------------------------------------------------------------
# Bad data: zero denominator, above 100 %
# --------------------------------------------------------------------------


def test_latest_denominator_zero_falls_back_and_flags():
    # 2025-06 has denominator 0 -> value from 2025-05 (68 %), flagged.
    # Window 2024-12..2025-05 holds 60, 62, 64, 66, 68 -> slope 2.
    # months_left 2025-05 -> 2025-12 = 7; projection 68 + 14 = 82 >= 80.
    series = monthly("2025-01", [600, 620, 640, 660, 680]) + [Observation("2025-06", 0, 0)]
    p = evaluate(series, Target(80, "2025-12"), "2025-06")
    assert p.value == pytest.approx(68.0)
    assert p.value_month == "2025-05"
    assert p.flags == ("zero_denominator",)
    assert p.months_left == 7
    assert p.actual_pace == pytest.approx(2.0)
    assert p.gap_units == pytest.approx(120.0)  # 800 - 680, at 2025-05's denominator
    assert p.status == "on_track"


def test_only_zero_denominator_is_no_data():
    p = evaluate([Observation("2025-06", 5, 0)], Target(80, "2025-12"), "2025-06")
    assert p.status == "no_data"
    assert p.value is None
    assert p.flags == ("zero_denominator",)


def test_value_over_100_is_kept_and_flagged():
    # 1050 / 1000 = 105 %: not clipped; target 95 met, gap 95 - 105 = -10.
    p = evaluate([obs("2025-06", 1050)], Target(95, "2025-12"), "2025-06")
    assert p.value == pytest.approx(105.0)
    assert p.status == "achieved"
    assert p.gap_points == pytest.approx(-10.0)
    assert p.gap_units == pytest.approx(-100.0)  # 950 - 1050
    assert "over_100" in p.flags


def test_over_100_in_pace_window_is_flagged():
    # 2025-05 at 120 % (bad), 2025-06 at 90 %: the bad point moves the pace,
    # so it is flagged even though the current value is fine.
    # slope (90 - 120) / 1 = -30, kept raw.
    series = [obs("2025-05", 1200), obs("2025-06", 900)]
    p = evaluate(series, Target(95, "2025-12"), "2025-06")
    assert p.value == pytest.approx(90.0)
    assert p.actual_pace == pytest.approx(-30.0)
    assert "over_100" in p.flags


# --------------------------------------------------------------------------
# Deadline passed
# --------------------------------------------------------------------------


def test_deadline_passed_met_at_deadline():
    # Target 90 by 2024-12: 2024-12 was 91 % (met). Now (2025-02) 89 %: still achieved.
    series = [obs("2024-11", 880), obs("2024-12", 910), obs("2025-01", 890), obs("2025-02", 890)]
    p = evaluate(series, Target(90, "2024-12"), "2025-03")
    assert p.status == "achieved"
    assert "deadline_passed" in p.flags
    assert p.months_left == 0
    assert p.value == pytest.approx(89.0)
    assert p.gap_points == pytest.approx(1.0)  # 90 - 89
    assert p.needed_pace is None  # short now and no months left
    assert p.projected_value is None


def test_deadline_passed_value_at_deadline_is_latest_before_it():
    # No report for 2024-12; the value at the deadline is 2024-11's 92 % (met).
    series = [obs("2024-10", 800), obs("2024-11", 920), obs("2025-01", 850)]
    p = evaluate(series, Target(90, "2024-12"), "2025-02")
    assert p.status == "achieved"


def test_deadline_passed_missed_then_met_now():
    # 2024-12 at 85 % (missed 90), 2025-02 at 92 % (met now) -> achieved.
    series = [obs("2024-12", 850), obs("2025-02", 920)]
    p = evaluate(series, Target(90, "2024-12"), "2025-03")
    assert p.status == "achieved"
    assert p.flags == ("deadline_passed",)
    assert p.needed_pace == 0.0
    assert p.gap_points == pytest.approx(-2.0)  # 90 - 92


def test_deadline_passed_missed_and_still_missed():
    # 2024-12 at 85 %, 2025-02 at 87 %, target 90 -> overdue ("Quá hạn – chưa đạt"). Even
    # though 87 is within the 5-point margin, a passed deadline never gives at_risk.
    # Pace (87 - 85) / 2 = 1; 90 reached after ceil(3 / 1) = 3 months: 2025-05.
    series = [obs("2024-12", 850), obs("2025-02", 870)]
    p = evaluate(series, Target(90, "2024-12"), "2025-03")
    assert p.status == "overdue"
    assert p.flags == ("deadline_passed",)
    assert p.months_left == 0
    assert p.needed_pace is None
    assert p.needed_pace_units is None
    assert p.actual_pace == pytest.approx(1.0)
    assert p.projected_value is None
    assert p.projected_month == "2025-05"


def test_deadline_this_month_is_not_passed():
    # Deadline 2025-06 == as_of month: not passed, 0 months left.
    # 88, 90 %: slope 2; projection 90 + 2 * 0 = 90 vs 93 -> short 3 -> at_risk.
    series = [obs("2025-05", 880), obs("2025-06", 900)]
    p = evaluate(series, Target(93, "2025-06"), "2025-06")
    assert "deadline_passed" not in p.flags
    assert p.months_left == 0
    assert p.needed_pace is None
    assert p.projected_value == pytest.approx(90.0)
    assert p.status == "at_risk"


# --------------------------------------------------------------------------
# Lower is better (target is a ceiling)
# --------------------------------------------------------------------------


def test_lower_is_better_on_track():
    # Late dossiers: 20, 18, 16, 14, 12, 10 % (slope -2), ceiling 5 % by 2025-12.
    # gap = 10 - 5 = 5 points = 100 - 50 = 50 units; projection 10 - 12 = -2 <= 5.
    series = monthly("2025-01", [200, 180, 160, 140, 120, 100])
    p = evaluate(series, Target(5, "2025-12"), "2025-06", higher_is_better=False)
    assert p.status == "on_track"
    assert p.gap_points == pytest.approx(5.0)
    assert p.gap_units == pytest.approx(50.0)
    assert p.actual_pace == pytest.approx(-2.0)  # raw slope: the value falls
    assert p.actual_pace_units == pytest.approx(-20.0)
    assert p.needed_pace == pytest.approx(-5 / 6)  # (5 - 10) / 6: must fall 0.83/month
    assert p.needed_pace_units == pytest.approx(-50 / 6)  # (50 - 100) / 6
    assert p.projected_value == pytest.approx(-2.0)  # raw, not clipped at 0
    assert p.projected_month == "2025-09"  # ceil(5 / 2) = 3 months after 2025-06


def test_lower_is_better_at_risk_and_off_track():
    # 20, 19, ..., 15 % (slope -1): projection 15 - 6 = 9.
    series = monthly("2025-01", [200, 190, 180, 170, 160, 150])
    # ceiling 7: 9 - 7 = 2 above -> at_risk
    assert evaluate(series, Target(7, "2025-12"), "2025-06", higher_is_better=False).status == "at_risk"
    # ceiling 4: 9 - 4 = 5 above -> off_track (boundary)
    assert evaluate(series, Target(4, "2025-12"), "2025-06", higher_is_better=False).status == "off_track"
    # ceiling 9: projection exactly at ceiling -> on_track
    assert evaluate(series, Target(9, "2025-12"), "2025-06", higher_is_better=False).status == "on_track"


def test_lower_is_better_achieved_and_mirror_of_higher():
    # 4 % under a 5 % ceiling -> achieved, gap 4 - 5 = -1.
    series = [obs("2025-05", 45), obs("2025-06", 40)]
    low = evaluate(series, Target(5, "2025-12"), "2025-06", higher_is_better=False)
    assert low.status == "achieved"
    assert low.gap_points == pytest.approx(-1.0)
    # Same numbers read as higher-is-better: 4 % vs floor 5 %, falling 0.5/month
    # -> projection 4 - 3 = 1, short by 4 -> at_risk; gap 5 - 4 = +1.
    high = evaluate(series, Target(5, "2025-12"), "2025-06", higher_is_better=True)
    assert high.status == "at_risk"
    assert high.gap_points == pytest.approx(1.0)
    assert high.projected_month is None  # falling never reaches a floor above it


def test_lower_is_better_rising_never_reaches():
    # 10, 11, 12 % rising with ceiling 5 -> projection 12 + 9 = 21 -> off_track, no month.
    series = monthly("2025-01", [100, 110, 120])
    p = evaluate(series, Target(5, "2025-12"), "2025-03", higher_is_better=False)
    assert p.status == "off_track"
    assert p.projected_month is None
    assert p.gap_points == pytest.approx(7.0)  # 12 - 5


def test_lower_is_better_single_point():
    # 8 % vs ceiling 5 -> 3 above < 5 -> at_risk; 11 % -> 6 above -> off_track.
    p = evaluate([obs("2025-06", 80)], Target(5, "2025-12"), "2025-06", higher_is_better=False)
    assert p.status == "at_risk"
    assert p.flags == ("single_point",)
    p = evaluate([obs("2025-06", 110)], Target(5, "2025-12"), "2025-06", higher_is_better=False)
    assert p.status == "off_track"


def test_lower_is_better_deadline_passed():
    # Ceiling 5 by 2024-12: 2024-12 at 4 % (met), now 6 % -> achieved (judged at deadline).
    series = [obs("2024-12", 40), obs("2025-02", 60)]
    p = evaluate(series, Target(5, "2024-12"), "2025-03", higher_is_better=False)
    assert p.status == "achieved"
    # 2024-12 at 7 %, now 6 % -> missed and still above -> overdue.
    series = [obs("2024-12", 70), obs("2025-02", 60)]
    p = evaluate(series, Target(5, "2024-12"), "2025-03", higher_is_better=False)
    assert p.status == "overdue"
    # 2024-12 at 7 %, now 3 % -> met now -> achieved.
    series = [obs("2024-12", 70), obs("2025-02", 30)]
    p = evaluate(series, Target(5, "2024-12"), "2025-03", higher_is_better=False)
    assert p.status == "achieved"


# --------------------------------------------------------------------------
# No data, no target
# --------------------------------------------------------------------------


def test_no_observations_is_no_data():
    p = evaluate([], Target(95, "2025-12"), "2025-06")
    assert p.status == "no_data"
    assert p.target == 95.0
    assert p.deadline == "2025-12"
    assert p.value is None and p.value_month is None
    assert p.gap_points is None and p.gap_units is None
    assert p.months_left is None and p.needed_pace is None
    assert p.actual_pace is None and p.projected_value is None
    assert p.projected_month is None
    assert p.flags == ()


def test_no_data_wins_over_no_target():
    assert evaluate([], None, "2025-06").status == "no_data"


def test_only_future_or_empty_observations_is_no_data():
    series = [Observation("2025-05", None, None), obs("2025-07", 900)]
    assert evaluate(series, Target(95, "2025-12"), "2025-06").status == "no_data"


def test_no_target_still_computes_value_and_pace():
    # 60, 62, 64 %: value 64, slope 2; nothing relative to a target.
    series = monthly("2025-01", [600, 620, 640])
    p = evaluate(series, None, "2025-03")
    assert p.status == "no_target"
    assert p.value == pytest.approx(64.0)
    assert p.value_month == "2025-03"
    assert p.actual_pace == pytest.approx(2.0)
    assert p.actual_pace_units == pytest.approx(20.0)
    assert p.target is None and p.deadline is None
    assert p.gap_points is None and p.gap_units is None
    assert p.months_left is None and p.needed_pace is None
    assert p.projected_value is None and p.projected_month is None


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


def test_gap_units_population():
    # 800,000 of 1,000,000 people have an EHR = 80 %, target 95 % by 2025-12,
    # value at 2025-02 -> 10 months left.
    # gap_units = 95/100 * 1,000,000 - 800,000 = 150,000 people
    # needed = 15 points / 10 = 1.5 points/month = 150,000 / 10 = 15,000 people/month
    series = [Observation("2025-02", 800_000, 1_000_000)]
    p = evaluate(series, Target(95, "2025-12"), "2025-02")
    assert p.value == pytest.approx(80.0)
    assert p.gap_points == pytest.approx(15.0)
    assert p.gap_units == pytest.approx(150_000.0)
    assert p.months_left == 10
    assert p.needed_pace == pytest.approx(1.5)
    assert p.needed_pace_units == pytest.approx(15_000.0)


def test_units_use_latest_denominator():
    # Growing population: 2025-01 700/1000 = 70 %, 2025-02 880/1100 = 80 %.
    # slope 10 points/month; converted at the latest denominator 1100:
    # 10 * 1100 / 100 = 110 people/month (not the numerator slope 180).
    # gap_units = 90 * 1100 / 100 - 880 = 990 - 880 = 110.
    series = [Observation("2025-01", 700, 1000), Observation("2025-02", 880, 1100)]
    p = evaluate(series, Target(90, "2025-12"), "2025-02")
    assert p.actual_pace == pytest.approx(10.0)
    assert p.actual_pace_units == pytest.approx(110.0)
    assert p.gap_units == pytest.approx(110.0)


def test_decimal_and_numpy_inputs():
    np = pytest.importorskip("numpy")
    # Decimal (SQL NUMERIC) and numpy ints: 8 / 10 = 80 %, 9 / 10 = 90 %.
    series = [Observation("2025-01", Decimal("8"), Decimal("10")),
              Observation("2025-02", np.int64(9), np.int64(10))]
    p = evaluate(series, Target(95, "2025-12"), "2025-02")
    assert p.value == pytest.approx(90.0)
    assert p.actual_pace == pytest.approx(10.0)
    assert p.gap_units == pytest.approx(0.5)  # 95 * 10 / 100 - 9
