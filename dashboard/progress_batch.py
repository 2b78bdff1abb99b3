"""dashboard.progress's rules for many figures at once, in numpy: what the stored aggregates are
computed with at load time (a national load evaluates millions of figures; one call of
``progress.evaluate`` each would take an hour).

The rules are the scalar ones, line for line (see ``dashboard/progress.py``'s docstring): the
tests compare this with ``progress.evaluate`` on every figure of the demo and of hand-made cases.
Sums run left to right over the months, as the scalar code does, so the two agree to the last bit.

Each row is one figure: the monthly numerators and denominators of the window of months that
ends at the figure's month (NaN where nothing was reported), the first month's index, and the
target (NaN without one) with its deadline's month index.
"""
from __future__ import annotations

import numpy as np

from .progress import AT_RISK_MARGIN_POINTS, EPSILON_POINTS, FLAGS, PACE_WINDOW_MONTHS, _LAST_MONTH_INDEX

STATUS_CODES = ("no_data", "no_target", "achieved", "overdue", "on_track", "at_risk", "off_track")


def _last_true(mask: np.ndarray) -> np.ndarray:
    """Index of the last True of each row, -1 where there is none."""
    width = mask.shape[1]
    last = width - 1 - np.argmax(mask[:, ::-1], axis=1)
    return np.where(mask.any(axis=1), last, -1)


def _seq_sum(values: np.ndarray) -> np.ndarray:
    """Row sums added left to right (numpy's own sum groups terms differently)."""
    total = np.zeros(values.shape[0])
    for k in range(values.shape[1]):
        total = total + values[:, k]
    return total


def evaluate_batch(num: np.ndarray, den: np.ndarray, month0: np.ndarray, target: np.ndarray,
                   deadline: np.ndarray, higher_is_better: bool) -> dict[str, np.ndarray]:
    """Status, paces, projection and flags of R figures.

    num, den: R×W floats (NaN = no observation); column W-1 is the figure's own month.
    month0: R ints, the month index (``periods.month_index``) of column 0.
    target: R floats (NaN = no target); deadline: R ints (month index; ignored without a target).
    Returns arrays: status (str), actual_pace, needed_pace, projected_value, projected_month (month
    index or -1), flags (comma-joined, in FLAGS order)."""
    rows, width = num.shape
    ks = np.arange(width)[None, :]
    x = (month0[:, None] + ks).astype(np.float64)
    as_of_i = month0 + width - 1
    present = ~np.isnan(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        usable = present & ~np.isnan(den) & (den > 0)
        v = np.where(usable, 100.0 * num / np.where(usable, den, 1.0), np.nan)
    r = np.arange(rows)

    last_obs = _last_true(present)
    zero_den = (last_obs >= 0) & (den[r, np.maximum(last_obs, 0)] == 0)

    k_cur = _last_true(usable)
    has_value = k_cur >= 0
    kc = np.maximum(k_cur, 0)
    value = np.where(has_value, v[r, kc], np.nan)
    cur_i = month0 + kc

    window = usable & (ks > (k_cur - PACE_WINDOW_MONTHS)[:, None]) & (ks <= k_cur[:, None])
    n = window.sum(axis=1)
    safe_n = np.maximum(n, 1)
    mean_x = _seq_sum(np.where(window, x, 0.0)) / safe_n
    mean_y = _seq_sum(np.where(window, v, 0.0)) / safe_n
    dx = np.where(window, x - mean_x[:, None], 0.0)
    dy = np.where(window, v - mean_y[:, None], 0.0)
    sxx = _seq_sum(dx * dx)
    sxy = _seq_sum(dx * dy)
    has_pace = (n >= 2) & (sxx != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = np.where(has_pace, sxy / np.where(has_pace, sxx, 1.0), np.nan)

    has_target = ~np.isnan(target)
    deadline_i = np.where(has_target, deadline, 0)
    passed = has_target & (deadline_i < as_of_i)
    k_dead = _last_true(usable & (x <= deadline_i[:, None]))
    dead_value = np.where(passed & (k_dead >= 0), v[r, np.maximum(k_dead, 0)], np.nan)

    window_over = (window & (v > 100.0)).any(axis=1)
    window_under = (window & (v < 0.0)).any(axis=1)
    over_100 = has_value & ((value > 100.0) | window_over | (dead_value > 100.0))
    negative = has_value & ((value < 0.0) | window_under | (dead_value < 0.0))
    single_point = has_value & ~has_pace

    sign = 1.0 if higher_is_better else -1.0
    gap = sign * (target - value)
    met_now = gap <= EPSILON_POINTS
    months_left = np.where(passed, 0, np.maximum(0, deadline_i - cur_i))
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(met_now, 0.0, np.where(months_left > 0, (target - value) / np.maximum(months_left, 1),
                                                 np.nan))
    projected = np.where(has_pace & ~passed, value + pace * months_left, np.nan)

    improving = has_pace & (sign * pace > EPSILON_POINTS)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        months_needed = np.ceil(gap / np.where(improving, sign * pace, 1.0) - 1e-9)
    reach = cur_i + np.where(improving, np.nan_to_num(months_needed, nan=0.0, posinf=0.0, neginf=0.0), 0)
    projected_month = np.where(met_now, cur_i,
                               np.where(improving & (cur_i + months_needed <= _LAST_MONTH_INDEX), reach, -1))

    met_deadline = passed & ~np.isnan(dead_value) & (sign * (target - dead_value) <= EPSILON_POINTS)
    shortfall = sign * (target - projected)
    status = np.full(rows, "off_track", dtype=object)
    judged = np.where(~np.isnan(projected),
                      np.where(shortfall <= EPSILON_POINTS, "on_track",
                               np.where(shortfall < AT_RISK_MARGIN_POINTS - EPSILON_POINTS, "at_risk", "off_track")),
                      np.where(gap < AT_RISK_MARGIN_POINTS - EPSILON_POINTS, "at_risk", "off_track"))
    status[:] = judged
    status[met_now & ~passed] = "achieved"
    status[passed] = np.where(met_deadline | met_now, "achieved", "overdue")[passed]
    status[has_value & ~has_target] = "no_target"
    status[~has_value] = "no_data"

    no_value_or_target = ~has_value | ~has_target
    flag_sets = {"zero_denominator": zero_den, "over_100": over_100, "negative_value": negative,
                 "single_point": single_point, "deadline_passed": passed}
    flags = np.full(rows, "", dtype=object)
    for name in FLAGS:
        mark = flag_sets[name]
        flags = np.where(mark, np.where(flags == "", name, flags + "," + name), flags)

    return {
        "status": status,
        "actual_pace": np.where(has_value, pace, np.nan),
        "needed_pace": np.where(no_value_or_target, np.nan, needed),
        "projected_value": np.where(no_value_or_target, np.nan, projected),
        "projected_month": np.where(no_value_or_target, -1, projected_month).astype(np.int64),
        "flags": flags,
    }
