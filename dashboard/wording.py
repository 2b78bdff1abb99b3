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


def gap_sentence(row: dict, indicator: dict, lang: str) -> str:
    """'còn 92.431 người chưa có HSSK điện tử', 'Đã đạt mục tiêu', or '' without a gap."""
    if as_number(row.get("target")) is None:
        return t("no_target_set", lang)
    gap_points = as_number(row.get("gap_points"))
    if gap_points is not None and gap_points <= EPSILON_POINTS:
        return t("gap_met", lang)
    gap_units = as_number(row.get("gap_units"))
    if gap_units is None:
        return ""
    template = indicator.get(f"gap_{lang}") or indicator.get("gap_vi") or "{gap}"
    return template.format(gap=amount(max(gap_units, 0.0), indicator, lang))
