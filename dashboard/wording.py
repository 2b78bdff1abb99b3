"""Sentences every view says the same way: who reports, how complete, how far from target.

Pure functions over a figures.figures() row and an indicator dict, so pages, maps, slides
and exports word a figure identically (and outside a running Dash app).
"""
from __future__ import annotations

from . import formatting as fmt
from . import hierarchy
from .formatting import as_number
from .i18n import t
from .progress import EPSILON_POINTS


def row_status(row: dict) -> str:
    """The status of a figure row as every view draws it: its progress status, or
    ``not_applicable`` where nobody beneath the unit is expected to report the indicator (a
    different thing from ``no_data``, someone who should have reported and did not)."""
    expected = as_number(row.get("expected"))
    if expected is not None and expected == 0:
        return "not_applicable"
    status = row.get("status")
    return status if isinstance(status, str) and status else "no_data"


JUDGED = ("achieved", "on_track", "at_risk", "off_track", "overdue")


def partial_reporting(row: dict) -> bool:
    """The one rule for a caveat: a status was judged (achieved … overdue) although not everyone
    expected to report did (0 < reported < expected). The demo's zones 'Đạt' on 3 of 4 communes
    are judged so; any missing reporter is enough, since a missing one is not a zero."""
    expected, reported = as_number(row.get("expected")), as_number(row.get("reported"))
    return (row_status(row) in JUDGED and expected is not None and reported is not None
            and 0 < reported < expected)


def partial_caveat(row: dict, indicator: dict, lang: str) -> str:
    """'chỉ 3/4 xã/phường báo cáo' beside a status judged on incomplete reporting, else ''."""
    if not partial_reporting(row):
        return ""
    return t("status_partial", lang, reported=fmt.number(as_number(row.get("reported")), 0, lang),
             expected=fmt.number(as_number(row.get("expected")), 0, lang), kind=reporter_word(indicator, lang))


def status_with_caveat(row: dict, indicator: dict, lang: str) -> str:
    """'Đạt (chỉ 3/4 xã/phường báo cáo)': the status word as text, with its caveat if any."""
    caveat = partial_caveat(row, indicator, lang)
    word = status_word(row_status(row), lang)
    return f"{word} ({caveat})" if caveat else word


def status_word(status: str, lang: str) -> str:
    """'Đạt', 'Quá hạn – chưa đạt', 'Chưa báo cáo', 'Không áp dụng'…"""
    return t(f"status_{status}", lang)


def reporter_word(indicator: dict, lang: str) -> str:
    """'xã/phường', 'bệnh viện', 'cơ sở'…: what the indicator's reporting entities are called."""
    kinds = tuple(indicator.get("reported_by") or ())
    if len(kinds) == 1:
        return hierarchy.kind_word(kinds[0], lang)
    if kinds and all(k.startswith("facility:") for k in kinds):
        return t("kind_facility:other", lang)
    return t("entities", lang)


def amount(value, indicator: dict, lang: str) -> str:
    """A count in the indicator's real unit; money as tỷ/triệu đồng."""
    number = as_number(value)
    if number is None:
        return "—"
    if (indicator.get("unit_vi") or "") == "đồng":
        return fmt.compact(number, lang)
    return fmt.number(number, 0, lang)


def completeness_text(row: dict, indicator: dict, lang: str) -> str:
    """'Báo cáo: 107/114 xã/phường (93,9 %)'."""
    expected = int(as_number(row.get("expected")) or 0)
    reported = int(as_number(row.get("reported")) or 0)
    pct = fmt.percent(100.0 * reported / expected, 1, lang) if expected else "—"
    return t("completeness", lang, reported=fmt.number(reported, 0, lang), expected=fmt.number(expected, 0, lang),
             kind=reporter_word(indicator, lang), pct=pct)


def unit_word(indicator: dict, lang: str) -> str:
    """The real unit of the numerator: 'người', 'bệnh viện', 'hồ sơ'…"""
    return next((v for v in (indicator.get(f"unit_{lang}"), indicator.get("unit_vi")) if isinstance(v, str) and v), "")


def gap_points_text(row: dict, indicator: dict, lang: str) -> str:
    """The gap in points with the same sign words everywhere: 'còn thiếu 2,1 điểm %' short of the
    target, 'vượt 1,0 điểm %' beyond it; '—' without a value or a target."""
    gap = as_number(row.get("gap_points"))
    if gap is None:
        return "—"
    if gap <= EPSILON_POINTS:
        return t("gap_beyond_points", lang, points=fmt.points(-gap if gap < 0 else 0.0, 1, lang))
    return t("gap_short_points", lang, points=fmt.points(gap, 1, lang))


def gap_sentence(row: dict, indicator: dict, lang: str) -> str:
    """What is still missing to reach the target, in real units where there are some:
    'còn thiếu 92.431 người để đạt 95 %' (or in points: 'còn thiếu 2,1 điểm % để đạt 95 %');
    'Đã đạt mục tiêu'; 'Chưa có mục tiêu'; '' without a value."""
    target = as_number(row.get("target"))
    if target is None:
        return t("no_target_set", lang)
    gap_points = as_number(row.get("gap_points"))
    if gap_points is None:
        return ""
    if gap_points <= EPSILON_POINTS:
        return t("gap_met", lang)
    goal = fmt.target_value(target, indicator, lang)
    gap_units = as_number(row.get("gap_units"))
    if gap_units is not None and gap_units > 0:
        return t("gap_short_units", lang, amount=amount(gap_units, indicator, lang), unit=unit_word(indicator, lang),
                 target=goal).replace("  ", " ")
    return t("gap_short_points_to", lang, points=fmt.points(gap_points, 1, lang), target=goal)


def remainder_sentence(row: dict, indicator: dict, lang: str) -> str:
    """The whole that is still missing, in the indicator's own words: '310.477 người chưa có HSSK
    điện tử' (denominator − numerator). Said only where it differs from the gap to the target
    (a target below 100 %) and the indicator counts up to its denominator."""
    num, den = as_number(row.get("numerator")), as_number(row.get("denominator"))
    target = as_number(row.get("target"))
    template = next((v for v in (indicator.get(f"gap_{lang}"), indicator.get("gap_vi")) if isinstance(v, str) and v),
                    None)
    if num is None or den is None or not template or not indicator.get("higher_is_better", True):
        return ""
    rest = den - num
    if rest <= 0 or (target is not None and target >= 100.0):
        return ""
    return template.format(gap=amount(rest, indicator, lang))


CHANGE_KINDS = ("previous", "year_ago")


def change_text(now, before, indicator: dict, lang: str, which: str, period_kind: str = "month") -> str:
    """The change since an earlier period, in points for a rate: 'tăng 1,2 điểm % so với tháng
    trước', 'giảm 0,4 điểm % so với cùng kỳ năm trước', 'không đổi so với tháng trước'; without a
    figure at either end, 'so với tháng trước: chưa có số liệu'."""
    since = t(f"change_since_previous_{period_kind}" if which == "previous" or period_kind == "year"
              else "change_since_year_ago", lang)
    a, b = as_number(now), as_number(before)
    if a is None or b is None:
        return t("change_no_data", lang, since=since)
    diff = a - b
    places = max(1, fmt.decimals_of(indicator))
    unit = (indicator or {}).get("display_unit") or "%"
    size = fmt.points(abs(diff), places, lang) if unit == "%" else f"{fmt.number(abs(diff), places, lang)}\u00a0{unit}"
    if fmt.number(abs(diff), places, lang) == fmt.number(0, places, lang):
        return t("change_none", lang, since=since)
    return t("change_up" if diff > 0 else "change_down", lang, amount=size, since=since)


def change_lines(now, earlier: dict | None, indicator: dict, lang: str, period_kind: str = "month") -> list[str]:
    """Both changes a view shows beside a figure (the year's only for a year)."""
    earlier = earlier or {}
    kinds = ("year_ago",) if period_kind == "year" else CHANGE_KINDS
    return [change_text(now, earlier.get(k), indicator, lang, k, period_kind) for k in kinds]
