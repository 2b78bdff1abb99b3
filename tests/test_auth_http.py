"""Sign-in, sessions, CSRF, the secret key, anonymous read and unit scope, over HTTP.

The demo database (both kinds) stands for a fresh install; the tiny hand-made province of
tests/world.py, loaded as the department's own data, stands for production.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from dashboard.auth import walltokens
from dashboard.i18n import t
from tests.auth_helpers import (
    PASSWORD,
    STRONG_KEY,
    add_user,
    clear_accounts,
    client_at,
    configure,
    csrf_token,
    login,
    pages_body,
    set_cookie_headers,
)
from tests.world import load_world


@pytest.fixture
def demo_site(demo_db):
    clear_accounts(demo_db)
    server = configure()
    yield server
    clear_accounts(demo_db)


@pytest.fixture
def real_site(use_engine):
    """The department's own data (not the demo), with a proper secret key."""
    load_world(use_engine)
    return configure(secret_key=STRONG_KEY)


def body(response) -> str:
    return response.get_data(as_text=True)


def session_cookie(response) -> str | None:
    return next((c for c in set_cookie_headers(response) if c.startswith("sytdash_session=")), None)


# --- sign in and out -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sign_in_and_out_in_both_languages(demo_site, demo_db, lang):
    add_user(demo_db, "thu.ky", "viewer")
    client = demo_site.test_client()
    page = client.get(f"/login?lang={lang}")
    html = body(page)
    assert page.status_code == 200 and f'<html lang="{lang}">' in html
    for key in ("auth_login_title", "auth_username", "auth_password", "auth_login_button", "app_title"):
        assert t(key, lang) in html, key
    assert "/assets/01-bootstrap.min.css" in html and "/assets/02-fonts.css" in html  # the app's own styles
    assert page.headers["Cache-Control"] == "no-store"

    answer = login(client, "Thu.Ky", lang=lang, next="/map?indicator=emr")  # user names are case-blind
    assert answer.status_code == 302 and answer.headers["Location"] == "/map?indicator=emr"
    confirm = client.get(f"/logout?lang={lang}")
    assert confirm.status_code == 200 and t("auth_logout_question", lang, user="thu.ky") in body(confirm)
    out = client.post("/logout", data={"csrf_token": csrf_token(client, f"/logout?lang={lang}"), "lang": lang})
    assert out.status_code == 302 and out.headers["Location"].startswith("/login?")
    after = client.get(out.headers["Location"])
    assert t("auth_logged_out", lang) in body(after)
    assert client.get("/logout").status_code == 302  # nobody signed in any more


def test_a_unit_head_lands_on_their_unit_and_others_on_the_overview(demo_site, demo_db):
    add_user(demo_db, "kv288", "unit", "288")
    add_user(demo_db, "sep", "admin")
    assert login(demo_site.test_client(), "kv288").headers["Location"] == "/unit/288"
    assert login(demo_site.test_client(), "sep", lang="en").headers["Location"] == "/?lang=en"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_sends_the_browser_to_another_site(demo_site, demo_db, next_url):
    add_user(demo_db, "thu.ky", "viewer")
    answer = login(demo_site.test_client(), "thu.ky", next=next_url)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(demo_site, demo_db):
    add_user(demo_db, "thu.ky", "viewer")
    client = demo_site.test_client()
    wrong = login(client, "thu.ky", "sai mật khẩu rồi")
    unknown = login(client, "khong.co.ai", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert t("auth_login_failed", "vi") in body(answer)
    assert 'value="thu.ky"' in body(wrong)  # the name is kept, the password is not
    assert PASSWORD not in body(unknown)
    assert client.get("/logout").status_code == 302  # still nobody
    with demo_db.connect() as conn:
        assert conn.execute(text("SELECT last_login_at FROM users")).scalar() is None


def test_failed_sign_ins_are_limited_per_account(demo_site, demo_db):
    configure(login_limit_account="3 per 15 minutes", login_limit_address="100 per 15 minutes")
    add_user(demo_db, "thu.ky", "viewer")
    add_user(demo_db, "ke.toan", "viewer")
    for i in range(3):  # from three different addresses: the account counts, not the address
        client = client_at(demo_site, f"10.0.1.{i}")
        assert login(client, "thu.ky", "sai mật khẩu rồi").status_code == 401
    client = client_at(demo_site, "10.0.1.9")
    locked = login(client, "thu.ky")  # even the right password, until the window passes
    assert locked.status_code == 429
    assert re.search(r"Vui lòng thử lại sau \d+ phút", body(locked))
    assert login(client, "ke.toan").status_code == 302  # another account from the same address


def test_successful_sign_ins_do_not_count(demo_site, demo_db):
    configure(login_limit_account="2 per 15 minutes", login_limit_address="2 per 15 minutes")
    add_user(demo_db, "thu.ky", "viewer")
    for _ in range(4):
        assert login(demo_site.test_client(), "thu.ky").status_code == 302


def test_failed_sign_ins_are_limited_per_address_behind_a_trusted_proxy(demo_site, demo_db):
    configure(login_limit_account="100 per 15 minutes", login_limit_address="4 per 15 minutes", trusted_proxies=1)
    add_user(demo_db, "thu.ky", "viewer")
    client = demo_site.test_client()
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for i in range(4):  # a different account each time: the address counts
        data = {"username": f"doan.{i}", "password": "x" * 12, "csrf_token": csrf_token(client)}
        assert client.post("/login", data=data, headers=attacker).status_code == 401
    data = {"username": "thu.ky", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data, headers=attacker).status_code == 429
    data = {"username": "thu.ky", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data, headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 302


# --- the session cookie -----------------------------------------------------------------------

def signed_in_cookie(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]  # the sign-in happened
    cookie = session_cookie(response)
    assert cookie is not None
    return cookie


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_only_over_https(demo_site, demo_db):
    add_user(demo_db, "thu.ky", "viewer")
    plain = signed_in_cookie(login(demo_site.test_client(), "thu.ky"))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    # Over HTTPS the CSRF check also wants the browser's same-site Referer, as a browser sends it.
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
    direct = signed_in_cookie(login(demo_site.test_client(), "thu.ky", request=https))
    assert "Secure" in direct and "HttpOnly" in direct and "SameSite=Lax" in direct

    proxied = {"headers": {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}}
    untrusted = signed_in_cookie(login(demo_site.test_client(), "thu.ky", request=proxied))
    assert "Secure" not in untrusted  # the header is ignored until TRUSTED_PROXIES says a proxy is there
    configure(trusted_proxies=1)
    trusted = signed_in_cookie(login(demo_site.test_client(), "thu.ky", request=proxied))
    assert "Secure" in trusted and "SameSite=Lax" in trusted
    configure(session_cookie_secure=True)
    assert "Secure" in signed_in_cookie(login(demo_site.test_client(), "thu.ky"))


def test_a_password_change_or_removal_ends_existing_sessions(demo_site, demo_db):
    from dashboard.auth import accounts

    add_user(demo_db, "thu.ky", "admin")
    client = demo_site.test_client()
    login(client, "thu.ky")
    assert client.get("/admin/wall-tokens").status_code == 200
    accounts.set_password(demo_db, "thu.ky", "mật khẩu mới 2027", actor="test")
    assert client.get("/admin/wall-tokens").status_code == 302  # signed out: back to the sign-in page
    login(client, "thu.ky", "mật khẩu mới 2027")
    assert client.get("/admin/wall-tokens").status_code == 200
    accounts.remove_user(demo_db, "thu.ky", actor="test")
    assert client.get("/admin/wall-tokens").status_code == 302


# --- CSRF -------------------------------------------------------------------------------------

def test_forms_without_their_csrf_token_are_refused(demo_site, demo_db):
    add_user(demo_db, "sep", "admin")
    client = demo_site.test_client()
    refused = client.post("/login", data={"username": "sep", "password": PASSWORD})
    assert refused.status_code == 400 and t("auth_csrf_failed", "vi") in body(refused)
    assert client.get("/admin/wall-tokens").status_code == 302  # the sign-in did not happen
    login(client, "sep")
    forged = client.post("/admin/wall-tokens", data={"action": "create", "name": "Màn hình giả"})
    assert forged.status_code == 400
    bad_token = client.post("/logout", data={"csrf_token": "not-the-token"})
    assert bad_token.status_code == 400
    assert walltokens.list_tokens(demo_db) == []
    assert client.get("/admin/wall-tokens").status_code == 200  # still signed in


def test_dash_callbacks_from_another_site_are_refused(demo_site, demo_db):
    client = demo_site.test_client()
    callback = pages_body("/")
    assert client.post("/_dash-update-component", json=callback, headers={"Origin": "http://evil.example"}
                       ).status_code == 403
    assert client.post("/_dash-update-component", json=callback,
                       headers={"Referer": "http://evil.example/page"}).status_code == 403
    assert client.post("/_dash-update-component", json=callback, headers={"Origin": "null"}).status_code == 403
    assert client.post("/_dash-update-component", json=callback, headers={"Origin": "http://localhost"}
                       ).status_code == 200
    assert client.post("/_dash-update-component", json=callback).status_code == 200  # no browser, no cookie to ride


# --- the secret key ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, problem", [(None, "auth_secret_missing"), ("change-me", "auth_secret_default"),
                                          ("short-but-random-9f3k", "auth_secret_default")])
def test_a_missing_or_default_secret_is_refused_once_real_data_is_loaded(real_site, key, problem):
    configure(secret_key=key)
    client = real_site.test_client()
    page = client.get("/")
    assert page.status_code == 503 and t(problem, "vi", n=32) in body(page)
    assert client.get("/login").status_code == 503
    api = client.get("/api/v1/indicators")
    assert api.status_code == 503 and json.loads(body(api))["message"]["en"] == t(problem, "en", n=32)
    assert session_cookie(page) is None
    assert client.get("/healthz").status_code == 200  # monitoring still sees the server


def test_a_proper_secret_serves_real_data(real_site, use_engine):
    add_user(use_engine, "sep", "admin")
    client = real_site.test_client()
    assert login(client, "sep").status_code == 302
    assert client.get("/admin/wall-tokens").status_code == 200


def test_without_a_secret_the_demo_signs_sessions_with_its_own_stored_key(demo_site, demo_db):
    configure(secret_key=None)
    add_user(demo_db, "sep", "admin")
    client = demo_site.test_client()
    assert login(client, "sep").status_code == 302
    assert client.get("/admin/wall-tokens").status_code == 200
    with demo_db.connect() as conn:
        key = conn.execute(text("SELECT value FROM meta WHERE key = 'demo_secret_key'")).scalar()
    assert key and len(key) >= 32 and demo_site.secret_key == key


# --- anonymous read ---------------------------------------------------------------------------

def test_anonymous_visitors_read_the_demo(demo_site):
    client = demo_site.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/indicators").status_code == 200
    overview = client.post("/_dash-update-component", json=pages_body("/"))
    assert overview.status_code == 200 and "overview-period" in body(overview)


def assert_anonymous_refused(client):
    page = client.get("/map?indicator=emr")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fmap%3Findicator%3Demr"
    api = client.get("/api/v1/values?indicator=hssk")
    assert api.status_code == 401 and json.loads(body(api))["message"]["vi"] == t("auth_login_required_api", "vi")
    assert client.get("/export/data.csv?indicator=hssk").status_code == 401
    assert client.post("/_dash-update-component", json=pages_body("/")).status_code == 401
    assert client.post("/_dash-update-component", json=pages_body("/unit/288")).status_code == 401
    assert client.get("/login?next=%2F").status_code == 200


def test_anonymous_read_is_off_with_real_data(real_site):
    assert_anonymous_refused(real_site.test_client())


def test_anonymous_read_can_be_turned_off_on_the_demo(demo_site):
    configure(anonymous_read=False)
    assert_anonymous_refused(demo_site.test_client())


def test_anonymous_read_on_for_real_data_when_asked(real_site):
    configure(secret_key=STRONG_KEY, anonymous_read=True)
    client = real_site.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/values?indicator=stockind&level=commune").status_code == 200


# --- unit scope -------------------------------------------------------------------------------

def communes_of(demo_data, zone: str) -> set[str]:
    units = demo_data.units
    return set(units.loc[(units["level"] == "commune") & (units["parent_code"] == zone), "code"])


def test_a_unit_head_is_refused_another_zones_unit_page(demo_site, demo_db, demo_data):
    add_user(demo_db, "kv288", "unit", "288")
    client = demo_site.test_client()
    login(client, "kv288")
    other = client.get("/unit/303")
    assert other.status_code == 403 and "Không có quyền xem đơn vị này" in body(other)
    assert "Khu vực Hải Dương" in body(other)  # the page says which unit the account may see
    own_commune = sorted(communes_of(demo_data, "288"))[0]
    assert client.get(f"/unit/{own_commune}").status_code == 200
    assert client.get("/unit/288?code=303").status_code == 403  # Dash lets ?code= override the path
    # Navigating inside the app (Dash's page callback): the message, and nothing of the other zone.
    drawn = body(client.post("/_dash-update-component", json=pages_body("/unit/303")))
    assert "Không có quyền xem đơn vị này" in drawn and "Khu vực Hồng Bàng" not in drawn
    assert "unit-value-" not in drawn
    mine = body(client.post("/_dash-update-component", json=pages_body("/unit/288")))
    assert "Khu vực Hải Dương" in mine and "unit-value-hssk" in mine


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_refusal_is_translated(demo_site, demo_db, lang):
    add_user(demo_db, "kv288", "unit", "288")
    client = demo_site.test_client()
    login(client, "kv288")
    assert t("auth_forbidden_unit", lang) in body(client.get(f"/unit/303?lang={lang}"))


def test_a_unit_head_is_refused_other_units_in_the_api(demo_site, demo_db, demo_data):
    add_user(demo_db, "kv288", "unit", "288")
    client = demo_site.test_client()
    login(client, "kv288")
    for path, parameter in [("/api/v1/values?indicator=hssk&level=commune&parent=303", "parent"),
                            ("/api/v1/completeness?indicator=hssk&code=303", "code"),
                            ("/api/v1/units?parent=303", "parent"),
                            ("/api/v1/values?indicator=hssk", "parent"),  # the default is the province
                            ("/api/v1/values?indicator=hssk&level=province", "parent"),
                            ("/api/v1/completeness?indicator=hssk", "code")]:
        answer = client.get(path)
        assert answer.status_code == 403, path
        payload = json.loads(body(answer))
        assert payload["parameter"] == parameter and payload["message"]["vi"].startswith("Không có quyền xem"), path
    own = client.get("/api/v1/values?indicator=hssk&level=commune&parent=288")
    assert own.status_code == 200
    assert {r["code"] for r in json.loads(body(own))["rows"]} == communes_of(demo_data, "288")
    assert client.get("/api/v1/completeness?indicator=hssk&code=288").status_code == 200
    assert client.get("/api/v1/indicators").status_code == 200  # the catalogue has no unit figures


def test_admins_and_viewers_see_every_unit(demo_site, demo_db):
    add_user(demo_db, "xem", "viewer")
    client = demo_site.test_client()
    login(client, "xem")
    assert client.get("/unit/303").status_code == 200
    assert client.get("/api/v1/values?indicator=hssk&level=commune&parent=303").status_code == 200
    assert client.get("/admin/wall-tokens").status_code == 403  # reading is not administering


# --- the admin page for wall tokens ----------------------------------------------------------------

def test_an_admin_creates_and_revokes_wall_tokens_on_the_page(demo_site, demo_db):
    add_user(demo_db, "sep", "admin")
    client = demo_site.test_client()
    assert client.get("/admin/wall-tokens").status_code == 302
    login(client, "sep")
    token = csrf_token(client, "/admin/wall-tokens")
    made = client.post("/admin/wall-tokens", data={"action": "create", "name": "Phòng họp tầng 3",
                                                   "csrf_token": token})
    assert made.status_code == 200
    raw = re.search(r"/wall\?token=([A-Za-z0-9_-]+)", body(made)).group(1)
    with demo_db.connect() as conn:
        stored = conn.execute(text("SELECT name, token_sha256 FROM wall_tokens")).all()
        audit = conn.execute(text("SELECT actor, action, subject FROM audit_log ORDER BY id")).all()
    assert stored[0][0] == "Phòng họp tầng 3" and stored[0][1] != raw and raw not in str(stored)
    assert walltokens.check(demo_db, raw).valid
    assert ("sep", "wall_token_add", "Phòng họp tầng 3") in [tuple(a) for a in audit]
    listed = client.get("/admin/wall-tokens")
    assert raw not in body(listed) and "Phòng họp tầng 3" in body(listed)  # shown once, never again
    ident = walltokens.list_tokens(demo_db)[0].id
    revoked = client.post("/admin/wall-tokens", data={"action": "revoke", "id": str(ident),
                                                      "csrf_token": csrf_token(client, "/admin/wall-tokens")})
    assert revoked.status_code == 200 and t("auth_tokens_revoked", "vi", name="Phòng họp tầng 3") in body(revoked)
    assert walltokens.check(demo_db, raw).status == "revoked"


def test_the_navbar_offers_sign_in_then_the_account_and_sign_out(demo_site, demo_db):
    add_user(demo_db, "sep", "admin")
    client = demo_site.test_client()
    anonymous = body(client.post("/_dash-update-component", json=pages_body("/")))
    assert "nav-login" in anonymous and "nav-logout" not in anonymous
    login(client, "sep")
    signed_in = body(client.post("/_dash-update-component", json=pages_body("/")))
    assert "nav-logout" in signed_in and "nav-admin" in signed_in and "nav-login" not in signed_in


def test_a_unit_head_s_map_carries_its_own_outlines_and_whole_layers_are_refused(demo_site, demo_db, demo_data):
    from dashboard import boundaries, figures, maps

    add_user(demo_db, "kv288", "unit", "288")
    client = demo_site.test_client()
    login(client, "kv288")
    version = boundaries.boundary_version()
    for path in (f"/geo/commune/31.json?v={version}", f"/geo/commune/303.json?v={version}",
                 f"/geo/commune/288.json?v={version}"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert refused.get_json()["message"]["vi"].startswith("không có quyền tải lớp ranh giới")
    anonymous = demo_site.test_client()  # reads the whole demo: gets the layer by its URL
    assert anonymous.get(f"/geo/commune/288.json?v={version}").status_code == 200
    # the unit head's own map draws the outlines of their communes, carried in the figure
    query = "?unit=288&level=commune&indicator=hssk"
    mine = geojsons(json.loads(body(client.post("/_dash-update-component", json=pages_body("/map", query)))))
    assert mine and all(isinstance(g, dict) for g in mine)
    assert {f["id"] for g in mine for f in g["features"]} == communes_of(demo_data, "288")
    theirs = geojsons(json.loads(body(anonymous.post("/_dash-update-component", json=pages_body("/map", query)))))
    assert theirs and set(theirs) == {f"/geo/commune/288.json?v={version}"}


def geojsons(node) -> list:
    """Every choropleth trace's ``geojson`` in a Dash answer."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "choropleth" and "geojson" in node:
            found.append(node["geojson"])
        for value in node.values():
            found.extend(geojsons(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(geojsons(value))
    return found
