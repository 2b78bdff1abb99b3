"""The key that signs sessions and CSRF tokens.

It comes from configuration (SECRET_KEY or SECRET_KEY_FILE). A missing, default or short
key is refused, except while the database holds only the illustrative demo: then a random
key is made once and kept in the database's ``meta`` table, so every worker and restart
agrees on it and a demo login survives them. Loading the department's own data, or
removing the demo, ends that: from the next request the server refuses to serve until a
real key is configured.

The decision needs the database, so it is taken at the first request (and re-checked on
every request, on the data version), never at import or worker start.
"""
from __future__ import annotations

import secrets

from sqlalchemy import Engine, text

from ..database import get_meta

MIN_LENGTH = 32
DEMO_META_KEY = "demo_secret_key"
#: Placeholders people leave in place; compared case-insensitively.
DEFAULTS = frozenset({
    "change-me", "changeme", "change_me", "secret", "secret-key", "secret_key", "secretkey", "dev", "development",
    "default", "test", "testing", "replace-me", "replaceme", "please-change-me", "insecure", "password",
    "your-secret-key", "your_secret_key", "dashboard", "sytdash",
})


def problem(key: str | None) -> str | None:
    """None for a usable key, else 'missing' or 'default' (a placeholder or too short)."""
    if not key:
        return "missing"
    if key.strip().lower() in DEFAULTS or len(key) < MIN_LENGTH:
        return "default"
    return None


def demo_key(engine: Engine) -> str:
    """The demo database's own random key, made by whichever worker asks first."""
    with engine.begin() as conn:
        value = get_meta(conn, DEMO_META_KEY)
        if value:
            return value
        conn.execute(text("INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO NOTHING"),
                     {"key": DEMO_META_KEY, "value": secrets.token_urlsafe(48)})
        return get_meta(conn, DEMO_META_KEY)
