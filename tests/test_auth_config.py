"""Settings of accounts and access, demo vs production defaults, and a boot without the database."""
from __future__ import annotations

import pytest
from flask import Flask

from dashboard.auth import secret
from dashboard.config import ConfigError, load_settings
from tests.browser_helpers import free_port


def test_the_demo_loads_by_default_only_into_the_embedded_database():
    assert load_settings({}).load_demo is True
    assert load_settings({"DATABASE_URL": "postgresql://u@h/db"}).load_demo is False
    assert load_settings({"DATABASE_URL": "sqlite:////srv/x.db"}).load_demo is False
    assert load_settings({"DATABASE_URL": "postgresql://u@h/db", "LOAD_DEMO": "true"}).load_demo is True
    assert load_settings({"LOAD_DEMO": "no"}).load_demo is False


@pytest.mark.parametrize("raw, expected", [(None, None), ("", None), ("auto", None), ("true", True), ("off", False)])
def test_anonymous_read_is_automatic_unless_set(raw, expected):
    env = {} if raw is None else {"ANONYMOUS_READ": raw}
    assert load_settings(env).anonymous_read is expected


@pytest.mark.parametrize("env, name", [
    ({"ANONYMOUS_READ": "maybe"}, "ANONYMOUS_READ"),
    ({"TRUSTED_PROXIES": "nine"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "9"}, "TRUSTED_PROXIES"),
    ({"LOGIN_LIMIT_ACCOUNT": "lots"}, "LOGIN_LIMIT_ACCOUNT"),
    ({"LOGIN_LIMIT_ADDRESS": "5 per fortnight"}, "LOGIN_LIMIT_ADDRESS"),
    ({"SESSION_HOURS": "0"}, "SESSION_HOURS"),
    ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE"),
])
def test_bad_access_settings_stop_the_start_with_a_message_naming_them(env, name):
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert name in str(err.value) and " / " in str(err.value)  # bilingual


def test_the_secret_key_comes_from_the_environment_or_a_file(tmp_path):
    assert load_settings({"SECRET_KEY": "  abc  "}).secret_key == "abc"
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n", encoding="utf-8")
    assert load_settings({"SECRET_KEY": "ignored", "SECRET_KEY_FILE": str(key_file)}).secret_key == "from-a-file"
    assert load_settings({}).secret_key is None


@pytest.mark.parametrize("key, problem", [(None, "missing"), ("", "missing"), ("change-me", "default"),
                                          ("CHANGEME", "default"), ("x" * 31, "default"), ("x" * 32, None),
                                          ("9b2f7c0e-secret-from-a-vault-4d1a8e", None)])
def test_which_secret_keys_are_refused(key, problem):
    assert secret.problem(key) == problem


def test_installing_accounts_needs_no_database_and_an_outage_is_not_a_500():
    """Boot: init_app touches nothing. First requests with the database unreachable: the
    sign-in page says so (503), nothing raises."""
    from dashboard import auth, cache, figures
    from dashboard.database import make_engine

    dead = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing?connect_timeout=1"
    settings = load_settings({"DATABASE_URL": dead})
    server = Flask("no-database")
    cache.init_cache(server, settings)
    auth.init_app(server, settings)  # would raise if it needed the database
    saved = figures._engine
    figures.set_engine(make_engine(dead))
    try:
        client = server.test_client()
        assert client.get("/login").status_code == 503
        assert client.get("/").status_code == 302  # cannot tell whether anonymous read applies: sign in
        ok = load_settings({"DATABASE_URL": dead, "SECRET_KEY": "s" * 40})
        auth.state(server).settings = ok
        assert client.get("/login").status_code == 200  # a configured key needs no database
    finally:
        figures.set_engine(saved)
