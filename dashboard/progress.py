"""Progress of a KPI against its plan target (pure functions, no I/O).

An indicator is a ratio ``numerator / denominator`` shown in percent::

    value = 100 * numerator / denominator

observed once a month per entity (province, district, hospital...). Months are
strings ``'YYYY-MM'``. A :class:`Target` gives the percent to reach and the
month by which to reach it. :func:`evaluate` turns a monthly series and a
target into a :class:`Progress`: current value, gap, pace needed, pace actually
achieved, a linear projection and a status.

Rules (these are the reference; the README points here)
-------------------------------------------------------

Observations
    * Only observations with ``month <= as_of`` count. ``as_of`` may be
      ``'YYYY-MM'`` or ``'YYYY-MM-DD'`` (the day is ignored).
    * An observation is *usable* when numerator and denominator are both
      finite numbers and ``denominator > 0``. Others have no value: they are
      skipped everywhere (current value, pace, value at the deadline).
    * The current value is the value of the latest usable observation;
      ``value_month`` is its month (it may be earlier than ``as_of``).
    * A value above 100 % (numerator > denominator) is kept as it is, never
      clipped, and flagged ``'over_100'``.
    * Two observations for the same month are a caller error (``ValueError``).

Direction
    With ``higher_is_better=False`` the target is a ceiling and every
    comparison mirrors: "meets the target" means ``value <= target``, the gap
    is ``value - target``, a projection "reaches" the target when it falls to
    it, and an improving pace is a falling one.

Statuses (see :data:`STATUSES`)
    1. ``no_data``: no usable observation ``<= as_of``. Wins over
       ``no_target``.
    2. ``no_target``: ``target is None``. Value and actual pace are still
       computed; everything relative to a target is ``None``.
    3. Deadline passed (``deadline < as_of``'s month, flag
       ``'deadline_passed'``): ``achieved`` if the value at the deadline
       (latest usable observation at or before the deadline) met the target,
       or if the current value meets it now; otherwise ``overdue`` ("Quá hạn –
       chưa đạt": the deadline is gone, so it is no longer a matter of pace).
    4. Otherwise ``achieved`` if the current value meets the target.
    5. Otherwise, with an actual pace, project linearly to the deadline
       (``projected_value = value + actual_pace * months_left``) and let
       ``shortfall`` be how far the projection stays short of the target
       (``target - projected`` or mirrored): ``on_track`` if
       ``shortfall <= 0``; ``at_risk`` if
       ``shortfall < AT_RISK_MARGIN_POINTS`` (5); else ``off_track`` (short
       by exactly the margin is ``off_track``).
    6. Without an actual pace (fewer than two usable observations in the pace
       window, flag ``'single_point'``): ``at_risk`` if the current gap is
       less than :data:`AT_RISK_MARGIN_POINTS`, else ``off_track``.

    Comparisons between percents use a tolerance of :data:`EPSILON_POINTS`
    so that floating-point noise (94.99999999999 vs 95) does not flip a
    status.

Numbers
    * ``gap_points = target - value`` (``value - target`` when lower is
      better): > 0 means still short, <= 0 means met or exceeded.
    * ``gap_units = target/100 * D - N`` (``N - target/100 * D`` when lower is
      better), with N and D the numerator and denominator of the current
      value's observation: the shortfall in real units (people, hospitals,
      đồng, dossiers). It equals ``gap_points * D / 100``.
    * ``months_left = month_index(deadline) - month_index(value_month)``;
      0 once the deadline has passed.
    * ``actual_pace``: least-squares slope, in percentage points per month,
      of the usable values in the :data:`PACE_WINDOW_MONTHS`-month window
      ending at ``value_month`` (``value_month - 5 .. value_month``), against
      the real month index, so a missing month does not distort it. ``None``
      with fewer than two usable points.
    * Paces are *signed changes of the indicator* (positive = the value
      rises), in both directions, so ``actual_pace`` and ``needed_pace`` can
      be compared directly: for a lower-is-better indicator both are negative
      when it must, and does, fall.
    * ``needed_pace = (target - value) / months_left``: the monthly change
      that brings the value exactly to the target at the deadline. ``0.0``
      when the target is already met; ``None`` when it is not met and
      ``months_left == 0`` (no time left).
    * ``*_pace_units = *_pace * D / 100``: converted at the current value's
      denominator (the same one as ``gap_units``), so actual and needed unit
      paces are comparable. ``actual_pace_units`` is therefore *not* the
      slope of the raw numerators (which would also include growth of the
      denominator).
    * ``projected_value = value + actual_pace * months_left``, raw (may be
      above 100 or below 0: clip for display only). ``None`` without a pace
      or once the deadline has passed.
    * ``projected_month``: first month at which the line from the current
      value at ``actual_pace`` meets the target, i.e. ``value_month +
      ceil(gap_points / |actual_pace|)``; ``value_month`` when the target is
      already met; ``None`` when it never does (flat or worsening pace),
      when there is no pace, or when that month would lie after 9999-12 (a
      pace so slow that it practically never does). It may lie beyond the
      deadline.

Flags (see :data:`FLAGS`, always in that order)
    ``'zero_denominator'`` the latest observation ``<= as_of`` has a zero
    denominator (so the value comes from an earlier month, or there is none);
    ``'over_100'`` a value used (current, pace window or value at the
    deadline) exceeds 100 %; ``'negative_value'`` such a value is below 0;
    ``'single_point'`` there is a value but no pace; ``'deadline_passed'``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .periods import add_months, month_from_index, month_index

__all__ = [
    "Observation",
    "Target",
    "Progress",
    "STATUSES",
    "STATUS_ORDER",
    "FLAGS",
    "AT_RISK_MARGIN_POINTS",
    "PACE_WINDOW_MONTHS",
    "EPSILON_POINTS",
    "month_index",
    "add_months",
    "status_sort_key",
    "evaluate",
]

STATUSES: tuple[str, ...] = (
    "achieved",
    "on_track",
    "at_risk",
    "off_track",
    "overdue",
    "no_data",
    "no_target",
)
"""Every status :func:`evaluate` can return."""

STATUS_ORDER: tuple[str, ...] = (
    "overdue",
    "off_track",
    "at_risk",
    "no_data",
    "on_track",
    "achieved",
    "no_target",
)
"""Statuses worst first, for sorting (see :func:`status_sort_key`)."""

FLAGS: tuple[str, ...] = (
    "zero_denominator",
    "over_100",
    "negative_value",
    "single_point",
    "deadline_passed",
)
"""Every flag :func:`evaluate` can set, in the order they appear."""

AT_RISK_MARGIN_POINTS: float = 5.0
"""A projection (or, without a pace, the current value) short of the target by
less than this many percentage points is ``at_risk``; by this much or more it
is ``off_track``."""

PACE_WINDOW_MONTHS: int = 6
"""The actual pace is fitted over this many calendar months ending at the
month of the current value."""

EPSILON_POINTS: float = 1e-9
"""Tolerance (percentage points) for comparisons against the target."""

_LAST_MONTH_INDEX = 9999 * 12 + 11  # 9999-12, the last month 'YYYY-MM' can write
_AS_OF_RE = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")


@dataclass(frozen=True)
class Observation:
    """One month of an entity's rolled-up figure.

    ``numerator`` / ``denominator`` may be ``None`` (not reported). The value
    is ``100 * numerator / denominator`` when the denominator is > 0.
    """

    month: str
    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class Target:
    """A plan target: reach ``value`` percent by ``deadline`` ('YYYY-MM').

    ``source`` cites the plan (decision number, etc.), for display only.
    """

    value: float
    deadline: str
    source: str = ""


@dataclass(frozen=True)
class Progress:
    """Result of :func:`evaluate`; see the module docstring for the rules."""

    status: str
    value: float | None
    value_month: str | None
    target: float | None
    deadline: str | None
    gap_points: float | None
    gap_units: float | None
    months_left: int | None
    needed_pace: float | None
    needed_pace_units: float | None
    actual_pace: float | None
    actual_pace_units: float | None
    projected_value: float | None
    projected_month: str | None
    flags: tuple[str, ...]


def status_sort_key(status: str) -> int:
    """Rank of ``status`` in :data:`STATUS_ORDER` (0 = worst)."""
    return STATUS_ORDER.index(status)


def _as_of_month(as_of: str) -> str:
    m = _AS_OF_RE.match(as_of) if isinstance(as_of, str) else None
    if not m:
        raise ValueError(f"as_of must be 'YYYY-MM' or 'YYYY-MM-DD', got {as_of!r}")
    month = f"{m.group(1)}-{m.group(2)}"
    month_index(month)  # validates MM
    return month


def _to_float(x: object) -> float | None:
    """A finite float, or None for missing/NaN/inf/NA/non-numeric input.

    Accepts int, float, Decimal (SQL NUMERIC) and numpy scalars.
    """
    if x is None or isinstance(x, (bool, str, bytes)):
        return None
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _value(obs: Observation) -> float | None:
    num, den = _to_float(obs.numerator), _to_float(obs.denominator)
    if num is None or den is None or den <= 0:
        return None
    return 100.0 * num / den


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Ordinary least-squares slope of y on x; None with < 2 points."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:  # cannot happen with distinct months; defensive
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def evaluate(
    observations: Sequence[Observation],
    target: Target | None,
    as_of: str,
    higher_is_better: bool = True,
) -> Progress:
    """Evaluate a monthly series against a target as of a month.

    See the module docstring for the full rules. ``observations`` may come in
    any order; months must be distinct. Raises ``ValueError`` on malformed
    months, duplicate months or a non-finite target value.
    """
    as_of_m = _as_of_month(as_of)
    as_of_i = month_index(as_of_m)

    seen: set[int] = set()
    series: list[tuple[int, Observation]] = []
    for obs in observations:
        i = month_index(obs.month)
        if i in seen:
            raise ValueError(f"duplicate observation for month {obs.month}")
        seen.add(i)
        if i <= as_of_i:
            series.append((i, obs))
    series.sort(key=lambda t: t[0])

    usable: list[tuple[int, Observation, float]] = []
    for i, obs in series:
        v = _value(obs)
        if v is not None:
            usable.append((i, obs, v))

    if target is not None:
        t_value = _to_float(target.value)
        if t_value is None:
            raise ValueError(f"target value must be a finite number, got {target.value!r}")
        deadline_i = month_index(target.deadline)
        deadline_passed = deadline_i < as_of_i
    else:
        t_value = None
        deadline_i = None
        deadline_passed = False

    flag_set: set[str] = set()
    if series and _to_float(series[-1][1].denominator) == 0:
        flag_set.add("zero_denominator")
    if deadline_passed:
        flag_set.add("deadline_passed")

    def flags() -> tuple[str, ...]:
        return tuple(f for f in FLAGS if f in flag_set)

    t_deadline = target.deadline if target is not None else None

    if not usable:
        return Progress(
            status="no_data",
            value=None,
            value_month=None,
            target=t_value,
            deadline=t_deadline,
            gap_points=None,
            gap_units=None,
            months_left=None,
            needed_pace=None,
            needed_pace_units=None,
            actual_pace=None,
            actual_pace_units=None,
            projected_value=None,
            projected_month=None,
            flags=flags(),
        )

    cur_i, cur_obs, value = usable[-1]
    value_month = cur_obs.month
    num = _to_float(cur_obs.numerator)
    den = _to_float(cur_obs.denominator)

    used_values = [value]
    window = [(i, v) for i, _, v in usable if cur_i - PACE_WINDOW_MONTHS < i <= cur_i]
    used_values.extend(v for _, v in window)
    actual_pace = _slope(window)
    actual_pace_units = actual_pace * den / 100.0 if actual_pace is not None else None
    if actual_pace is None:
        flag_set.add("single_point")

    # Value at the deadline, only relevant once it has passed.
    deadline_value: float | None = None
    if deadline_passed:
        at_deadline = [v for i, _, v in usable if i <= deadline_i]
        if at_deadline:
            deadline_value = at_deadline[-1]
            used_values.append(deadline_value)

    if any(v > 100.0 for v in used_values):
        flag_set.add("over_100")
    if any(v < 0.0 for v in used_values):
        flag_set.add("negative_value")

    if target is None:
        return Progress(
            status="no_target",
            value=value,
            value_month=value_month,
            target=None,
            deadline=None,
            gap_points=None,
            gap_units=None,
            months_left=None,
            needed_pace=None,
            needed_pace_units=None,
            actual_pace=actual_pace,
            actual_pace_units=actual_pace_units,
            projected_value=None,
            projected_month=None,
            flags=flags(),
        )

    sign = 1.0 if higher_is_better else -1.0
    # Shortfall in the direction of improvement: > 0 means still short.
    gap_points = sign * (t_value - value)
    gap_units = sign * (t_value * den / 100.0 - num)
    met_now = gap_points <= EPSILON_POINTS

    months_left = 0 if deadline_passed else max(0, deadline_i - cur_i)

    if met_now:
        needed_pace: float | None = 0.0
        needed_pace_units: float | None = 0.0
    elif months_left > 0:
        needed_pace = (t_value - value) / months_left
        needed_pace_units = (t_value * den / 100.0 - num) / months_left
    else:
        needed_pace = None
        needed_pace_units = None

    if actual_pace is not None and not deadline_passed:
        projected_value: float | None = value + actual_pace * months_left
    else:
        projected_value = None

    if met_now:
        projected_month: str | None = value_month
    elif actual_pace is not None and sign * actual_pace > EPSILON_POINTS:
        months_needed = math.ceil(gap_points / (sign * actual_pace) - 1e-9)
        # A pace barely above zero "reaches" the target in millennia: that is never.
        projected_month = (month_from_index(cur_i + months_needed)
                           if cur_i + months_needed <= _LAST_MONTH_INDEX else None)
    else:
        projected_month = None

    if deadline_passed:
        met_at_deadline = (
            deadline_value is not None
            and sign * (t_value - deadline_value) <= EPSILON_POINTS
        )
        status = "achieved" if (met_at_deadline or met_now) else "overdue"
    elif met_now:
        status = "achieved"
    elif projected_value is not None:
        shortfall = sign * (t_value - projected_value)
        if shortfall <= EPSILON_POINTS:
            status = "on_track"
        elif shortfall < AT_RISK_MARGIN_POINTS - EPSILON_POINTS:
            status = "at_risk"
        else:
            status = "off_track"
    else:
        status = "at_risk" if gap_points < AT_RISK_MARGIN_POINTS - EPSILON_POINTS else "off_track"

    return Progress(
        status=status,
        value=value,
        value_month=value_month,
        target=t_value,
        deadline=t_deadline,
        gap_points=gap_points,
        gap_units=gap_units,
        months_left=months_left,
        needed_pace=needed_pace,
        needed_pace_units=needed_pace_units,
        actual_pace=actual_pace,
        actual_pace_units=actual_pace_units,
        projected_value=projected_value,
        projected_month=projected_month,
        flags=flags(),
    )
