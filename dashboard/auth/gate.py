"""The gate every request passes first (a Flask ``before_request`` hook).

In order:

1. Static files and Dash's bundles pass (no figures in them, no session).
2. A refused secret key (missing or default while the database holds real data) stops
   every other request with a 503 page naming the fix.
3. Unsafe methods (POST…) must come from this site: the Origin (or Referer) header, when
   the browser sends one, must name this host. The forms also carry CSRF tokens; Dash's
   JSON callbacks cannot (its renderer sends none), so for them this check, SameSite=Lax
   session cookies and the JSON content type (a cross-site page cannot POST JSON without a
   CORS preflight, which is never granted) are the CSRF protection.
4. Sign-in pages and the admin pages pass (they check roles themselves).
5. Reading figures needs a logged-in user or anonymous read (ANONYMOUS_READ). Pages
   redirect to the sign-in page; ``/api`` and ``/export`` answer 401; Dash callbacks answer
   401 JSON, except the wall's own (its page and its refresh), which check the screen's
   token or the reader themselves, so a token screen works with nobody logged in.
6. Scope is not decided here: a page is read by the one request reader
   (``dashboard.request``, the view its page declares) and a request the reader finds
   forbidden (a unit outside a unit head's scope) is answered with the 403 page. The API and
   the downloads answer the reader's 403 themselves; inside the app the page's frame shows
   the same sentence (``layouts.common.shell``).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import jsonify, redirect, request

from ..i18n import t
from . import access, views
from .session import sessionless

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DASH_CALLBACK = "/_dash-update-component"
#: The Dash shell: the layout skeleton and the list of callbacks, no figures.
DASH_SHELL = frozenset({"/_dash-layout", "/_dash-dependencies"})
OPEN_PATHS = frozenset({"/login", "/logout"})
WALL_PATH = "/wall"
#: The wall's callbacks (dashboard.auth checks them by their outputs, as Dash names them).
WALL_REFRESH_OUTPUT = "..wall-deck.children...wall-meta.children...wall-status.children.."
PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."


def check():
    path = request.path
    if sessionless(path):
        return None
    verdict = access.secret_verdict()
    if verdict.status == "refused":
        return views.refusal(verdict)
    if request.method not in SAFE_METHODS and not same_origin():
        log.warning("cross-site %s %s refused (Origin %r, Referer %r)", request.method, path,
                    request.headers.get("Origin"), request.headers.get("Referer"))
        return _cross_site()
    if path in OPEN_PATHS or path.startswith("/admin/"):
        if verdict.status == "undecided":  # no session can be signed: a form could not work
            return views.message_page("auth_login_title", t("auth_db_unavailable", views.page_lang()), 503,
                                      tone="secondary", links=[])
        return None
    if path in DASH_SHELL:
        return None
    if path == DASH_CALLBACK:
        return _callback()
    if path.startswith("/api/"):
        return None if access.can_read() else _login_required_json()
    if path.startswith("/export/") or path.startswith("/geo/"):
        return None if access.can_read() else _login_required_json()
    if path == WALL_PATH:
        return None
    if not access.can_read():
        return redirect(views.with_lang("/login", views.page_lang(), next=request.full_path.rstrip("?")))
    return _page_scope(path)


def same_origin() -> bool:
    """True unless the browser says the request comes from another site."""
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if not referer:
            return True  # not a browser form or fetch (curl, tests): cannot carry a victim's cookie
        origin = referer
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == request.host.lower()


def _cross_site():
    vi, en = t("auth_cross_site", "vi"), t("auth_cross_site", "en")
    return jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}}), 403


def _login_required_json():
    vi, en = t("auth_login_required_api", "vi"), t("auth_login_required_api", "en")
    return jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}, "login": "/login"}), 401


def _callback():
    if access.can_read():
        return None
    if is_wall_callback(request.get_json(silent=True)):
        return None
    return _login_required_json()


def is_wall_callback(body) -> bool:
    """The wall's refresh, or the page router drawing /wall: both decide access themselves."""
    if not isinstance(body, dict):
        return False
    output = body.get("output")
    if output == WALL_REFRESH_OUTPUT:
        return True
    if output == PAGES_OUTPUT:
        for item in body.get("inputs") or []:
            if isinstance(item, dict) and item.get("id") == "_pages_location" and item.get("property") == "pathname":
                return item.get("value") == WALL_PATH
    return False


def _page_scope(path: str):
    """The 403 page when the request reader refuses what this page asks for."""
    from .. import viewcache

    if access.current_scope().is_everything:
        return None  # nothing to refuse: no need to read the page's parameters here
    req = viewcache.page_request(path, request.args)
    if req is not None and req.forbidden:
        return views.forbidden_unit_page()
    return None
