"""What the unit page says about one indicator: the plain sentence, the projection cone and
where its target comes from. Pure functions over ``progress.Progress`` (tested by hand);
``unit_progress`` fetches the figures through ``dashboard.figures``.

Projection cone (the trend chart)
---------------------------------
From the current value (``value_month``, ``value``) to the deadline:

* centre: ``value + actual_pace * k`` after ``k`` months — the same linear projection the
  status uses (``progress``: least-squares slope over the last ``PACE_WINDOW_MONTHS``
  months), ending at ``projected_value``;
* band: ``value + (actual_pace ± se) * k``, with ``se`` the standard error of that slope,
  ``sqrt(sum of squared residuals / (n - 2) / sum((x - mean x)^2))`` over the same ``n``
  usable months. It reads "how sure the pace is": steady months give a narrow cone, jumpy
  ones a wide cone. With only two months there is no error to estimate: the line alone.
* For display only the band is clipped to 0..100 % (a rate cannot leave it); statuses never
  use the clipped numbers. No cone without a pace, once the target is met, once the deadline
  has passed, or when the deadline is the current month.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from . import figures, progress
from . import formatting as fmt
from .formatting import as_number
from .i18n import t
from .periods import add_months, parse_period

HISTORY_MONTHS = 24


@dataclass(frozen=True)
class UnitProgress:
    row: dict                          # the unit's figures() row for the period
    progress: progress.Progress        # evaluated on the period's figure (= the row's status)
    history: pd.DataFrame              # monthly series (period, value, ...) up to the period end
    observations: list                 # what progress was evaluated on
    target_scope: str | None           # the unit whose target applies (itself or an ancestor)


def target_scope(indicator_code: str, code: str, as_of: str) -> str | None:
    """The code of the unit whose own target applies to `code` (itself or its nearest
    ancestor with a target), by the same rule as figures.resolve_target."""
    table = figures.targets()
    own = table[table["indicator_code"] == indicator_code]
    for anc, level in figures.ancestors(code) or [(code, "")]:
        if figures.pick_target(own, [(anc, level)], as_of) is not None:
            return anc
    return None


def unit_progress(indicator_code: str, period_label: str, code: str) -> UnitProgress:
    card = figures.headline(indicator_code, period_label, code)
    period = card.period
    history = figures.series(indicator_code, code, add_months(period.end, -(HISTORY_MONTHS - 1)), period.end)
    obs = figures._observations(history)
    prog = card.progress
    if card.row.get("reported"):
        obs = figures.period_observations(obs, period.end, card.row.get("numerator"), card.row.get("denominator"))
    if card.row.get("status") == "no_data" and prog.status != "no_data":
        # Nobody reported in the period: the row says so; the last value known stays for the text.
        prog = dataclasses.replace(prog, status="no_data")
    return UnitProgress(row=card.row, progress=prog, history=history, observations=obs,
                        target_scope=target_scope(indicator_code, code, period.end))


def pace_error(observations: list, value_month: str | None) -> float | None:
    """Standard error of the least-squares pace (points per month) over the usable
    observations of the pace window ending at `value_month`; None with fewer than 3."""
    if not value_month:
        return None
    end = progress.month_index(value_month)
    points = []
    for o in observations:
        i = progress.month_index(o.month)
        if end - progress.PACE_WINDOW_MONTHS < i <= end:
            num, den = as_number(o.numerator), as_number(o.denominator)
            if num is not None and den is not None and den > 0:
                points.append((float(i), 100.0 * num / den))
    n = len(points)
    if n < 3:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    ssr = sum((y - (mean_y + slope * (x - mean_x))) ** 2 for x, y in points)
    return math.sqrt(ssr / (n - 2) / sxx)


def cone(prog: progress.Progress, error: float | None) -> pd.DataFrame:
    """Months from value_month to the deadline with centre, low and high (display-clipped to
    0..100); empty when there is nothing to project (see the module docstring)."""
    columns = ["month", "centre", "low", "high"]
    met = prog.gap_points is not None and prog.gap_points <= progress.EPSILON_POINTS
    if (prog.value is None or prog.actual_pace is None or prog.deadline is None or met
            or "deadline_passed" in prog.flags or not prog.months_left):
        return pd.DataFrame(columns=columns)
    se = error or 0.0
    rows = []
    for k in range(prog.months_left + 1):
        centre = prog.value + prog.actual_pace * k
        rows.append((add_months(prog.value_month, k), _clip(centre), _clip(centre - se * k), _clip(centre + se * k)))
    return pd.DataFrame(rows, columns=columns)


def _clip(v: float) -> float:
    return min(100.0, max(0.0, v))


# --- the sentence -----------------------------------------------------------------------------

def amount(value: float, ind: dict, lang: str) -> str:
    """A number of the indicator's real unit: money as tỷ/triệu, small counts with a decimal."""
    value = abs(value)
    if ind.get("unit_vi") == "đồng":
        return fmt.compact(value, lang)
    return fmt.number(value, 1 if 0 < value < 10 and round(value, 1) != round(value) else 0, lang)


def unit_word(ind: dict, lang: str) -> str:
    return ind.get(f"unit_{lang}") or ind.get("unit_vi") or ""


def _pct(value: float, lang: str) -> str:
    return fmt.percent(value, 0 if float(value).is_integer() else 1, lang)


def rate(points: float, units: float | None, ind: dict, lang: str) -> str:
    """'1.240 hồ sơ/tháng (2,1 điểm %/tháng)'; the points alone when the real number would
    print as 0 (a fraction of a hospital a month says nothing)."""
    pts = fmt.points(abs(points), 1, lang)
    shown = amount(units, ind, lang) if units is not None else None
    if shown is None or shown.strip("0,.") == "":
        return t("unit_s_rate_points", lang, points=pts)
    return t("unit_s_rate_units", lang, amount=shown, unit=unit_word(ind, lang), points=pts)


def _pace_clause(prog: progress.Progress, ind: dict, lang: str, sign: float) -> str:
    window = progress.PACE_WINDOW_MONTHS
    if prog.actual_pace is None:
        return t("unit_s_no_pace", lang, window=window)
    if abs(prog.actual_pace) <= progress.EPSILON_POINTS:
        return t("unit_s_flat" if sign else "unit_s_flat_plain", lang, window=window)
    key = "unit_s_actual_up" if prog.actual_pace > 0 else "unit_s_actual_down"
    if sign * prog.actual_pace < 0:
        key += "_worse"
    return t(key, lang, window=window, rate=rate(prog.actual_pace, prog.actual_pace_units, ind, lang))


def met_by_deadline(observations: list, prog: progress.Progress, higher_is_better: bool = True) -> bool | None:
    """Whether the latest usable figure at or before the deadline met the target (None when
    there is no target or no such figure)."""
    if prog.target is None or prog.deadline is None:
        return None
    usable = []
    for o in observations:
        num, den = as_number(o.numerator), as_number(o.denominator)
        if o.month <= prog.deadline and num is not None and den is not None and den > 0:
            usable.append((o.month, 100.0 * num / den))
    if not usable:
        return None
    value = max(usable)[1]
    sign = 1.0 if higher_is_better else -1.0
    return sign * (prog.target - value) <= progress.EPSILON_POINTS


def sentence(prog: progress.Progress, ind: dict, lang: str, period_label: str | None = None,
             observations: list | None = None) -> str:
    """One plain sentence about where the unit stands against its target and whether it will
    make it. Handles: no data (with the last value known, if any), no target, met, deadline
    passed (met in time, met late, met then fell back, missed), due this month, no pace,
    worsening trend. `observations` (what progress was evaluated on) tell a target met in
    time from one met late."""
    sign = 1.0 if ind.get("higher_is_better", True) else -1.0
    unit = unit_word(ind, lang)
    if prog.status == "no_data" or prog.value is None:
        text = t("unit_s_no_data", lang, period=_period_words(period_label, lang))
        if prog.value is not None and prog.value_month:
            text += " " + t("unit_s_last_known", lang, value=fmt.value(prog.value, ind, lang),
                                month=fmt.month(prog.value_month))
        return text
    value = fmt.value(prog.value, ind, lang, target=prog.target)
    if prog.target is None:  # no target: the trend is neither better nor worse, only up or down
        return t("unit_s_no_target", lang, value=value) + " " + _cap(_pace_clause(prog, ind, lang, 0.0)) + "."
    target = _pct(prog.target, lang)
    deadline = fmt.month(prog.deadline)
    gap = amount(prog.gap_units, ind, lang) if prog.gap_units is not None else "—"
    gap_pts = fmt.points(abs(prog.gap_points), 1, lang) if prog.gap_points is not None else "—"
    met_now = prog.gap_points is not None and prog.gap_points <= progress.EPSILON_POINTS
    if "deadline_passed" in prog.flags:
        in_time = met_by_deadline(observations, prog, sign > 0) if observations is not None else None
        if met_now and in_time:
            return t("unit_s_met_in_time", lang, target=target, deadline=deadline, value=value)
        if met_now and in_time is False:
            return t("unit_s_met_late", lang, target=target, deadline=deadline, value=value)
        if met_now:
            return t("unit_s_met", lang, target=target, deadline=deadline, value=value)
        if prog.status == "achieved":
            return t("unit_s_met_then_fell", lang, target=target, deadline=deadline, value=value, gap=gap,
                     unit=unit, points=gap_pts)
        return t("unit_s_missed", lang, target=target, deadline=deadline, value=value, gap=gap, unit=unit,
                 points=gap_pts)
    if met_now:
        return t("unit_s_met", lang, target=target, deadline=deadline, value=value)
    if not prog.months_left:
        return t("unit_s_due_now", lang, target=target, deadline=deadline, value=value, gap=gap, unit=unit,
                 points=gap_pts)
    need_key = "unit_s_need_up" if (prog.needed_pace or 0) > 0 else "unit_s_need_down"
    need = t(need_key, lang, rate=rate(prog.needed_pace or 0.0, prog.needed_pace_units, ind, lang),
             target=target, deadline=deadline)
    text = need + "; " + _pace_clause(prog, ind, lang, sign)
    if prog.actual_pace is not None and sign * prog.actual_pace > progress.EPSILON_POINTS:
        if prog.projected_month is not None and prog.projected_month <= prog.deadline:
            text += "; " + t("unit_s_will_make_it", lang, month=fmt.month(prog.projected_month))
        elif prog.projected_value is not None:
            text += "; " + t("unit_s_will_miss", lang, projected=fmt.percent(_clip(prog.projected_value), 1, lang),
                             deadline=deadline)
    elif prog.actual_pace is not None:
        text += "; " + t("unit_s_never", lang)
    return text + "."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _period_words(period_label: str | None, lang: str) -> str:
    if not period_label:
        return ""
    try:
        from .periods import period_label as label_of

        return label_of(parse_period(period_label), lang)
    except Exception:  # noqa: BLE001 - words only
        return period_label


# --- the 2025 reform: old units and the units made from them ---------------------------------

REFORM_DATE = "2025-07-01"


def day_text(value) -> str:
    """'30/06/2025' for a date or a 'YYYY-MM-DD' text."""
    text = str(value)[:10]
    return f"{text[8:10]}/{text[5:7]}/{text[:4]}" if len(text) == 10 else text


def lineage_links(code: str) -> dict:
    """What the unit page says about a unit across the reform: {"old": the unit has ended,
    "until": its last day ('30/06/2025') and month, "successors": the units it went to (key,
    name, share), "predecessors": the old units it was formed from, "effective": the day they
    were joined ('01/07/2025')}. Links come from the crosswalk (unit_links)."""
    ent = figures.entity(code)
    valid_to = ent.get("valid_to")
    old = valid_to is not None and not pd.isna(valid_to)
    before = figures.predecessors(code)
    effective = next((p["effective"] for p in before if p.get("effective")), None)
    return {"old": old, "until": day_text(valid_to) if old else None,
            "until_month": str(valid_to)[:7] if old else None,
            "successors": figures.successors(code), "predecessors": before,
            "effective": day_text(effective) if effective else None}


def share_text(share: float | None, lang: str) -> str:
    """'62,5 % của đơn vị' for a divided unit's part; '' for a whole one."""
    if share is None or share >= 1 - 1e-9:
        return ""
    return t("rf_share", lang, share=fmt.percent(100.0 * share, 1, lang))


def page_period(code: str, period_label: str | None) -> str | None:
    """The period an old unit's page shows: the one asked for while the unit was valid, else its
    last month (its own history ends there)."""
    valid_to = figures.entity(code).get("valid_to") if period_label is not None else None
    if valid_to is None or pd.isna(valid_to):
        return period_label
    last = str(valid_to)[:7]
    return last if parse_period(period_label).end > last else period_label
