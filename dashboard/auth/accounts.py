"""Accounts stored in the database: add, change password, remove, list, authenticate.

Three roles: ``admin`` (uploads, loads, accounts, wall tokens), ``viewer`` (reads
everything) and ``unit`` (a unit head: their unit and everything beneath it). Every change
is audited in the same transaction. These writes do not bump the data version: accounts
are not figures, and cached figures stay valid.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from .. import sql
from ..i18n import t
from . import audit, passwords
from .scope import Scope

ROLES = ("admin", "viewer", "unit")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


class AccountError(ValueError):
    """A bad account request; the message is bilingual, `vi`/`en` hold each language."""

    def __init__(self, key: str, **values: Any):
        self.key = key
        self.values = values
        self.vi = t(key, "vi", **values)
        self.en = t(key, "en", **values)
        super().__init__(f"{self.vi} / {self.en}")

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class User:
    """A logged-in person, as flask-login wants it (is_authenticated, get_id, ...)."""

    id: int
    username: str
    role: str
    unit_code: str | None = None
    display_name: str | None = None
    session_version: int = 1
    created_at: Any = None
    last_login_at: Any = None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # The session version rides in the session: a password change ends older sessions.
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def scope(self) -> Scope:
        if self.role == "unit":
            return Scope.of_units([self.unit_code] if self.unit_code else [])
        return Scope.everything()

    @property
    def label(self) -> str:
        return self.display_name or self.username


def _user(row: dict) -> User:
    return User(id=int(row["id"]), username=row["username"], role=row["role"], unit_code=row["unit_code"],
                display_name=row["display_name"], session_version=int(row["session_version"]),
                created_at=row["created_at"], last_login_at=row["last_login_at"])


def normalise_username(raw: str | None) -> str:
    name = (raw or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("auth_err_username", value=(raw or "")[:80])
    return name


def check_password(password: str, confirm: str | None = None) -> str:
    if confirm is not None and password != confirm:
        raise AccountError("auth_err_password_mismatch")
    if len(password) < passwords.MIN_LENGTH:
        raise AccountError("auth_err_password_short", n=passwords.MIN_LENGTH)
    return password


def check_role(role: str, unit_code: str | None) -> tuple[str, str | None]:
    if role not in ROLES:
        raise AccountError("auth_err_role", value=role)
    unit_code = (unit_code or "").strip() or None
    if role == "unit" and not unit_code:
        raise AccountError("auth_err_unit_needed")
    if role != "unit" and unit_code:
        raise AccountError("auth_err_unit_not_allowed")
    if unit_code:
        from .. import figures

        try:
            figures.entity(unit_code)
        except figures.UnknownUnit:
            raise AccountError("auth_err_unit_unknown", value=unit_code) from None
    return role, unit_code


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _row(conn: Connection, username: str) -> dict | None:
    rows = sql.fetch_rows(conn, "auth_user_by_name", username=username)
    return rows[0] if rows else None


# --- writes -------------------------------------------------------------------------------

def add_user(engine: Engine, username: str, password: str, role: str, *, unit_code: str | None = None,
             display_name: str | None = None, actor: str) -> User:
    name = normalise_username(username)
    role, unit_code = check_role(role, unit_code)
    check_password(password)
    digest = passwords.hash_password(password)
    now = _now()
    try:
        with engine.begin() as conn:
            if _row(conn, name) is not None:
                raise AccountError("auth_err_exists", value=name)
            conn.execute(text(
                "INSERT INTO users (username, display_name, password_hash, role, unit_code, session_version, "
                "created_at, password_changed_at) VALUES (:u, :d, :h, :r, :c, 1, :now, :now)"),
                {"u": name, "d": (display_name or "").strip() or None, "h": digest, "r": role, "c": unit_code,
                 "now": now})
            audit.record(conn, actor, "user_add", name, {"role": role, "unit": unit_code})
            return _user(_row(conn, name))
    except IntegrityError:  # added by someone else between the check and the insert
        raise AccountError("auth_err_exists", value=name) from None


def set_password(engine: Engine, username: str, password: str, *, actor: str) -> User:
    name = normalise_username(username)
    check_password(password)
    digest = passwords.hash_password(password)
    with engine.begin() as conn:
        if _row(conn, name) is None:
            raise AccountError("auth_err_no_user", value=name)
        conn.execute(text("UPDATE users SET password_hash = :h, password_changed_at = :now, "
                          "session_version = session_version + 1 WHERE username = :u"),
                     {"h": digest, "now": _now(), "u": name})
        audit.record(conn, actor, "user_passwd", name)
        return _user(_row(conn, name))


def remove_user(engine: Engine, username: str, *, actor: str) -> User:
    name = normalise_username(username)
    with engine.begin() as conn:
        row = _row(conn, name)
        if row is None:
            raise AccountError("auth_err_no_user", value=name)
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": name})
        audit.record(conn, actor, "user_remove", name, {"role": row["role"], "unit": row["unit_code"]})
        return _user(row)


# --- reads --------------------------------------------------------------------------------

def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in sql.fetch_rows(conn, "auth_users")]


def get_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = _row(conn, normalise_username(username))
    return _user(row) if row else None


def load_session_user(engine: Engine, session_id: str) -> User | None:
    """The user a session names ("id:session_version"), or None if gone or outdated."""
    try:
        raw_id, raw_version = str(session_id).split(":", 1)
        user_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    with engine.connect() as conn:
        rows = sql.fetch_rows(conn, "auth_user_by_id", id=user_id)
    if not rows or int(rows[0]["session_version"]) != version:
        return None
    return _user(rows[0])


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user if the password is right (recording the login), else None. An unknown or
    malformed user name costs the same time as a wrong password."""
    try:
        name = normalise_username(username)
    except AccountError:
        passwords.waste_time(password)
        return None
    with engine.connect() as conn:
        row = _row(conn, name)
    if row is None:
        passwords.waste_time(password)
        return None
    if not passwords.verify(row["password_hash"], password):
        return None
    updates: dict[str, Any] = {"now": _now(), "id": row["id"]}
    rehash = ""
    if passwords.needs_rehash(row["password_hash"]):
        updates["h"] = passwords.hash_password(password)
        rehash = ", password_hash = :h"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE users SET last_login_at = :now{rehash} WHERE id = :id"), updates)
    return _user({**row, "last_login_at": updates["now"]})
