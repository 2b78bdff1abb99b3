"""In headless Chromium: the Content-Security-Policy lets every page, map and the wall work
with no violation, and a page open during a database outage shows the banner, then recovers
by itself without a reload."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.browser_helpers import LiveServer
from tests.conftest import PG_URL, require_postgres
from tests.fault_helpers import TcpProxy

CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '')));
"""
# Each page with what proves it drew: figures, maps (SVG paths of plotly's choropleth layer).
PAGES = [
    ("/", "#kpi-value-hssk"),
    ("/map", "#map-graph .choroplethlayer path"),
    ("/map?level=commune&unit=288", "#map-graph .choroplethlayer path"),
    ("/targets", "[id^=sc-table-row-]"),
    ("/unit/31?lang=en", "#unit-value-hssk"),
    ("/wall?rotate=2&indicators=hssk,emr", ".wall-map .choroplethlayer path"),
    ("/no-such-page", "#not-found-title"),
]


@pytest.mark.browser
def test_pages_maps_and_the_wall_work_under_the_csp(live_server, browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")  # CSP enforced
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.add_init_script(CSP_PROBE)
    for path, proof in PAGES:
        response = page.goto(live_server.url + path)
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self' 'sha256-" in csp and "frame-ancestors 'self'" in csp, path
        page.wait_for_selector(proof, state="attached", timeout=30_000)
        page.wait_for_timeout(300)  # late scripts (plotly's async bundle) get their chance to be refused
        assert page.evaluate("window.__csp") == [], (path, page.evaluate("window.__csp"))
    context.close()
    # No console error either (a refused script or style is one). The one expected: Chromium
    # reports the unknown page's own 404 status (it is the last page).
    assert len([e for e in errors if "status of 404" in e]) == 1
    assert [e for e in errors if "status of 404" not in e] == []


@pytest.mark.browser
def test_a_page_open_during_a_database_outage_recovers_without_a_reload(browser, tmp_path):
    require_postgres()
    schema = f"u_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(host="127.0.0.1", port=proxy.port).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    server = LiveServer(tmp_path, env_extra={"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "2"})
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(CSP_PROBE)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    try:
        pg.goto(server.url + "/")
        pg.wait_for_selector("#kpi-value-hssk", timeout=30_000)
        pg.click("a.nav-link-main[href='/map']")
        pg.wait_for_selector("#map-graph .choroplethlayer path", state="attached", timeout=30_000)
        pg.click("a.nav-link-main[href='/']")
        pg.wait_for_selector("#kpi-value-hssk", timeout=30_000)
        value = pg.get_attribute("#kpi-value-hssk", "data-value")
        pg.evaluate("window.__same_page = 1")

        proxy.cut()
        pg.click("a.nav-link-main[href='/map']")  # a page built during the outage
        pg.wait_for_selector("#outage-banner", timeout=30_000)
        banner = pg.text_content("#outage-banner")
        assert re.search(r"đang hiển thị số liệu lúc \d\d:\d\d", banner), banner
        pg.wait_for_selector("#map-graph .choroplethlayer path", state="attached", timeout=30_000)
        pg.click("a.nav-link-main[href='/']")
        pg.wait_for_selector("#outage-banner", timeout=30_000)
        assert pg.get_attribute("#kpi-value-hssk", "data-value") == value

        proxy.restore()
        pg.wait_for_selector("#outage-banner", state="detached", timeout=45_000)
        assert pg.get_attribute("#kpi-value-hssk", "data-value") == value
        assert pg.evaluate("window.__same_page") == 1  # re-rendered in place, not reloaded
        assert pg.evaluate("window.__csp") == []
        assert errors == [], errors
    finally:
        context.close()
        server.stop()
        proxy.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
