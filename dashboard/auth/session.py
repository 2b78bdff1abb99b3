"""Signed-cookie sessions whose key is decided at request time, with Secure set by HTTPS.

Flask opens the session before any ``before_request`` hook runs, so the key (configured,
or the demo database's own while only the demo is loaded; see ``secret.py``) is resolved
here. Without a usable key the request gets a null session: nobody is logged in, nothing
is written, and the gate answers with the refusal page.

The cookie is HttpOnly and SameSite=Lax always, and Secure whenever the request came over
HTTPS, directly or through a proxy trusted by TRUSTED_PROXIES (werkzeug's ProxyFix sets
the scheme), or always with SESSION_COOKIE_SECURE=true.
"""
from __future__ import annotations

import logging

from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from . import access

log = logging.getLogger(__name__)

#: Requests that never need a session: static files and Dash's own bundles.
SESSIONLESS_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico", "/_reload-hash", "/static/",
                        "/healthz", "/readyz")  # the load balancer's probes carry no session


def sessionless(path: str) -> bool:
    return path.startswith(SESSIONLESS_PREFIXES)


class DashboardSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, req):
        if sessionless(req.path):
            return self.null_session_class()
        try:
            verdict = access.secret_verdict()
        except Exception:  # noqa: BLE001 - a session problem must never become a 500
            log.exception("session key could not be decided")
            return self.null_session_class()
        if verdict.key is None:
            return self.null_session_class()
        if app.secret_key != verdict.key:
            app.secret_key = verdict.key  # CSRF tokens are signed with it too
        return super().open_session(app, req)

    def get_cookie_secure(self, app) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure
