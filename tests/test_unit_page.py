"""The unit page (/unit/<code>): its sentence and projection cone worked out by hand, the page
on the tiny world and on the demo, and the real thing in Chromium."""
from __future__ import annotations

import dataclasses
import re
import urllib.request

import pytest

from dashboard.theme import BEHIND

from dashboard import progress
from dashboard import scorecard as sc
from dashboard import unitview as uv
from tests.target_helpers import by_id, import_pages, rollup, text_of, vi_percent, walk
from tests.world import load_world

Obs = progress.Observation
IND = {"unit_vi": "hồ sơ", "unit_en": "dossiers", "higher_is_better": True, "decimals": 1}
MONEY = {"unit_vi": "đồng", "unit_en": "VND", "higher_is_better": True, "decimals": 1}


def series(start: str, numerators, denominator=2000.0):
    return [Obs(progress.add_months(start, i), n, denominator) for i, n in enumerate(numerators)]


RISING = series("2025-01", [1200, 1240, 1280, 1320, 1360, 1400])   # 60 -> 70 %, +2 points = +40 a month


def say(obs, target, as_of, ind=IND, lang="vi", period=None):
    hib = ind.get("higher_is_better", True)
    return uv.sentence(progress.evaluate(obs, target, as_of, hib), ind, lang, period or as_of, obs)


# --- the sentence, case by case --------------------------------------------------------------------

def test_sentence_pace_too_slow():
    # 70 % now; (95 - 70) / 6 months = 4,17 points = (1900 - 1400) / 6 = 83 dossiers a month needed;
    # the last 6 months gave 2 points = 40 a month; 70 + 2 * 6 = 82 % at the deadline.
    assert say(RISING, progress.Target(95, "2025-12"), "2025-06") == (
        "Cần tăng thêm 83 hồ sơ/tháng (4,2\u00a0điểm\u00a0%/tháng) để đạt 95\u00a0% trước 12/2025; "
        "6 tháng qua đạt 40 hồ sơ/tháng (2,0\u00a0điểm\u00a0%/tháng); "
        "theo tốc độ này đến hạn 12/2025 chỉ đạt khoảng 82,0\u00a0%.")
    assert say(RISING, progress.Target(95, "2025-12"), "2025-06", lang="en") == (
        "Needs to add 83 dossiers a month (4.2\u00a0pts a month) to reach 95% by 12/2025; "
        "the last 6 months added 40 dossiers a month (2.0\u00a0pts a month); "
        "at this pace it reaches only about 82.0% by 12/2025.")


def test_sentence_on_pace():
    # 80 % by 12/2025: 10 points / 6 = 1,67 points = 33 a month; at 2 a month: ceil(10 / 2) = 5 -> 11/2025.
    assert say(RISING, progress.Target(80, "2025-12"), "2025-06") == (
        "Cần tăng thêm 33 hồ sơ/tháng (1,7\u00a0điểm\u00a0%/tháng) để đạt 80\u00a0% trước 12/2025; "
        "6 tháng qua đạt 40 hồ sơ/tháng (2,0\u00a0điểm\u00a0%/tháng); theo tốc độ này sẽ đạt vào 11/2025.")


def test_sentence_falling_and_flat():
    falling = series("2025-01", [1400, 1380, 1360, 1340, 1320, 1300])  # 70 -> 65 %: -1 point = -20 a month
    assert say(falling, progress.Target(80, "2025-12"), "2025-06") == (
        "Cần tăng thêm 50 hồ sơ/tháng (2,5\u00a0điểm\u00a0%/tháng) để đạt 80\u00a0% trước 12/2025; "
        "nhưng 6 tháng qua lại giảm 20 hồ sơ/tháng (1,0\u00a0điểm\u00a0%/tháng); nếu giữ xu hướng này sẽ không đạt.")
    flat = series("2025-01", [1300] * 6)
    assert say(flat, progress.Target(80, "2025-12"), "2025-06").endswith(
        "; nhưng 6 tháng qua không thay đổi; nếu giữ xu hướng này sẽ không đạt.")


def test_sentence_without_a_pace():
    one = series("2025-06", [1300])
    assert say(one, progress.Target(80, "2025-12"), "2025-06") == (
        "Cần tăng thêm 50 hồ sơ/tháng (2,5\u00a0điểm\u00a0%/tháng) để đạt 80\u00a0% trước 12/2025; "
        "chưa đủ số liệu 6 tháng qua để tính tốc độ.")


def test_sentence_target_met_and_deadlines():
    met = series("2025-01", [1920])  # 96 %
    assert say(met, progress.Target(95, "2025-12"), "2025-01") == \
        "Đã đạt mục tiêu 95\u00a0% (hạn 12/2025): hiện đạt 96,0\u00a0%."
    late = series("2025-06", [1400] + [1400] * 9)  # 70 % through 2026-03
    assert say(late, progress.Target(95, "2025-12"), "2026-03") == (
        "Đã quá hạn 12/2025 mà chưa đạt mục tiêu 95\u00a0%: hiện đạt 70,0\u00a0%, "
        "còn thiếu 500 hồ sơ (25,0\u00a0điểm\u00a0%).")
    fell = [Obs("2025-12", 1920, 2000), Obs("2026-03", 1800, 2000)]  # 96 % at the deadline, 90 % now
    assert say(fell, progress.Target(95, "2025-12"), "2026-03") == (
        "Đã đạt mục tiêu 95\u00a0% đúng hạn 12/2025, nhưng nay giảm còn 90,0\u00a0%: "
        "thiếu 100 hồ sơ (5,0\u00a0điểm\u00a0%).")
    caught_up = [Obs("2025-12", 1800, 2000), Obs("2026-03", 1920, 2000)]  # 90 % at the deadline, 96 % now
    assert say(caught_up, progress.Target(95, "2025-12"), "2026-03") == \
        "Đã quá hạn 12/2025 nhưng nay đã đạt mục tiêu 95\u00a0%: hiện đạt 96,0\u00a0%."
    in_time = [Obs("2025-11", 1920, 2000), Obs("2026-03", 1940, 2000)]  # 96 % before the deadline, 97 % now
    assert say(in_time, progress.Target(95, "2025-12"), "2026-03") == \
        "Đã đạt mục tiêu 95\u00a0% đúng hạn 12/2025: hiện đạt 97,0\u00a0%."
    # Without the observations the sentence does not claim either.
    prog = progress.evaluate(in_time, progress.Target(95, "2025-12"), "2026-03")
    assert uv.sentence(prog, IND, "vi") == "Đã đạt mục tiêu 95\u00a0% (hạn 12/2025): hiện đạt 97,0\u00a0%."
    due = [Obs("2025-11", 1780, 2000), Obs("2025-12", 1800, 2000)]
    assert say(due, progress.Target(95, "2025-12"), "2025-12") == (
        "Hạn là tháng này (12/2025) mà còn thiếu 100 hồ sơ (5,0\u00a0điểm\u00a0%) để đạt 95\u00a0%: "
        "hiện đạt 90,0\u00a0%.")


def test_sentence_no_data_and_no_target():
    assert say([], progress.Target(95, "2025-12"), "2025-10") == "Chưa có số liệu báo cáo kỳ 10/2025."
    # The unit was silent in July; the last figure known is June's.
    prog = dataclasses.replace(progress.evaluate(RISING, progress.Target(95, "2025-12"), "2025-07"), status="no_data")
    assert uv.sentence(prog, IND, "vi", "2025-07") == \
        "Chưa có số liệu báo cáo kỳ 07/2025. Số liệu gần nhất: 70,0\u00a0% (06/2025)."
    assert say(RISING, None, "2025-06") == \
        "Chưa có mục tiêu cho chỉ tiêu này; hiện đạt 70,0\u00a0%. 6 tháng qua đạt 40 hồ sơ/tháng (2,0\u00a0điểm\u00a0%/tháng)."


def test_sentence_lower_is_better_and_money():
    lower = {**IND, "higher_is_better": False}
    falling = series("2025-01", [600, 560, 520, 480, 440, 400])  # 30 -> 20 %, -2 points a month: improving
    # (10 - 20) / 6 = -1,67 points = -33 a month; ceil(10 / 2) = 5 months -> 11/2025.
    assert say(falling, progress.Target(10, "2025-12"), "2025-06", ind=lower) == (
        "Cần giảm 33 hồ sơ/tháng (1,7\u00a0điểm\u00a0%/tháng) để xuống 10\u00a0% trước 12/2025; "
        "6 tháng qua giảm 40 hồ sơ/tháng (2,0\u00a0điểm\u00a0%/tháng); theo tốc độ này sẽ đạt vào 11/2025.")
    fees = [Obs("2025-12", 40e9, 100e9)]  # 40 % of 100 tỷ against 50 %: 10 tỷ short, due now
    assert say(fees, progress.Target(50, "2025-12"), "2025-12", ind=MONEY).startswith(
        "Hạn là tháng này (12/2025) mà còn thiếu 10,0\u00a0tỷ đồng (10,0\u00a0điểm\u00a0%)")


def test_a_pace_that_rounds_to_nothing_is_given_in_points_only():
    tiny = [Obs("2025-05", 5, 8), Obs("2025-06", 5.001, 8)]  # + 0,0125 points = 0,001 hospitals a month
    ind = {**IND, "unit_vi": "bệnh viện"}
    text = say(tiny, progress.Target(100, "2025-12"), "2025-06", ind=ind)
    assert "6 tháng qua đạt 0,0\u00a0điểm\u00a0%/tháng" in text and "0 bệnh viện" not in text


# --- the projection cone -----------------------------------------------------------------------------

def test_cone_by_hand():
    obs = [Obs("2025-03", 60, 100), Obs("2025-04", 62, 100), Obs("2025-05", 66, 100), Obs("2025-06", 67, 100)]
    prog = progress.evaluate(obs, progress.Target(80, "2025-09"), "2025-06")
    # Least squares over x = 0..3, y = 60, 62, 66, 67: sxy = 12,5, sxx = 5 -> 2,5 points a month,
    # line 60 + 2,5x: residuals 0, -0,5, 1, -0,5 -> SSR 1,5; se = sqrt(1,5 / 2 / 5) = sqrt(0,15).
    assert prog.actual_pace == pytest.approx(2.5)
    se = 0.15 ** 0.5
    assert uv.pace_error(obs, "2025-06") == pytest.approx(se)
    cone = uv.cone(prog, uv.pace_error(obs, "2025-06"))
    assert list(cone["month"]) == ["2025-06", "2025-07", "2025-08", "2025-09"]
    assert list(cone["centre"]) == pytest.approx([67, 69.5, 72, 74.5])
    assert list(cone["low"]) == pytest.approx([67 + (2.5 - se) * k for k in range(4)])
    assert list(cone["high"]) == pytest.approx([67 + (2.5 + se) * k for k in range(4)])
    assert cone["centre"].iloc[-1] == pytest.approx(prog.projected_value)


def test_cone_window_clipping_and_when_there_is_none():
    steady = [Obs("2025-01", 10, 100), Obs("2025-03", 14, 100), Obs("2025-04", 16, 100)]
    # On a straight line (2 points a month, the missing February does not matter): no error at all.
    assert uv.pace_error(steady, "2025-04") == pytest.approx(0.0, abs=1e-9)
    # Only the last 6 months (2024-11 .. 2025-04) count: a wild 2024-10 point changes nothing.
    assert uv.pace_error([Obs("2024-10", 90, 100)] + steady, "2025-04") == pytest.approx(0.0, abs=1e-9)
    assert uv.pace_error(steady[:2], "2025-03") is None  # two points: a line, no error to estimate
    jumpy = [Obs("2025-01", 10, 100), Obs("2025-02", 90, 100), Obs("2025-03", 20, 100), Obs("2025-04", 95, 100)]
    prog = progress.evaluate(jumpy, progress.Target(99, "2025-12"), "2025-04")
    cone = uv.cone(prog, uv.pace_error(jumpy, "2025-04"))
    # Slope 18,5 points a month from 95 %: far above 100 % unclipped; shown clipped at 100 %.
    assert prog.actual_pace == pytest.approx(18.5) and cone["high"].max() == 100.0
    assert ((cone[["low", "centre", "high"]] >= 0) & (cone[["low", "centre", "high"]] <= 100)).all().all()
    assert uv.cone(progress.evaluate(steady, progress.Target(99, "2025-02"), "2025-04"), 1.0).empty  # passed
    assert uv.cone(progress.evaluate(steady, progress.Target(15, "2025-12"), "2025-04"), 1.0).empty  # met
    assert uv.cone(progress.evaluate(steady[:1], progress.Target(99, "2025-08"), "2025-01"), None).empty
    line_only = uv.cone(progress.evaluate(steady[:2], progress.Target(99, "2025-08"), "2025-03"), None)
    assert list(line_only["low"]) == list(line_only["centre"]) == list(line_only["high"])


# --- the page on the tiny world --------------------------------------------------------------------

@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


@pytest.fixture
def unit_page():
    _targets, unit = import_pages()
    return unit


def test_world_commune_page(world, unit_page):
    tree = unit_page.layout(code="00004", period="2025-09")
    ids = by_id(tree)
    assert float(getattr(ids["unit-value-stockind"], "data-value")) == pytest.approx(70.0)
    assert text_of(ids["unit-status-stockind"]) == "↗ Đúng tiến độ"  # the icon beside the colour
    # Inherited from the province: 80 % by 12/2025; 10 people short.
    assert "Kế thừa mục tiêu của Tỉnh Thử" in text_of(ids["unit-target-stockind"])
    # 80 % of 100 people is 80; 70 have it: 10 short (by hand). The whole: 30 without.
    assert text_of(ids["unit-gap-stockind"]).startswith("Còn thiếu 10 người để đạt 80\u00a0% (còn thiếu 10,0\u00a0điểm\u00a0%)")
    assert text_of(ids["unit-gap-stockind"]).endswith("Còn 30 người")
    # Communes with a September figure: 00006 92 %, 00004 70 %, 00008 10 %.
    assert text_of(ids["unit-rank-stockind"]) == "Xếp hạng 2/3 xã/phường"
    # flowind beneath 00004: BV1 50/100 + TYT4 2/4 = 52/104 = 50 %: met.
    assert float(getattr(ids["unit-value-flowind"], "data-value")) == pytest.approx(50.0)
    crumbs = text_of(ids["unit-breadcrumb"])
    assert crumbs == "Tỉnh ThửKhu vực MộtPhường Bốn"
    assert sorted(k[len("unit-children-row-"):] for k in by_id(tree, "unit-children-row-")) == ["BV1", "TYT4"]


def test_world_zone_page_has_its_own_target_and_children(world, unit_page):
    ids = by_id(unit_page.layout(code="002", period="2025-09"))
    assert "Mục tiêu riêng của đơn vị" in text_of(ids["unit-target-stockind"])
    assert sorted(k[len("unit-children-row-"):] for k in ids if k.startswith("unit-children-row-")) == \
        ["00006", "00008"]  # 00007 ended in June
    assert text_of(ids["unit-reporting-stockind"]) == "Báo cáo: 2/2 (100,0\u00a0%)"
    silent = by_id(unit_page.layout(code="001", period="2025-09"))
    assert text_of(silent["unit-missing-stockind"]) == "Chưa báo cáo: Xã Năm"


def test_world_target_scope(world):
    assert uv.target_scope("stockind", "00006", "2025-09") == "002"
    assert uv.target_scope("stockind", "00004", "2025-09") == "01"
    assert uv.target_scope("flowind", "BV2", "2025-09") == "01"


def test_unknown_code_and_bad_period_are_friendly(world, unit_page):
    ids = by_id(unit_page.layout(code="khong-co"))
    assert "khong-co" in text_of(ids["unit-not-found"])
    tree = unit_page.layout(code="001", period="2025-99", lang="en")
    warnings = [text_of(c) for c in walk(tree) if "param-warning" in (getattr(c, "className", "") or "")]
    assert len(warnings) == 1 and "2025-99" in warnings[0]
    assert "unit-value-stockind" in by_id(tree)  # and the page still shows the latest month


# --- the page on the demo ------------------------------------------------------------------------------

def test_demo_zone_page_numbers(demo_db, demo_data, unit_page):
    zone = "288"
    ids = by_id(unit_page.layout(code=zone, period="2026-10"))
    zones = rollup(demo_data, "hssk", ["2026-10"], "district")
    assert float(getattr(ids["unit-value-hssk"], "data-value")) == pytest.approx(zones.loc[zone, "value"])
    rank = int(zones["value"].rank(ascending=False, method="min")[zone])
    assert text_of(ids["unit-rank-hssk"]) == f"Xếp hạng {rank}/27 khu vực"
    children = {k[len("unit-children-row-"):] for k in ids if k.startswith("unit-children-row-")}
    communes = set(demo_data.units[demo_data.units["parent_code"] == zone]["code"])
    assert children == communes | {f"TTYT{zone}"}
    # Each child's cell is the child's own figure.
    communes_now = rollup(demo_data, "hssk", ["2026-10"], "commune")
    for code in communes:
        cell = ids[f"unit-children-{code}-hssk"]
        value = getattr(cell, "data-value")
        if value:
            assert float(value) == pytest.approx(communes_now.loc[code, "value"])
    assert ids["unit-sentence-hssk"].children.endswith(".")
    # Indicators only the department reports are listed as not applicable to a zone.
    assert "TTHC" in text_of(ids["unit-not-applicable"])
    # The status shown is the scorecard's.
    cells = sc.cells("2026-10", "district", indicators=["hssk"]).set_index("code")
    assert text_of(ids["unit-status-hssk"]).endswith(
        {"on_track": "Đúng tiến độ", "achieved": "Đạt", "at_risk": "Chậm", "off_track": "Không đạt tiến độ",
         "overdue": "Quá hạn – chưa đạt", "no_data": "Chưa báo cáo"}[cells.loc[zone, "status"]])


# --- in Chromium -------------------------------------------------------------------------------

@pytest.mark.browser
def test_scorecard_and_unit_page_in_chromium(live_server, page, demo_data):
    page.goto(live_server.url + "/targets")
    page.wait_for_selector("#sc-table-288-hssk", timeout=60_000)
    zones = rollup(demo_data, "hssk", ["2026-10"], "district")
    for zone in ("288", "317", "299"):
        text = page.inner_text(f"#sc-table-{zone}-hssk")
        assert text.startswith(vi_percent(zones.loc[zone, "value"])), text
    assert page.locator("#sc-table tbody tr").count() == 27
    # Sort by the HSSK column, lowest first, by clicking its heading.
    page.click("#sc-table thead >> text=Hồ sơ sức khỏe điện tử")
    page.wait_for_url(re.compile(r".*sort=hssk.*"), timeout=30_000)
    page.wait_for_selector("#sc-table-h-hssk[aria-sort=ascending]", timeout=30_000)
    first = page.locator("#sc-table tbody tr").first.get_attribute("id")
    assert first == f"sc-table-row-{zones['value'].idxmin()}"
    # Only the units behind target.
    page.goto(live_server.url + "/targets?level=commune&behind=1")
    page.wait_for_selector("#sc-table", timeout=60_000)
    statuses = page.eval_on_selector_all("#sc-table tbody tr", "rows => rows.map(r => Array.from("
                                         "r.querySelectorAll('td[data-status]')).map(c => c.dataset.status))")
    assert statuses and all(set(BEHIND) & set(row) for row in statuses)

    # From the overview's "who has not reported" link to the list on the scorecard.
    page.goto(live_server.url + "/")
    page.wait_for_selector("#kpi-missing-hssk", timeout=60_000)
    page.click("#kpi-missing-hssk")
    page.wait_for_selector("#sc-missing-hssk", timeout=60_000)
    current = demo_data.units[(demo_data.units["level"] == "commune") & demo_data.units["valid_to"].isna()]
    silent = set(current["code"]) - set(
        demo_data.values[(demo_data.values["indicator"] == "hssk") & (demo_data.values["period"] == "2026-10")]
        ["entity_code"])
    listed = page.inner_text("#sc-missing-hssk")
    assert all(f"({code})" in listed for code in silent)

    page.goto(live_server.url + "/unit/288")
    page.wait_for_selector("#unit-value-hssk", timeout=60_000)
    assert page.inner_text("#unit-value-hssk") == vi_percent(zones.loc["288", "value"])
    assert page.inner_text("#unit-sentence-hssk").endswith(".")
    page.wait_for_selector("#unit-trend-hssk .main-svg", timeout=30_000)
    # Up the breadcrumb to the city.
    page.click("#unit-breadcrumb >> text=Thành phố Hải Phòng")
    page.wait_for_url(re.compile(r".*/unit/31.*"), timeout=30_000)
    page.wait_for_selector("#unit-name:has-text('Thành phố Hải Phòng')", timeout=60_000)
    city = rollup(demo_data, "hssk", ["2026-10"], "province").loc["31", "value"]
    page.wait_for_selector("#unit-value-hssk", timeout=60_000)
    assert page.inner_text("#unit-value-hssk") == vi_percent(city)
    # An unknown code: a friendly page.
    with urllib.request.urlopen(live_server.url + "/unit/khong-co") as resp:
        assert resp.status == 200
    page.goto(live_server.url + "/unit/khong-co")
    page.wait_for_selector("#unit-not-found", timeout=60_000)
    assert "khong-co" in page.inner_text("#unit-not-found")
    page.screenshot(path=str(live_server.db_path.parent / "unit-not-found.png"))


def test_demo_unit_page_says_the_change_since_last_month_and_last_year(demo_db, demo_data, unit_page):
    ids = by_id(unit_page.layout(code="288", period="2026-10"))
    now = rollup(demo_data, "hssk", ["2026-10"], "district").loc["288", "value"]
    before = rollup(demo_data, "hssk", ["2026-09"], "district").loc["288", "value"]
    year = rollup(demo_data, "hssk", ["2025-10"], "district")
    diff = now - before
    size = f"{abs(diff):.1f}".replace(".", ",")
    month = ("Không đổi so với tháng trước" if size == "0,0" else
             f"{'Tăng' if diff > 0 else 'Giảm'} {size}\u00a0điểm\u00a0% so với tháng trước")
    text = text_of(ids["unit-change-hssk"])
    assert text.startswith(month)
    if year["value"].get("288") != year["value"].get("288") or year["value"].get("288") is None:
        assert text.endswith("So với cùng kỳ năm trước: chưa có số liệu")
    else:
        assert "so với cùng kỳ năm trước" in text and "chưa có số liệu" not in text
