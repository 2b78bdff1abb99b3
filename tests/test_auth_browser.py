"""Accounts in headless Chromium against a real server (``python app.py``).

The server holds the demo with anonymous read turned off (ANONYMOUS_READ=false), so every
page needs a sign-in and the wall needs a token or a sign-in, as in production.
"""
from __future__ import annotations

import re

import pytest

from dashboard.auth import accounts, walltokens
from dashboard.database import make_engine
from dashboard.i18n import t
from tests.browser_helpers import LiveServer

PASSWORD = "mật khẩu đủ dài 2026"
#: Chromium logs a document answered 401/403 as a console error; those answers are the point here.
EXPECTED_STATUS = re.compile(r"Failed to load resource: the server responded with a status of 40[13]")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("accounts"), env_extra={"ANONYMOUS_READ": "false"})
    engine = make_engine(f"sqlite:///{server.db_path}")
    from dashboard import figures

    saved = figures._engine
    figures.set_engine(engine)  # the unit head's unit is checked against this database
    try:
        accounts.add_user(engine, "thu.ky", PASSWORD, "viewer", actor="test")
        accounts.add_user(engine, "kv288", PASSWORD, "unit", unit_code="288", actor="test")
    finally:
        figures.set_engine(saved)
    server.engine = engine
    yield server
    engine.dispose()
    server.stop()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None)
    yield pg
    context.close()
    unexpected = [e for e in errors if not EXPECTED_STATUS.search(e)]
    assert unexpected == [], unexpected


def sign_in(tab, server, username, password=PASSWORD, path="/", lang="vi"):
    tab.goto(server.url + path + (f"?lang={lang}" if lang != "vi" and "?" not in path else ""))
    tab.wait_for_selector("#login-form")
    tab.fill("#username", username)
    tab.fill("#password", password)
    tab.click("#login-submit")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sign_in_and_out_in_the_browser(closed_server, tab, lang):
    tab.goto(closed_server.url + f"/map?lang={lang}")
    assert "/login?next=" in tab.url  # nothing to see before signing in
    assert tab.text_content("h1") == t("auth_login_title", lang)
    font = tab.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Be Vietnam Pro" in font  # the app's own font and styles, not the browser's
    assert tab.evaluate("getComputedStyle(document.querySelector('.navbar')).backgroundColor") == "rgb(11, 83, 148)"
    tab.fill("#username", "thu.ky")
    tab.fill("#password", PASSWORD)
    tab.click("#login-submit")
    tab.wait_for_selector("#map-graph, #nav-logout", timeout=30_000)
    assert re.search(r"/map\?lang=" + lang + "$", tab.url)
    tab.wait_for_selector("#nav-logout")
    assert t("auth_nav_logout", lang) in tab.text_content("#nav-logout")
    tab.click("#nav-logout")
    tab.wait_for_selector("#logout-form")
    tab.click("#logout-submit")
    tab.wait_for_selector("#auth-notice")
    assert tab.text_content("#auth-notice").strip() == t("auth_logged_out", lang)
    tab.goto(closed_server.url + "/")
    assert "/login" in tab.url  # signed out for real


def test_a_wrong_password_is_refused_in_the_browser(closed_server, tab):
    sign_in(tab, closed_server, "thu.ky", "không phải mật khẩu")
    tab.wait_for_selector("#auth-error")
    assert tab.text_content("#auth-error").strip() == t("auth_login_failed", "vi")
    assert tab.input_value("#username") == "thu.ky" and tab.input_value("#password") == ""
    assert "/login" in tab.url


def test_a_unit_head_is_refused_another_zone_in_the_browser(closed_server, tab):
    sign_in(tab, closed_server, "kv288")
    tab.wait_for_selector("#unit-name", timeout=30_000)
    assert tab.url.endswith("/unit/288") and tab.text_content("#unit-name") == "Khu vực Hải Dương"
    # Inside the app: the breadcrumb's province link is drawn by Dash without a page load.
    tab.click("#unit-breadcrumb a")
    tab.wait_for_selector("#unit-forbidden", timeout=30_000)
    assert tab.text_content("#unit-forbidden") == "Không có quyền xem đơn vị này"
    assert tab.query_selector("[id^=unit-value-]") is None
    # Typed into the address bar: the server answers 403 with the same sentence.
    answer = tab.goto(closed_server.url + "/unit/303")
    assert answer.status == 403
    assert "Không có quyền xem đơn vị này" in tab.text_content("#auth-message")
    assert "Khu vực Hồng Bàng" not in tab.content()


def test_a_wall_screen_by_token_stops_at_the_next_refresh_once_revoked(closed_server, tab):
    token, raw = walltokens.create(closed_server.engine, "Phòng điều hành", actor="test")
    tab.set_viewport_size({"width": 1920, "height": 1080})
    tab.goto(closed_server.url + f"/wall?token={raw}&rotate=600&refresh=2")
    tab.wait_for_selector("#wall-value-hssk", state="attached", timeout=30_000)
    assert "/wall" in tab.url  # no detour through the sign-in page
    walltokens.revoke(closed_server.engine, token.id, actor="test")
    tab.wait_for_selector("#wall-denied", timeout=20_000)
    assert tab.text_content("#wall-denied") == t("auth_wall_token_revoked", "vi")
    assert tab.query_selector("[id^=wall-value-]") is None  # no figure left on screen
    assert tab.text_content("#wall-banner") == ""  # a reason, not a connection banner
    tab.wait_for_timeout(4500)  # more refreshes: still stopped, still no error
    assert tab.query_selector("#wall-denied") is not None and tab.query_selector("[id^=wall-value-]") is None


def test_a_wall_without_a_token_says_what_it_needs(closed_server, tab):
    tab.goto(closed_server.url + "/wall?lang=en")
    tab.wait_for_selector("#wall-denied", timeout=30_000)
    assert tab.text_content("#wall-denied") == t("auth_wall_needs_token", "en")
    assert tab.query_selector("[id^=wall-value-]") is None
