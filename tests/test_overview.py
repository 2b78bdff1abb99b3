"""The overview's four headline cards against figures computed independently from the demo rows."""
from __future__ import annotations

import re

import pytest

from dashboard import figures

HEADLINES = ("emr", "cashless", "hssk", "tthc_online")
# Who reports what, written out here rather than read from the catalogue under test.
REPORTERS = {"emr": ("hospital", "health_centre"), "cashless": ("hospital", "health_centre"),
             "hssk": "commune", "tthc_online": "province"}
STOCK = {"emr": True, "hssk": True, "cashless": False, "tthc_online": False}


def independent_value(demo, indicator: str, months: list[str]) -> tuple[float, float, int]:
    rows = demo.values[(demo.values["indicator"] == indicator) & demo.values["period"].isin(months)]
    who = REPORTERS[indicator]
    if isinstance(who, tuple):
        allowed = set(demo.facilities[demo.facilities["type"].isin(who)]["code"])
    else:
        allowed = set(demo.units[demo.units["level"] == who]["code"])
    rows = rows[rows["entity_code"].isin(allowed)]
    if STOCK[indicator]:
        rows = rows.sort_values("period").groupby("entity_code").tail(1)
    return rows["numerator"].sum(), rows["denominator"].sum(), rows["entity_code"].nunique()


@pytest.mark.parametrize("indicator", HEADLINES)
@pytest.mark.parametrize("period,months", [("2026-10", ["2026-10"]),
                                           ("2026-Q3", ["2026-07", "2026-08", "2026-09"])])
def test_headline_figures_match_independent_sums(demo_db, demo_data, indicator, period, months):
    card = figures.headline(indicator, period, figures.root_code())
    num, den, reporters = independent_value(demo_data, indicator, months)
    assert card.row["numerator"] == pytest.approx(num)
    assert card.row["denominator"] == pytest.approx(den)
    assert card.row["value"] == pytest.approx(100 * num / den)
    assert card.row["reported"] == reporters
    assert len(card.sparkline) == 12


def test_demo_is_labelled_illustrative(demo_db):
    assert figures.is_demo()


def vi_percent(value: float) -> str:
    """Written by hand for the test: one decimal, comma, no-break space, %."""
    return f"{value:.1f}".replace(".", ",") + "\u00a0%"


@pytest.mark.browser
def test_overview_in_chromium_shows_the_four_cards(live_server, page, demo_data):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#kpi-value-hssk", timeout=30_000)
    assert "Dữ liệu minh họa" in page.inner_text("#demo-banner")
    assert page.inner_text("#data-until") == "Số liệu đến tháng 10/2026"
    for indicator in HEADLINES:
        num, den, _ = independent_value(demo_data, indicator, ["2026-10"])
        shown = page.inner_text(f"#kpi-value-{indicator}")
        assert shown == vi_percent(100 * num / den), indicator
        assert page.inner_text(f"#kpi-status-{indicator}").strip()
        assert re.search(r"Báo cáo: \d+/\d+", page.inner_text(f"#kpi-completeness-{indicator}"))
    # The gap says what it means, computed here by hand: short of the target that applies, then the whole.
    num, den, _ = independent_value(demo_data, "hssk", ["2026-10"])
    targets = demo_data.targets[(demo_data.targets["indicator"] == "hssk") & (demo_data.targets["scope_code"] == "31")]
    upcoming = targets[targets["deadline"] >= "2026-10"].sort_values("deadline")
    target = float((upcoming if len(upcoming) else targets.sort_values("deadline").tail(1))["value"].iloc[0])
    short = round(target / 100 * den - num)
    def grouped(n):
        return f"{n:,}".replace(",", ".")
    target_text = f"{target:.0f}\u00a0%" if target.is_integer() else f"{target:.1f}".replace(".", ",") + "\u00a0%"
    assert page.inner_text("#kpi-gap-hssk") == f"Còn thiếu {grouped(short)} người để đạt {target_text}"
    assert page.inner_text("#kpi-remainder-hssk") == f"Còn {grouped(round(den - num))} người chưa có HSSK điện tử"
    # A deadline passed and missed is overdue, not merely behind: a headline whose every province
    # target fell due before October and is not met reads "Quá hạn – chưa đạt" (found by hand here).
    overdue = []
    for indicator in HEADLINES:
        own = demo_data.targets[(demo_data.targets["indicator"] == indicator) & (demo_data.targets["scope_code"] == "31")]
        n, d, _ = independent_value(demo_data, indicator, ["2026-10"])
        if len(own) and (own["deadline"] < "2026-10").all() and 100 * n / d < own.sort_values("deadline")["value"].iloc[-1]:
            overdue.append(indicator)
    assert overdue  # the demo has such a headline (HSSK, 95 % by 12/2025)
    for indicator in overdue:
        assert "Quá hạn – chưa đạt" in page.inner_text(f"#kpi-status-{indicator}"), indicator


@pytest.mark.browser
def test_overview_period_and_language_come_from_the_url(live_server, page, demo_data):
    page.goto(live_server.url + "/?period=2026-Q3&lang=en")
    page.wait_for_selector("#kpi-value-cashless", timeout=30_000)
    num, den, _ = independent_value(demo_data, "cashless", ["2026-07", "2026-08", "2026-09"])
    assert page.inner_text("#kpi-value-cashless") == f"{100 * num / den:.1f}%"
    assert page.inner_text("#period-heading") == "Q3 2026"
    assert "Illustrative data" in page.inner_text("#demo-banner")


@pytest.mark.browser
def test_a_hand_edited_period_gives_a_warning_not_a_traceback(live_server, page):
    page.goto(live_server.url + "/?period=2026-13")
    page.wait_for_selector(".param-warning", timeout=30_000)
    assert "kỳ báo cáo “2026-13” không đúng dạng" in page.inner_text(".param-warning")
    assert page.inner_text("#kpi-value-hssk")  # the default period is shown
    assert "Traceback" not in page.content()


@pytest.mark.browser
def test_choosing_a_period_updates_the_url(live_server, page):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#overview-period", timeout=30_000)
    page.click("#overview-period")
    page.get_by_role("option", name="Quý III/2026").click()
    page.wait_for_url(re.compile(r"period=2026-Q3"), timeout=15_000)
    page.wait_for_function("document.querySelector('#period-heading').innerText === 'Quý III/2026'",
                           timeout=15_000)


def _page(module: str):
    import importlib

    import dash

    try:
        return importlib.import_module(module)
    except dash.exceptions.PageError:
        dash.Dash("overview-tests", use_pages=True, pages_folder="")
        return importlib.import_module(module)


def _texts(node):
    if isinstance(node, str):
        yield node
        return
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (int, float)):
            yield from _texts(child)


def _find(node, node_id):
    if getattr(node, "id", None) == node_id:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            hit = _find(child, node_id)
            if hit is not None:
                return hit
    return None


def change_words(now: float, before: float | None, since: str) -> str:
    """By hand: 'Tăng 1,2 điểm % so với tháng trước' (one decimal, comma, no-break spaces)."""
    if before is None:
        return f"{since[:1].upper()}{since[1:]}: chưa có số liệu"
    diff = now - before
    size = f"{abs(diff):.1f}".replace(".", ",")
    if size == "0,0":
        return f"Không đổi {since}"
    return f"{'Tăng' if diff > 0 else 'Giảm'} {size}\u00a0điểm\u00a0% {since}"


@pytest.mark.parametrize("indicator", HEADLINES)
def test_cards_say_the_change_since_last_month_and_last_year(demo_db, demo_data, indicator):
    from dashboard import request

    overview = _page("layouts.overview")
    now_num, now_den, _ = independent_value(demo_data, indicator, ["2026-10"])
    prev_num, prev_den, _ = independent_value(demo_data, indicator, ["2026-09"])
    year_num, year_den, year_n = independent_value(demo_data, indicator, ["2025-10"])
    now, prev = 100 * now_num / now_den, 100 * prev_num / prev_den
    year = 100 * year_num / year_den if year_n else None
    earlier = figures.earlier_values(indicator, "2026-10", "province", "31")["31"]
    assert earlier["previous"] == pytest.approx(prev)
    assert earlier["year_ago"] == (pytest.approx(year) if year is not None else None)
    req = request.read("overview", {"period": "2026-10"})
    block = overview.change_block(indicator, req, now, figures.indicator(indicator), "x")
    assert list(_texts(block)) == [change_words(now, prev, "so với tháng trước"),
                                   change_words(now, year, "so với cùng kỳ năm trước")]


def test_the_first_month_has_nothing_to_compare_with(demo_db, demo_data):
    from dashboard import request

    overview = _page("layouts.overview")
    first = min(demo_data.values.loc[demo_data.values["indicator"] == "hssk", "period"])
    req = request.read("overview", {"period": first})
    block = overview.change_block("hssk", req, 50.0, figures.indicator("hssk"), "x")
    assert list(_texts(block)) == ["So với tháng trước: chưa có số liệu", "So với cùng kỳ năm trước: chưa có số liệu"]
    assert figures.comparison_labels("2026-Q1") == {"previous": "2025-Q4", "year_ago": "2025-Q1"}
    assert figures.comparison_labels("2026") == {"previous": None, "year_ago": "2025"}
    # a year in progress: a flow's ten months against a whole year would mislead, a stock compares
    assert figures.comparison_labels("2026", "cashless") == {"previous": None, "year_ago": None}
    assert figures.comparison_labels("2026", "hssk") == {"previous": None, "year_ago": "2025"}


def test_a_month_before_the_reform_renders(demo_db):
    """Before 2025-07 the demo's history sits under the old units; the city's own cards for such a
    month render (no figure of its own until its predecessors' are rolled up: no crash, no 'nan')."""
    from dashboard import request
    from tests.target_helpers import text_of

    overview = _page("layouts.overview")
    text = text_of(overview.overview_content(request.read("overview", {"period": "2025-03"})))
    assert "Tổng quan" in text or "Hồ sơ sức khỏe" in text
    assert "nan" not in text.lower().split()
    assert "Nguồn: nan" not in text
