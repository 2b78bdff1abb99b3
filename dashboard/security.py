"""HTTP hardening of the web application: headers, size limits, status codes, compression
and cache lifetimes. Everything is installed on the Flask server by :func:`install`.

**Content-Security-Policy.** What Dash and plotly need, and nothing more:

* ``script-src 'self'`` plus the SHA-256 of each inline script Dash writes into its page:
  ``var renderer = new DashRenderer();`` and the clientside callbacks (Dash Pages' own
  ``document.title`` one included), from ``Dash.csp_hashes()``. Every other script (the
  renderer, React, the component bundles, plotly.js loaded on demand by dcc.Graph, our
  ``assets/*.js``) is a same-origin file. No ``'unsafe-eval'``: the traces we draw
  (go.Choropleth, scatter, bar) never compile code; WebGL traces would.
  The ``<script id="_dash-config" type="application/json">`` block is data, not script,
  so CSP does not apply to it.
* ``style-src 'self' 'unsafe-inline'``: plotly.js inserts ``<style>`` rules at run time
  and sets ``style`` attributes on its SVG; dash-bootstrap-components and dash_table do
  the same. There is no way to give those a nonce.
* ``img-src 'self' data: blob:``: Bootstrap's inline SVG icons and plotly's "download as
  PNG" (a data: URL).
* ``font-src 'self' data:``; ``connect-src 'self'`` (callbacks, plotly's base topology from
  assets/); ``worker-src 'self' blob:``; ``object-src 'none'``; ``base-uri 'self'``;
  ``form-action 'self'``.
* ``frame-ancestors`` from ``FRAME_ANCESTORS`` (default ``'self'``), so the provincial
  operations centre's portal may embed the wall screen when it is named there.

**Other headers**: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``
(URLs carry unit codes: they stay on this site), ``X-Frame-Options`` for old browsers when
frame-ancestors is just ``'self'`` or ``'none'``, a Permissions-Policy that turns off the
camera, microphone and location, and ``Cross-Origin-Opener-Policy: same-origin``.

**Size limits**: ``MAX_REQUEST_BYTES`` for every request and ``MAX_UPLOAD_BYTES`` for the
routes registered with :func:`upload_route`. A declared ``Content-Length`` over the limit is
refused with 413 before anything reads the body; a chunked body is read up to one byte past
the limit and refused there (never handed on truncated). (Dash's ``dcc.Upload`` sends files inside a callback's JSON, so
an upload page should post to its own route registered here rather than raise the limit of
every callback.)

**Status codes**: an unknown page answers 404 (Dash Pages serves its shell with 200 for any
path; the shell then shows the translated "not found" page of layouts/not_found_404.py);
``/api/…`` answers JSON errors (dashboard/api.py); every 503 and 429 carries
``Retry-After``; a database outage that escapes a view is a 503, never a 500.

**Callback envelopes**: a POST to ``/_dash-update-component`` must name a server-side callback
and carry exactly its declared outputs, inputs and states (ids and properties), with
``changedPropIds`` a list of their names, as Dash's renderer sends them; anything else (not
JSON, an unknown or clientside output, a missing input, a list where a dict goes) is a
bilingual 400 JSON instead of Dash's KeyError or TypeError (a 500). The *values* are not
judged here: each callback reads them through ``dashboard.request`` like a URL.

**Compression and caching**: brotli or gzip for pages, callbacks, CSS and JavaScript
(dashboard/compression.py). Dash's fingerprinted files (component suites, and assets/
requested with their ``?m=`` stamp) are cached for a year, ``immutable``: a new version has
a new URL.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import threading

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import cache, compression
from .config import Settings
from .i18n import t

log = logging.getLogger(__name__)

#: Path prefixes that take the upload limit instead of the request limit.
UPLOAD_PATHS: list[str] = []
#: Path prefixes whose answers are files or JSON for machines: never from a fallback.
STRICT_PATHS = ("/api/", "/export/")
#: Dash's two endpoints that serve the app shell for a page path.
DASH_INDEX_ENDPOINTS = ("/", "/<path:path>")
YEAR = 365 * 24 * 3600


def upload_route(prefix: str) -> str:
    """Give requests under `prefix` the upload limit (MAX_UPLOAD_BYTES); returns `prefix`."""
    if prefix not in UPLOAD_PATHS:
        UPLOAD_PATHS.append(prefix)
    return prefix


def body_limit(path: str, settings: Settings) -> int:
    if any(path.startswith(p) for p in UPLOAD_PATHS):
        return settings.max_upload_bytes
    return settings.max_request_bytes


# --- Content-Security-Policy --------------------------------------------------------------

def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def inline_script_hashes(app) -> list[str]:
    """The hashes of the inline scripts Dash writes into its page (what Dash.csp_hashes()
    computes, without moving Dash's pending global scripts around while requests run)."""
    from dash import _callback

    scripts = list(app._inline_scripts) + list(_callback.GLOBAL_INLINE_SCRIPTS) + [app.renderer]
    return [_sha256(s) for s in dict.fromkeys(scripts)]


def content_security_policy(app, frame_ancestors: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *inline_script_hashes(app)]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def security_headers(app, settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(app, settings.frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    legacy = {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(settings.frame_ancestors)
    if legacy:
        headers["X-Frame-Options"] = legacy
    return headers


class _HeaderCache:
    """The headers, recomputed only when Dash has added inline scripts (its page router adds
    one at the first request)."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings
        self.key: tuple | None = None
        self.headers: dict[str, str] = {}
        self.lock = threading.Lock()

    def get(self) -> dict[str, str]:
        from dash import _callback

        key = (len(self.app._inline_scripts), len(_callback.GLOBAL_INLINE_SCRIPTS))
        if key != self.key:
            with self.lock:
                self.headers = security_headers(self.app, self.settings)
                self.key = key
        return self.headers


# --- responses ----------------------------------------------------------------------------

def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/_dash-update-component"


def _error(status: int, key: str, **values) -> Response:
    vi, en = t(key, "vi", **values), t(key, "en", **values)
    if _wants_json():
        resp = jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}})
        resp.status_code = status
    else:
        resp = Response(f"{vi}\n{en}\n", status=status, mimetype="text/plain; charset=utf-8")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _unknown_page(app) -> bool:
    """True when Dash would serve its shell for a path no page is registered at."""
    from dash._pages import _path_to_page

    path = app.strip_relative_path(request.path) or ""
    page, _ = _path_to_page(path.strip("/"))
    return not page or page.get("module", "").split(".")[-1] == "not_found_404"


CALLBACK_PATH = "/_dash-update-component"


#: Values Dash's own callbacks (the Pages router) use without a check: their browser always
#: sends these types (and a pathname inside the app), anything else is an exception inside Dash.
DASH_VALUE_TYPES = {("_pages_location", "pathname"): (str,), ("_pages_location", "search"): (str, type(None)),
                    ("_pages_store", "data"): (dict, type(None))}


def _plain(prop: str) -> str:
    return prop.split("@", 1)[0]  # allow_duplicate outputs carry "@<hash>" in the callback's key


def _same_items(given, declared: list[dict]) -> bool:
    """`given` is the renderer's list for `declared` (each {"id", "property", ...})."""
    if not isinstance(given, list) or len(given) != len(declared):
        return False
    for item, spec in zip(given, declared):
        if isinstance(spec.get("id"), dict) and isinstance(item, list):  # a pattern-matching group
            if not all(isinstance(i, dict) and i.get("property") == spec["property"] for i in item):
                return False
            continue
        if not isinstance(item, dict) or item.get("id") != spec["id"] or item.get("property") != spec["property"]:
            return False
    return True


def callback_envelope_ok(app, body) -> bool:
    """True when `body` has the shape Dash's dispatcher assumes for a server-side callback."""
    from dash._utils import split_callback_id

    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    spec = app.callback_map.get(body["output"])
    if not isinstance(spec, dict) or not callable(spec.get("callback")):
        return False  # unknown, or a clientside callback (runs in the browser only)
    declared = split_callback_id(body["output"])
    outputs = body.get("outputs")
    if isinstance(declared, dict):
        declared, outputs = [declared], [outputs] if isinstance(outputs, dict) else None
    declared = [{"id": o["id"], "property": _plain(o["property"])} for o in declared]
    if outputs is not None and not _same_items([{**o, "property": _plain(o["property"])}
                                                if isinstance(o, dict) and isinstance(o.get("property"), str) else o
                                                for o in outputs], declared):
        return False
    if outputs is None and not spec.get("no_output"):
        return False
    if not _same_items(body.get("inputs"), spec.get("inputs", [])) or \
            not _same_items(body.get("state", []), spec.get("state", [])):
        return False
    for item in [*body["inputs"], *body.get("state", [])]:
        types = DASH_VALUE_TYPES.get((item.get("id"), item.get("property"))) if isinstance(item, dict) else None
        if types is not None and not isinstance(item.get("value"), types):
            return False
        if types is not None and item["property"] == "pathname" and \
                not item["value"].startswith(app.config.requests_pathname_prefix):
            return False  # Dash's router refuses a path outside the app (UnsupportedRelativePath)
    changed = body.get("changedPropIds", [])
    return isinstance(changed, list) and all(isinstance(c, str) for c in changed)


class _DashSetup:
    """Dash fills ``app.callback_map`` (the pages' ``dash.callback`` functions, then its Pages
    router) in two before-request hooks of its own, on a process's first request. The envelope
    check runs before them (it is the first hook), so on a fresh worker it would judge a valid
    callback against an empty map and refuse it: the 400 a wall screen saw after a restart.
    Dash's hooks also set their "done" flag *before* doing the work, so a second thread of the
    same worker could pass them while the first is still filling the map. Here they run once,
    to the end, under a lock, before any request is judged; Dash's own calls then return at
    once (each checks ``app._got_first_request``)."""

    ROUTER = "Dash.enable_pages.<locals>.router_sync"  # the Pages router of a Flask app

    def __init__(self, app):
        self.app, self.done, self.lock = app, False, threading.Lock()

    def ensure(self) -> None:
        if self.done:
            return
        with self.lock:
            if self.done:
                return
            self.app._setup_server()
            for hook in list(self.app.server.before_request_funcs.get(None, [])):
                if getattr(hook, "__qualname__", "").startswith(self.ROUTER):
                    hook()
            self.done = True


def install(app, settings: Settings) -> None:
    """Headers, limits, status codes, compression and asset lifetimes on `app.server`."""
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    # Werkzeug's own default keeps non-file form fields under 500 KB; tie it to our limit.
    server.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    headers = _HeaderCache(app, settings)
    dash_setup = _DashSetup(app)

    def _limit_and_classify():
        dash_setup.ensure()
        limit = body_limit(request.path, settings)
        request.max_content_length = limit  # what Werkzeug's own checks and form parsing enforce
        if limit != settings.max_request_bytes:
            # Werkzeug's multipart parser refuses a chunk of the body over the form memory limit
            # even when it belongs to a file: an upload route takes its own limit there too.
            request.max_form_memory_size = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            _buffer_unsized_body(limit)
        if request.path.startswith(STRICT_PATHS):
            cache.strict_request()
        if request.path == CALLBACK_PATH and request.method == "POST" and \
                not callback_envelope_ok(app, request.get_json(silent=True)):
            log.warning("refused a malformed callback request (%s bytes)", request.content_length)
            return _error(400, "sec_bad_callback")

    # First of all hooks: the gate and the CSRF check read the form, which must already be
    # held to this route's limit (an upload route's, not every request's).
    server.before_request_funcs.setdefault(None, []).insert(0, _limit_and_classify)

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        limit = body_limit(request.path, settings)
        log.warning("refused %s %s: body over %d bytes", request.method, request.path, limit)
        # The unread rest of the body is not read: gunicorn drains at most 64 KB of it and
        # then closes the connection.
        return _error(413, "sec_too_large", limit=_megabytes(limit))

    @server.errorhandler(cache.DataUnavailable)
    def _unavailable(_exc):
        return _error(503, "sec_unavailable")

    from sqlalchemy.exc import DBAPIError

    @server.errorhandler(DBAPIError)
    def _database_error(exc):
        log.warning("database error in %s: %s", request.path, exc.__class__.__name__)
        return _error(503, "sec_unavailable")

    @server.after_request
    def _finish(response: Response) -> Response:
        for name, value in headers.get().items():
            response.headers.setdefault(name, value)
        if response.status_code in (429, 503) and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(g.get("retry_after", cache.RETRY_AFTER))
        endpoint = request.endpoint
        if endpoint in DASH_INDEX_ENDPOINTS and response.status_code == 200 and _unknown_page(app):
            response.status_code = 404
        elif endpoint == "_dash_assets.static" and request.args.get("m") and response.status_code in (200, 304):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        elif endpoint == compression.BUNDLE_ENDPOINT and response.cache_control.max_age == YEAR:
            response.cache_control.public = True
            response.cache_control.immutable = True
        return response

    compression.enable(server)


def _buffer_unsized_body(limit: int) -> None:
    """A chunked body has no Content-Length to judge it by. Werkzeug's own cap stops reading at
    the limit *silently* (an upload would arrive truncated), so read it here, one byte past
    the limit at most: over it is a 413, under it the body is handed on with its length."""
    raw = request.environ["wsgi.input"]
    parts, size = [], 0
    while size <= limit:
        part = raw.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise RequestEntityTooLarge()
    request.environ["wsgi.input"] = io.BytesIO(b"".join(parts))
    request.environ["CONTENT_LENGTH"] = str(size)


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".rstrip("0").rstrip(".") + " MB"
