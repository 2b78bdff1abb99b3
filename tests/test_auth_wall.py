"""Wall screens by token, over HTTP: a valid token shows the wall with nobody signed in; a
revoked or unknown one shows why instead of figures, from the next refresh on."""
from __future__ import annotations

import json

import pytest

from dashboard.auth import walltokens
from dashboard.i18n import t
from tests.auth_helpers import add_user, clear_accounts, configure, login, pages_body, wall_refresh_body


@pytest.fixture
def closed_demo(demo_db):
    """The demo with anonymous read off: only a token (or a sign-in) opens the wall."""
    clear_accounts(demo_db)
    server = configure(anonymous_read=False)
    yield server
    clear_accounts(demo_db)


def refresh(client, token, **kw):
    answer = client.post("/_dash-update-component", json=wall_refresh_body(token, **kw))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    payload = json.loads(answer.get_data(as_text=True))["response"]
    return json.dumps(payload["wall-deck"]["children"], ensure_ascii=False), json.loads(payload["wall-status"]["children"])


def test_a_valid_token_shows_the_wall_with_nobody_signed_in(closed_demo, demo_db):
    _token, raw = walltokens.create(demo_db, "Phòng điều hành", actor="test")
    client = closed_demo.test_client()
    assert client.get(f"/wall?token={raw}").status_code == 200  # the page itself, no redirect to sign-in
    page = client.post("/_dash-update-component", json=pages_body("/wall", f"?token={raw}"))
    assert page.status_code == 200 and "wall-value-hssk" in page.get_data(as_text=True)
    deck, status = refresh(client, raw)
    assert "wall-value-hssk" in deck and status["ok"] is True and status["kind"] == "ok"
    # the token opens the wall, not the rest of the dashboard
    assert client.post("/_dash-update-component", json=pages_body("/", f"?token={raw}")).status_code == 401
    assert client.get(f"/api/v1/indicators?token={raw}").status_code == 401


def test_a_revoked_token_stops_the_screen_at_its_next_refresh_and_says_why(closed_demo, demo_db):
    token, raw = walltokens.create(demo_db, "Phòng điều hành", actor="test")
    client = closed_demo.test_client()
    deck, status = refresh(client, raw, seq=1)
    assert "wall-value-hssk" in deck
    walltokens.revoke(demo_db, token.id, actor="test")
    deck, status = refresh(client, raw, seq=2, status=json.dumps(status))
    assert "wall-value-" not in deck and t("auth_wall_token_revoked", "vi") in deck
    assert status["ok"] is True and status["kind"] == "denied"  # a reason on screen, not a connection banner
    # later refreshes leave the message in place (nothing new to send)
    again = client.post("/_dash-update-component", json=wall_refresh_body(raw, seq=3, status=json.dumps(status)))
    payload = json.loads(again.get_data(as_text=True))["response"]
    assert "wall-deck" not in payload and json.loads(payload["wall-status"]["children"])["kind"] == "denied"
    # and a fresh load of the page shows the reason too, in the screen's language
    page = client.post("/_dash-update-component", json=pages_body("/wall", f"?token={raw}&lang=en"))
    text = page.get_data(as_text=True)
    assert t("auth_wall_token_revoked", "en") in text and "wall-value-" not in text


def test_a_revoked_token_stops_the_screen_even_where_anonymous_read_is_on(demo_db):
    clear_accounts(demo_db)
    server = configure()  # the demo: anonymous read on
    token, raw = walltokens.create(demo_db, "Sảnh", actor="test")
    walltokens.revoke(demo_db, token.id, actor="test")
    deck, _status = refresh(server.test_client(), raw)
    assert "wall-value-" not in deck and t("auth_wall_token_revoked", "vi") in deck
    deck, _status = refresh(server.test_client(), None)  # without a token the demo wall still works
    assert "wall-value-hssk" in deck
    clear_accounts(demo_db)


@pytest.mark.parametrize("token, key", [("x" * 43, "auth_wall_token_unknown"), ("<script>", "auth_wall_token_unknown"),
                                        (None, "auth_wall_needs_token")])
def test_an_unknown_or_missing_token_shows_no_figures(closed_demo, token, key):
    deck, status = refresh(closed_demo.test_client(), token)
    assert "wall-value-" not in deck and t(key, "vi") in deck and status["kind"] == "denied"


def test_a_signed_in_reader_needs_no_token_but_a_unit_head_cannot_see_the_province_wall(closed_demo, demo_db):
    add_user(demo_db, "xem", "viewer")
    add_user(demo_db, "kv288", "unit", "288")
    viewer = closed_demo.test_client()
    login(viewer, "xem")
    assert "wall-value-hssk" in refresh(viewer, None)[0]
    unit_head = closed_demo.test_client()
    login(unit_head, "kv288")
    deck, _status = refresh(unit_head, None)
    assert "wall-value-" not in deck and t("auth_wall_unit_scope", "vi") in deck
