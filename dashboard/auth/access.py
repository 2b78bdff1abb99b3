"""Per-request access decisions: who is asking, may they read, what is their scope.

Everything here is decided at request time (the app imports and boots without the
database) and remembered for the rest of the request in ``flask.g``. Facts that need the
database (is only the demo loaded? which account is this?) are memoised on the data
version and fall back to the last value seen when the database is briefly unreachable,
so an outage degrades like the figures do instead of logging everyone out.

Outside a request, or in a Flask app without ``dashboard.auth`` installed (the command
line, the briefing renderer, unit tests of one module), the reader is trusted: the scope
is everything.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context, has_request_context

from .. import figures, sql
from ..cache import memoized
from . import secret, walltokens
from .accounts import User
from .scope import Scope

log = logging.getLogger(__name__)

STATE_KEY = "dashboard_auth"


class Undecided(RuntimeError):
    """The database cannot be read now and nothing was known about it before."""


@dataclass
class AuthState:
    """What the auth extension keeps on the Flask app (``app.extensions['dashboard_auth']``).
    Tests may swap ``settings`` on a running app."""

    settings: Any
    limiter: Any = None


def state(app=None) -> AuthState | None:
    if app is None:
        if not has_app_context():
            return None
        app = current_app
    return app.extensions.get(STATE_KEY)


def installed() -> bool:
    return has_request_context() and state() is not None


def _memo(name: str, compute):
    """Remember `compute()` for this request in flask.g."""
    if has_request_context():
        key = f"_auth_{name}"
        if key not in g:
            setattr(g, key, compute())
        return getattr(g, key)
    return compute()


def _url() -> str:
    return figures.engine().url.render_as_string(hide_password=False)


# --- is only the demo loaded? ----------------------------------------------------------------

def _load_kinds(url: str) -> tuple[int, int]:
    with figures.engine().connect() as conn:
        row = sql.fetch_rows(conn, "auth_load_kinds", yes=True, no=False)[0]
    return int(row["demo_loads"]), int(row["other_loads"])


_load_kinds_cached = memoized(figures.version, name="dashboard.auth.load_kinds")(_load_kinds)
_LAST_KNOWN_DEMO_ONLY: dict[str, bool] = {}


def holds_only_demo() -> bool:
    """True while every data load is the demo's (and there is one). Raises Undecided when
    the database cannot be read and has never been read by this process."""

    def compute() -> bool:
        url = _url()
        try:
            demo_loads, other_loads = _load_kinds_cached(url)
        except Exception as exc:  # noqa: BLE001 - an outage: the last answer stands
            if url in _LAST_KNOWN_DEMO_ONLY:
                return _LAST_KNOWN_DEMO_ONLY[url]
            raise Undecided(str(exc)) from exc
        value = demo_loads > 0 and other_loads == 0
        _LAST_KNOWN_DEMO_ONLY[url] = value
        return value

    return _memo("demo_only", compute)


# --- the secret key ---------------------------------------------------------------------------

_DEMO_KEYS: dict[str, str] = {}
_WARNED: set[str] = set()


@dataclass(frozen=True)
class SecretVerdict:
    status: str  # ok | demo | refused | undecided
    key: str | None = None
    problem: str | None = None  # missing | default, when refused


def secret_verdict() -> SecretVerdict:
    """May this server sign sessions, and with which key?"""

    def compute() -> SecretVerdict:
        st = state()
        configured = st.settings.secret_key if st else None
        problem = secret.problem(configured)
        if problem is None:
            return SecretVerdict("ok", configured)
        try:
            demo = holds_only_demo()
        except Undecided:
            return SecretVerdict("undecided")
        if not demo:
            _warn_once("refused", "SECRET_KEY is %s and the database holds real data: refusing every request "
                                  "until SECRET_KEY is set", problem, level=logging.ERROR)
            return SecretVerdict("refused", problem=problem)
        url = _url()
        if url not in _DEMO_KEYS:
            try:
                _DEMO_KEYS[url] = secret.demo_key(figures.engine())
            except Exception:  # noqa: BLE001
                log.warning("demo session key unavailable", exc_info=True)
                return SecretVerdict("undecided")
        _warn_once("demo", "SECRET_KEY is %s: signing sessions with the demo database's own key "
                           "(allowed while only the demo is loaded)", problem)
        return SecretVerdict("demo", _DEMO_KEYS[url])

    return _memo("secret", compute)


def _warn_once(tag: str, message: str, *args, level: int = logging.WARNING) -> None:
    if tag not in _WARNED:
        _WARNED.add(tag)
        log.log(level, message, *args)


# --- who is asking --------------------------------------------------------------------------

def current_user() -> User | None:
    """The logged-in account of this request, if any."""
    if not installed():
        return None
    from flask_login import current_user as proxy

    try:
        user = proxy._get_current_object()
    except Exception:  # noqa: BLE001 - no session (refused key, outage): nobody is logged in
        log.debug("no user for this request", exc_info=True)
        return None
    return user if isinstance(user, User) else None


def anonymous_read(strict: bool = False) -> bool:
    """May a visitor who is not logged in read the figures? ANONYMOUS_READ, or by default:
    while the database holds only the demo. With `strict`, an undecidable default raises
    Undecided instead of answering no."""
    st = state()
    setting = st.settings.anonymous_read if st else True
    if setting is not None:
        return bool(setting)
    try:
        return holds_only_demo()
    except Undecided:
        if strict:
            raise
        return False


def can_read() -> bool:
    if not installed():
        return True
    return current_user() is not None or anonymous_read()


def is_admin() -> bool:
    user = current_user()
    return user is not None and user.is_admin


def current_scope() -> Scope:
    """The units the reader of this request may see (the hook every view and the request
    reader filter through): a unit head's subtree; everything for admins, viewers, a wall
    screen with a valid token and anonymous readers; nothing for anyone else."""
    if not installed():
        return Scope.everything()
    user = current_user()
    if user is not None:
        return user.scope
    if g.get("_auth_wall_token") is not None or anonymous_read():
        return Scope.everything()
    return Scope.nothing()


# --- wall screens --------------------------------------------------------------------------

@dataclass(frozen=True)
class WallDecision:
    allowed: bool
    reason: str | None = None  # a translation key, when not allowed


def wall_access(token: str | None) -> WallDecision:
    """May this request show the wall? A token, when given, decides alone (a revoked one
    stops the screen even for a logged-in admin); without one, the reader's own access,
    and only for readers of the whole province. Raises when the database cannot tell
    (the wall then treats it as an outage: last figures kept, banner, retry)."""
    if token:
        result = walltokens.check(figures.engine(), token if isinstance(token, str) else None)
        if result.valid:
            if has_request_context():
                g._auth_wall_token = result.token
            return WallDecision(True)
        return WallDecision(False, f"auth_wall_token_{result.status}")
    if not installed():
        return WallDecision(True)
    user = current_user()
    if user is not None:
        return WallDecision(True) if user.scope.is_everything else WallDecision(False, "auth_wall_unit_scope")
    if anonymous_read(strict=True):
        return WallDecision(True)
    return WallDecision(False, "auth_wall_needs_token")
