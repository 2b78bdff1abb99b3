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
