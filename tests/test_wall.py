"""Wall screen (/wall): URL configuration, staleness rule, slides, and in Chromium: it renders,
rotates, stays legible at 1080p and 4K, keeps its last figures when the database or the
whole server fails, and recovers by itself."""
from __future__ import annotations

import json
import re
import time
import uuid
from datetime import date

import pytest

from dashboard.theme import BEHIND
from sqlalchemy import create_engine, text

from dashboard import figures, request, slides
from dashboard.wallconfig import wall_config
from tests import browser_helpers
from tests.browser_helpers import LiveServer
from tests.conftest import PG_URL, require_postgres

HEADLINES = ["emr", "cashless", "hssk", "tthc_online"]
KNOWN = HEADLINES + ["tyt_software"]


def parse(**query):
    return wall_config(request.read("wall", query))


# --- URL configuration --------------------------------------------------------------------

def test_url_configuration_is_read_and_validated(demo_db):
    cfg, notes = parse(indicators="hssk,bogus,emr,hssk", rotate="45", refresh="600", theme="light", lang="en")
    assert cfg == {"indicators": ["hssk", "emr"], "rotate": 45, "refresh": 600, "theme": "light", "lang": "en"}
    assert len(notes) == 1 and "bogus" in notes[0]


def test_bad_values_fall_back_or_are_clamped(demo_db):
    cfg, notes = parse(indicators="", rotate="abc", refresh="999999", theme="neon", lang="xx")
    assert cfg["rotate"] == 30 and cfg["refresh"] == 3600 and cfg["theme"] == "dark" and cfg["lang"] == "vi"
    assert len(notes) == 4  # rotate unreadable, refresh clamped, theme unknown, language unknown
    assert cfg["indicators"] == HEADLINES
    cfg, _ = parse(rotate="0", refresh="1")
    assert cfg["rotate"] == 1 and cfg["refresh"] == 2


def test_test_range_rotation_is_allowed_and_noted(demo_db):
    cfg, notes = parse(rotate="1")
    assert cfg["rotate"] == 1
    assert any("1" in n for n in notes)
    cfg, notes = parse(rotate="5")
    assert cfg["rotate"] == 5 and notes == []


# --- staleness rule -------------------------------------------------------------------------

@pytest.mark.parametrize("today,expected", [
    (date(2026, 11, 21), "2026-10"),  # after the 15th: last month is due
    (date(2026, 11, 15), "2026-09"),  # up to the 15th: the month before
    (date(2026, 1, 3), "2025-11"),
])
def test_expected_month(today, expected):
    assert slides.expected_month(today) == expected


def test_stale_reason():
    today = date(2026, 11, 21)
    assert slides.stale_reason("2026-10", "2026-10", today) is None
    assert slides.stale_reason("2026-09", "2026-10", today) == "behind_others"
    assert slides.stale_reason("2026-08", "2026-08", today) == "overdue"
    assert slides.stale_reason(None, "2026-10", today) is None


# --- slides from the demo province ------------------------------------------------------------

def independent_hssk(demo, month: str) -> float:
    """Province value of hssk (communes report it; a stock): sum N / sum D over the month."""
    communes = set(demo.units[demo.units["level"] == "commune"]["code"])
    rows = demo.values[(demo.values["indicator"] == "hssk") & (demo.values["period"] == month)
                       & demo.values["entity_code"].isin(communes)]
    return 100.0 * rows["numerator"].sum() / rows["denominator"].sum()


def test_cards_and_behind_lists_come_from_the_figures(demo_db, demo_data):
    root = figures.root_code()
    card = slides.card("hssk", None, root, "vi", today=date(2026, 11, 21))
    assert card.period == "2026-10"
    assert card.value == pytest.approx(independent_hssk(demo_data, "2026-10"))
    assert card.stale is None
    behind = slides.units_behind("hssk", None, root, "vi", n=50)
    gaps = [(r["status"], r["value"]) for r in behind["rows"]]
    assert all(s in BEHIND for s, _ in gaps)
    # overdue, then off track, then at risk, and within a status the largest gap (lowest value) first
    order = [BEHIND.index(s) for s, _ in gaps]
    assert order == sorted(order)
    for status in BEHIND:
        values = [v for s, v in gaps if s == status]
        assert values == sorted(values)


def test_an_indicator_lagging_the_others_is_greyed(demo_db):
    root = figures.root_code()
    # Seen from a month after the data: everything is overdue, with the month it is from.
    card = slides.card("hssk", None, root, "vi", today=date(2027, 3, 1))
    assert card.stale == "overdue" and "10/2026" in card.stale_text


# --- in Chromium -----------------------------------------------------------------------------

EXPECTED_NETWORK_ERRORS = ("Failed to load resource: net::ERR_CONNECTION_REFUSED",
                           "Failed to load resource: net::ERR_CONNECTION_RESET",  # killed mid-request
                           "Failed to load resource: net::ERR_EMPTY_RESPONSE",  # killed before answering
                           "Failed to load resource: net::ERR_CONTENT_LENGTH_MISMATCH",  # killed mid-answer
                           "Callback failed: the server did not respond")


def visible_slide(page) -> str:
    return page.get_attribute("#wall-root", "data-slide") or ""


@pytest.mark.browser
def test_wall_renders_and_rotates_by_itself(live_server, page, demo_data):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/wall?rotate=1&refresh=300&indicators=hssk,emr,nope")
    page.wait_for_selector("#wall-value-hssk", state="attached", timeout=30_000)
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(set(seen)) < 5:
        seen.append(visible_slide(page))
        page.wait_for_timeout(300)
    slides_seen = [s for s in dict.fromkeys(seen) if s]
    assert len(slides_seen) >= 5, slides_seen
    assert {"wall-slide-overview", "wall-slide-map-hssk", "wall-slide-behind"} <= set(
        page.eval_on_selector_all(".wall-slide", "els => els.map(e => e.id)"))
    # the figure is the independent one, in Vietnamese format
    value = float(page.get_attribute("#wall-value-hssk", "data-value"))
    assert value == pytest.approx(independent_hssk(demo_data, "2026-10"))
    # no navigation, no controls, no scroll bars
    assert page.query_selector("nav, .navbar, select, input, button") is None
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
                          " window.innerWidth, window.innerHeight]")
    assert sizes[0] <= sizes[2] and sizes[1] <= sizes[3]
    # every slide carries the clock and the data stamp (they sit in the frame around the slides)
    assert page.text_content("#wall-until") == "Số liệu đến tháng 10/2026"
    assert "Dữ liệu minh họa" in page.text_content("#wall-demo")
    clock1 = page.text_content("#wall-clock")
    page.wait_for_timeout(1200)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", page.text_content("#wall-clock")) and page.text_content("#wall-clock") != clock1
    # the unknown code is dropped, discreetly
    assert "nope" in page.text_content("#wall-notes")


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_is_legible_across_a_room(live_server, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/wall?rotate=600")
    page.wait_for_selector("#wall-value-hssk", timeout=30_000)
    px = page.evaluate("""() => {
        const size = s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
        return {body: size('.wall'), muted: size('.wall-card .wall-muted'), big: size('.wall-big'),
                clock: size('.wall-clock')};
    }""")
    scale = height / 1080
    assert px["body"] >= 28 * scale - 0.5 and px["muted"] >= 28 * scale - 0.5
    assert px["big"] >= 3 * px["body"] and px["clock"] >= 2 * px["body"]
    # wall.js leaves the stylesheet's "1" in place at 1080p and writes "2.0000" at 4K: compare numbers.
    wall_k = page.evaluate("getComputedStyle(document.querySelector('#wall-root')).getPropertyValue('--wall-k')")
    assert float(wall_k) == pytest.approx(scale)


def _wait_for(page, predicate_js: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(predicate_js):
            return True
        page.wait_for_timeout(250)
    return False


BANNER_SHOWN = "document.querySelector('#wall-banner').classList.contains('is-visible')"
# Dash's error pop-ups and debug menu (dev tools UI is off outside debug: none may appear)
ERROR_BOX = ".dash-fe-error__title, .dash-fe-errors, .dash-debug-menu, .dash-debug-menu__outer"


def _figures_on_screen(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('[id^=wall-value-]')].map(e => [e.id, e.textContent]))""")


@pytest.mark.browser
def test_database_failure_keeps_the_last_figures_then_recovers(browser, tmp_path):
    """PostgreSQL: the server's schema is renamed away (every query fails: 'relation does not
    exist'), then renamed back. Nothing in the product is told: this is a real outage."""
    require_postgres()
    schema = f"w_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    server = LiveServer(tmp_path, env_extra={"DATABASE_URL": url})
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    try:
        page.goto(server.url + "/wall?rotate=1&refresh=2")
        page.wait_for_selector("#wall-value-hssk", state="attached", timeout=30_000)
        before = _figures_on_screen(page)
        assert before["wall-value-hssk"] and before["wall-value-hssk"] != "—"
        with admin.begin() as conn:
            conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_away"'))
        assert _wait_for(page, BANNER_SHOWN, 20), "no banner after the database went away"
        banner = page.text_content("#wall-banner")
        assert re.search(r"đang hiển thị số liệu lúc \d\d:\d\d", banner), banner
        status = json.loads(page.text_content("#wall-status"))
        assert status["ok"] is False
        page.wait_for_timeout(3000)  # more failed refreshes: still the same figures, still rotating
        assert _figures_on_screen(page) == before
        slide = visible_slide(page)
        page.wait_for_timeout(2500)
        assert visible_slide(page) != slide
        with admin.begin() as conn:
            conn.execute(text(f'ALTER SCHEMA "{schema}_away" RENAME TO "{schema}"'))
        assert _wait_for(page, f"!{BANNER_SHOWN}", 20), "the banner did not go away after recovery"
        assert _figures_on_screen(page) == before
        assert "Traceback" not in page.content()
        assert page.query_selector(ERROR_BOX) is None
        assert errors == [], errors  # the server answered throughout: no error at all in the browser
        assert "wall refresh failed" in server.log()
    finally:
        context.close()
        server.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_away" CASCADE'))
        admin.dispose()


@pytest.mark.browser
def test_server_killed_keeps_the_screen_then_recovers(browser, tmp_path, monkeypatch):
    server = LiveServer(tmp_path)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    restarted = None
    try:
        page.goto(server.url + "/wall?rotate=1&refresh=2")
        page.wait_for_selector("#wall-value-hssk", state="attached", timeout=30_000)
        before = _figures_on_screen(page)
        n_slides = page.evaluate("document.querySelectorAll('.wall-slide').length")
        server.proc.kill()  # the whole process, at once
        server.proc.wait(10)
        assert _wait_for(page, BANNER_SHOWN, 30), "no banner after the server died"
        assert "Mất kết nối" in page.text_content("#wall-banner")
        assert _figures_on_screen(page) == before
        assert page.query_selector(ERROR_BOX) is None
        assert page.evaluate("document.querySelectorAll('.wall-slide').length") == n_slides
        slide = visible_slide(page)
        page.wait_for_timeout(2500)
        assert visible_slide(page) != slide, "rotation stopped with the server"
        # the same server comes back on the same port: the screen recovers by itself
        monkeypatch.setattr(browser_helpers, "free_port", lambda: server.port)
        for attempt in range(3):  # the port may be taken for a moment by another process on the machine
            try:
                restarted = LiveServer(tmp_path)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                time.sleep(2)
        assert _wait_for(page, f"!{BANNER_SHOWN}", 30), "no recovery after the server came back"
        assert _figures_on_screen(page) == before
        # No 400 from the restarted server: its first requests are callbacks of this open screen, judged
        # against the callbacks Dash registers at a process's first request (dashboard.security._DashSetup).
        unexpected = [e for e in errors if not any(x in e for x in EXPECTED_NETWORK_ERRORS)]
        assert unexpected == [], unexpected
        assert any(x in e for e in errors for x in EXPECTED_NETWORK_ERRORS)  # the outage did happen
    finally:
        context.close()
        if restarted is not None:
            restarted.stop()
        server.stop()


@pytest.mark.browser
def test_new_data_arrives_without_a_reload_and_a_lagging_figure_is_greyed(browser, tmp_path):
    """A load that removes October for cashless (so its latest month is September while the others
    have October) reaches the open wall at the next refresh, with no page reload: the card turns
    grey with the month it is from."""
    from dashboard import aggregates, store
    from dashboard.database import make_engine

    server = LiveServer(tmp_path)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(server.url + "/wall?rotate=600&refresh=2")
        page.wait_for_selector("#wall-value-cashless", state="attached", timeout=30_000)
        page.evaluate("window.__same_page = 1")
        card = "document.querySelector('#wall-value-cashless').closest('.wall-card')"
        assert not page.evaluate(f"{card}.classList.contains('is-stale')")
        engine = make_engine(f"sqlite:///{server.db_path}")
        with store.write_transaction(engine) as conn:
            conn.execute(text("DELETE FROM kpi_values WHERE indicator_code = 'cashless' AND period = '2026-10'"))
            aggregates.touched(conn).values("cashless", {"2026-10"})  # raw SQL: say what changed
        engine.dispose()
        assert _wait_for(page, f"{card}.classList.contains('is-stale')", 20), "the lagging figure was not greyed"
        assert "09/2026" in page.evaluate(f"{card}.querySelector('.wall-stale-note').textContent")
        assert page.evaluate("window.__same_page") == 1  # refreshed in place, not reloaded
        assert page.text_content("#wall-until") == "Số liệu đến tháng 10/2026"
        assert errors == [], errors
    finally:
        context.close()
        server.stop()


# --- units behind: full names, "+N", maps that name them, the other indicators ----------------

def _behind_expected(code: str) -> tuple[int, int, set[str]]:
    """(behind, total, names) for the zones of the province, straight from the figures frame."""
    frame = figures.figures(code, figures.latest_month(code), "district", figures.root_code())
    behind = frame[frame["status"].isin(BEHIND)]
    return len(behind), len(frame), set(behind["name"])


def _show(page, key: str) -> None:
    """Make one slide visible without waiting for the rotation (layout is the same either way)."""
    page.evaluate("""k => { let st = document.getElementById('test-show');
        if (!st) { st = document.createElement('style'); st.id = 'test-show'; document.head.appendChild(st); }
        st.textContent = '.wall-slide{visibility:hidden!important} #wall-slide-' + k + '{visibility:visible!important;opacity:1!important}'; }""", key)


BLOCKS_JS = """() => [...document.querySelectorAll('.wall-fit')].map(b => ({
    id: b.id, behind: +b.querySelector('.wall-behind-count').dataset.behind,
    total: +b.querySelector('.wall-behind-count').dataset.total,
    shown: [...b.querySelectorAll('.wall-unit')].filter(li => !li.hidden).map(li => li.querySelector('.wall-unit-name').textContent),
    cut: [...b.querySelectorAll('.wall-unit')].filter(li => !li.hidden).some(li => {
        const n = li.querySelector('.wall-unit-name'); return n.scrollWidth > n.clientWidth + 1; }),
    more: b.querySelector('.wall-more') ? +b.querySelector('.wall-more').dataset.more : 0,
    moreText: b.querySelector('.wall-more') && !b.querySelector('.wall-more').hidden ? b.querySelector('.wall-more').textContent : '',
    overflow: b.scrollHeight > b.clientHeight + 1, fitted: b.dataset.fitted || ''}))"""


SQLITE_ONLY = pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)  # the live server's own is SQLite


@pytest.mark.browser
@SQLITE_ONLY
@pytest.mark.parametrize("width,height", [(1920, 1080), (1280, 720)])
def test_units_behind_show_full_names_and_say_how_many_more(live_server, page, demo_db, width, height):
    """Every unit behind is either listed by its full name (never cut) or counted in "+N": the
    list and "+N" add up to the "k/27 khu vực" above them. At 1280×720 hssk's nine do not fit."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/wall?rotate=600")
    page.wait_for_selector(".wall-fit[data-fitted]", state="attached", timeout=30_000)
    page.wait_for_timeout(600)  # web fonts in: wall.js fits again when document.fonts is loaded
    blocks = {b["id"].removeprefix("wall-behind-"): b for b in page.evaluate(BLOCKS_JS)}
    assert set(blocks) == set(HEADLINES)
    zones = set(figures.units().query("level == 'district'")["name"])
    for code, b in blocks.items():
        behind, total, names = _behind_expected(code)
        assert (b["behind"], b["total"]) == (behind, total), code
        assert len(b["shown"]) + b["more"] == behind, (code, b)
        assert set(b["shown"]) <= names and set(b["shown"]) <= zones, b["shown"]  # full names, no "…"
        assert not b["cut"] and not b["overflow"], b
        if b["more"]:
            assert b["moreText"].startswith(f"+{b['more']} ") and "khu vực" in b["moreText"]
    if height == 720:
        assert blocks["hssk"]["more"] > 0  # nine zones behind do not fit a small screen: "+N" said
    else:  # a full-HD screen lists most of them by name (each may carry a partial-reporting caveat)
        assert len(blocks["hssk"]["shown"]) >= 7


@pytest.mark.browser
@SQLITE_ONLY
def test_wall_maps_name_the_units_behind_and_the_legend_stays_off_the_land(live_server, page, demo_db):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/wall?rotate=600&indicators=hssk,emr,tthc_online,tyt_software")
    page.wait_for_selector("#wall-slide-map-hssk .js-plotly-plot", state="attached", timeout=30_000)
    _show(page, "map-hssk")
    page.wait_for_timeout(500)
    got = page.evaluate("""() => {
        const g = document.querySelector('#wall-slide-map-hssk .js-plotly-plot');
        const labels = g.data.find(tr => tr.name === 'labels');
        const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const land = [...g.querySelectorAll('.choroplethlocation')].map(box);
        return {codes: labels ? labels.customdata : [], text: labels ? labels.text : [],
                legend: box(g.querySelector('.legend')), land: land,
                notes: [...g.querySelectorAll('.annotation-text')].map(a => a.textContent)};
    }""")
    frame = figures.figures("hssk", "2026-10", "district", figures.root_code())
    behind = frame[frame["status"].isin(BEHIND)]
    outside = {"Khu vực Bạch Long Vĩ"}  # 130 km out at sea: named in the note, not on the map
    expected = {c for c, n in zip(behind["code"], behind["name"]) if n not in outside}
    assert set(got["codes"]) == expected
    assert all("Khu vực" not in t_ for t_ in got["text"]) and len(got["text"]) == len(expected)
    lx0, ly0, lx1, ly1 = got["legend"]
    for x0, y0, x1, y1 in got["land"]:
        if x1 - x0 < 1:  # a shape too small to draw
            continue
        assert y0 >= ly1 - 1 or x0 >= lx1 or x1 <= lx0, "the legend covers land"
    assert any(n.startswith("Ngoài khung bản đồ: Khu vực Bạch Long Vĩ") for n in got["notes"]), got["notes"]
    assert not any("xem bảng" in n for n in got["notes"])  # no table on a wall map: no pointer to one


@pytest.mark.browser
@SQLITE_ONLY
def test_the_default_wall_shows_the_other_indicators_behind(live_server, page, demo_db):
    page.goto(live_server.url + "/wall?rotate=600")
    page.wait_for_selector("#wall-slide-others", state="attached", timeout=30_000)
    root = figures.root_code()
    others = [c for c in figures.indicators()["code"] if c not in HEADLINES]
    behind = {c for c in others if figures.headline(c, figures.latest_month(c), root).row.get("status") in BEHIND}
    assert behind  # the demo has three off track
    shown = set(page.eval_on_selector_all("#wall-slide-others [id^=wall-value-]",
                                          "els => els.map(e => e.id.replace('wall-value-', ''))"))
    assert shown == behind
    # a wall configured with its own indicators keeps to them
    page.goto(live_server.url + "/wall?rotate=600&indicators=hssk")
    page.wait_for_selector("#wall-slide-behind", state="attached", timeout=30_000)
    assert page.query_selector("#wall-slide-others") is None
