"""Wall-screen tokens: one long random token per operations-room screen.

A screen opens ``/wall?token=…`` and shows the wall with nobody logged in. Only the
SHA-256 of a token is stored (a 256-bit random token needs no slow hash: nobody can guess
it, and a fast digest lets each refresh look it up by index). The token is shown once,
when created. Revoking a token stops its screen at the next refresh.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, text

from .. import sql
from . import audit
from .accounts import AccountError

TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
NAME_MAX = 80


@dataclass(frozen=True)
class WallToken:
    id: int
    name: str
    created_at: Any
    created_by: str
    revoked_at: Any = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class TokenCheck:
    status: str  # valid | revoked | unknown
    token: WallToken | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _token(row: dict) -> WallToken:
    return WallToken(id=int(row["id"]), name=row["name"], created_at=row["created_at"], created_by=row["created_by"],
                     revoked_at=row["revoked_at"], revoked_by=row["revoked_by"])


def check_name(name: str | None) -> str:
    clean = " ".join((name or "").split())
    if not 1 <= len(clean) <= NAME_MAX:
        raise AccountError("auth_tokens_bad_name")
    return clean


def create(engine: Engine, name: str, *, actor: str) -> tuple[WallToken, str]:
    """A new token for screen `name`: (its record, the token text, to be shown once)."""
    name = check_name(name)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO wall_tokens (name, token_sha256, created_at, created_by) "
                          "VALUES (:name, :digest, :now, :actor)"),
                     {"name": name, "digest": digest(raw), "now": datetime.now(timezone.utc), "actor": actor})
        row = sql.fetch_rows(conn, "auth_wall_token_by_hash", digest=digest(raw))[0]
        audit.record(conn, actor, "wall_token_add", name, {"id": int(row["id"])})
    return _token(row), raw


def list_tokens(engine: Engine) -> list[WallToken]:
    with engine.connect() as conn:
        return [_token(r) for r in sql.fetch_rows(conn, "auth_wall_tokens")]


def find(engine: Engine, ident: str | int) -> WallToken:
    """A token by its number, or by its screen name when exactly one active token has it."""
    tokens = list_tokens(engine)
    text_ident = str(ident).strip()
    if text_ident.isdigit():
        for token in tokens:
            if token.id == int(text_ident):
                return token
    named = [tk for tk in tokens if tk.name == text_ident]
    active = [tk for tk in named if tk.active]
    if len(active) == 1:
        return active[0]
    if len(named) == 1:
        return named[0]
    raise AccountError("auth_err_no_token", value=text_ident[:80])


def revoke(engine: Engine, ident: str | int, *, actor: str) -> WallToken:
    token = find(engine, ident)
    if not token.active:
        raise AccountError("auth_err_token_revoked", value=str(ident)[:80])
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("UPDATE wall_tokens SET revoked_at = :now, revoked_by = :actor "
                          "WHERE id = :id AND revoked_at IS NULL"), {"now": now, "actor": actor, "id": token.id})
        audit.record(conn, actor, "wall_token_revoke", token.name, {"id": token.id})
    return WallToken(**{**token.__dict__, "revoked_at": now, "revoked_by": actor})


def check(engine: Engine, raw: str | None) -> TokenCheck:
    """Is this token text a live token? Raises only if the database cannot be read (the
    wall then keeps its last figures and retries, as for any outage)."""
    if not raw or not isinstance(raw, str) or not TOKEN_RE.match(raw):
        return TokenCheck("unknown")
    with engine.connect() as conn:
        rows = sql.fetch_rows(conn, "auth_wall_token_by_hash", digest=digest(raw))
    if not rows:
        return TokenCheck("unknown")
    token = _token(rows[0])
    return TokenCheck("valid" if token.active else "revoked", token)
