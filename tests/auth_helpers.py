"""Helpers for the accounts tests: one Dash app per test process, sign-in, Dash callbacks.

Dash binds the pages' callbacks to the first Dash app made in a process, so every
accounts test shares one app (made on first use) and changes its settings in place
(``configure``); the database is whichever the fixture points ``dashboard.figures`` at.
"""
from __future__ import annotations

import dataclasses
import re

from sqlalchemy import text

from dashboard import figures
from dashboard.auth import accounts, state

STRONG_KEY = "k" * 8 + "0123456789abcdefghijklmnopqrstuvwxyz"  # 44 characters, not a placeholder
PASSWORD = "mật khẩu đủ dài 2026"  # non-ASCII on purpose: read and hashed as UTF-8

_APP = None
_BASE = None


def dash_app():
    global _APP, _BASE
    if _APP is None:
        from dashboard.config import load_settings
        from dashboard.webapp import create_app

        _BASE = load_settings({"DATABASE_URL": "sqlite://"})
        engine = figures._engine
        from tests.app_helpers import share_callbacks

        _APP = share_callbacks(create_app(_BASE, prepare=False))
        figures.set_engine(engine)  # create_app points the read side at its URL: give it back
    return _APP


def configure(**overrides):
    """Settings of the shared app for one test (defaults plus `overrides`), limiter reset."""
    app = dash_app()
    st = state(app.server)
    st.settings = dataclasses.replace(_BASE, **overrides)
    st.limiter.reset()
    app.server.config["SESSION_COOKIE_SECURE"] = st.settings.session_cookie_secure
    return app.server


def clear_accounts(engine) -> None:
    with engine.begin() as conn:
        for table in ("users", "wall_tokens", "audit_log"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names


def add_user(engine, username: str, role: str, unit: str | None = None, password: str = PASSWORD):
    return accounts.add_user(engine, username, password, role, unit_code=unit, actor="test")


def client_at(server, address: str):
    """A test client whose requests come from `address`."""
    client = server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def csrf_token(client, path: str = "/login", **request) -> str:
    page = client.get(path, **request).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, request: dict | None = None, **extra):
    """Sign in through the form (CSRF token first); `request` goes to both requests (base_url, headers)."""
    request = request or {}
    data = {"username": username, "password": password, "csrf_token": csrf_token(client, **request), **extra}
    return client.post("/login", data=data, **request)


def pages_body(pathname: str, search: str = "") -> dict:
    """What Dash's renderer posts to draw a page (the Pages router callback)."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def wall_refresh_body(token: str | None, seq: int = 1, status: str = "{}", indicators=("hssk",)) -> dict:
    cfg = {"indicators": list(indicators), "rotate": 30, "refresh": 300, "theme": "dark", "lang": "vi"}
    return {"output": "..wall-deck.children...wall-meta.children...wall-status.children..",
            "outputs": [{"id": "wall-deck", "property": "children"}, {"id": "wall-meta", "property": "children"},
                        {"id": "wall-status", "property": "children"}],
            "inputs": [{"id": "wall-refresh", "property": "n_intervals", "value": seq}],
            "changedPropIds": ["wall-refresh.n_intervals"],
            "state": [{"id": "wall-config", "property": "data", "value": cfg},
                      {"id": "wall-status", "property": "children", "value": status},
                      {"id": "wall-token", "property": "data", "value": token}]}


def set_cookie_headers(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")
