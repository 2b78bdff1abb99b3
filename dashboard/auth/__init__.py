"""Accounts, sign-in, roles, unit scope and wall-screen tokens.

``init_app(app, settings)`` installs, on the Dash app's Flask server and without touching
the database (every decision that needs it is taken at request time):

* sessions signed with the configured key (or the demo database's own while only the demo
  is loaded), HttpOnly, SameSite=Lax, Secure over HTTPS (``session.py``);
* werkzeug's ProxyFix for TRUSTED_PROXIES hops, so HTTPS and client addresses behind a
  reverse proxy are seen;
* the gate in front of every request (``gate.py``), CSRF tokens on every form
  (Flask-WTF), flask-login, and Flask-Limiter for failed sign-ins (Redis when
  CACHE_REDIS_URL is set, memory otherwise);
* the sign-in, sign-out and wall-token pages (``views.py``).

For views and the request reader: ``current_scope()``, ``current_user()``, ``can_read()``,
``is_admin()`` and ``wall_access(token)`` (from ``access.py``), and ``Scope`` (``scope.py``).
This package says who is signed in and what their scope is; whether a request may see a unit
is decided by the request reader alone (``dashboard.request``: ``Request.forbidden``,
``Request.allows/visible/in_scope``).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from .access import (  # noqa: F401 - the package's public face
    AuthState,
    STATE_KEY,
    Undecided,
    WallDecision,
    can_read,
    current_scope,
    current_user,
    holds_only_demo,
    is_admin,
    state,
    wall_access,
)
from .scope import Scope  # noqa: F401

log = logging.getLogger(__name__)

#: Remembered per (user id, session version) so a database blip does not sign everyone out.
_LAST_GOOD_USERS: dict[str, object] = {}


def init_app(app, settings) -> None:
    from flask_limiter import Limiter
    from flask_login import LoginManager
    from flask_wtf.csrf import CSRFError, CSRFProtect

    from . import gate, views
    from .session import DashboardSessionInterface

    server = getattr(app, "server", app)
    auth_state = AuthState(settings)
    server.extensions[STATE_KEY] = auth_state
    server.config.update(
        SESSION_COOKIE_NAME="sytdash_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.session_cookie_secure),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # A token lives as long as its session: a sign-in page left open is not an error.
        WTF_CSRF_TIME_LIMIT=None,
    )
    server.session_interface = DashboardSessionInterface()
    server.wsgi_app = TrustedProxies(server.wsgi_app, lambda: auth_state.settings.trusted_proxies)

    server.before_request(gate.check)  # before CSRF and the limiter: a refused key stops all
    csrf = CSRFProtect()
    csrf.init_app(server)
    dispatch = server.view_functions.get("/_dash-update-component")
    if dispatch is not None:
        # Dash's JSON callbacks carry no token; the gate's Origin check, SameSite cookies and
        # the JSON content type protect them instead (see gate.py).
        csrf.exempt(dispatch)
    server.register_error_handler(CSRFError, views.csrf_failed)

    manager = LoginManager()
    manager.init_app(server)
    manager.user_loader(_load_user)

    redis_url = settings.cache_redis_url if settings.cache_type == "RedisCache" else None
    limiter = Limiter(
        key_func=lambda: "",  # every limit here names its own key (account, address)
        app=server,
        storage_uri=redis_url or "memory://",
        strategy="moving-window",
        key_prefix="sytdash-login",
        headers_enabled=False,
        swallow_errors=True,  # a Redis outage must not stop sign-ins
        in_memory_fallback_enabled=bool(redis_url),
    )
    auth_state.limiter = limiter
    server.register_blueprint(views.make_blueprint(limiter))

    # The one request reader asks here whose units a request may see (access scope lives there).
    from .. import request as request_reader
    from .access import current_scope

    request_reader.set_scope_provider(current_scope)


def _load_user(session_id: str):
    from .. import figures
    from .accounts import load_session_user

    try:
        user = load_session_user(figures.engine(), session_id)
    except Exception:  # noqa: BLE001 - an outage: the last good answer stands
        log.warning("accounts unavailable; using the last known account for this session")
        return _LAST_GOOD_USERS.get(session_id)
    if user is None:
        _LAST_GOOD_USERS.pop(session_id, None)
    else:
        _LAST_GOOD_USERS[session_id] = user
    return user


class TrustedProxies:
    """werkzeug's ProxyFix for as many proxy hops as configured now (0: headers ignored)."""

    def __init__(self, wsgi_app, hops):
        self.wsgi_app = wsgi_app
        self.hops = hops
        self._fixed: dict[int, object] = {}

    def __call__(self, environ, start_response):
        n = int(self.hops() or 0)
        if n <= 0:
            return self.wsgi_app(environ, start_response)
        if n not in self._fixed:
            from werkzeug.middleware.proxy_fix import ProxyFix

            self._fixed[n] = ProxyFix(self.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
        return self._fixed[n](environ, start_response)
