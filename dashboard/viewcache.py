"""Finished views cached as bytes: the answer of Dash Pages' router callback (the whole page
content for a URL, what every page load and every drill-down asks for) stored on the request
object's ``cache_key()`` and the data version, and sent again as stored, without building a
layout or serialising a figure.

* **Key**: the page's view, the request as read by ``dashboard.request`` (canonical parameters,
  the problems it shows, the reader's scope) and the data version (a load makes new keys; nothing
  is flushed). Two URLs that read the same (``?ind=hssk`` and ``?indicator=hssk``) share one entry.
* **Single flight**: on a miss one request builds the view while the others asking for the same
  key wait for it (up to ``WAIT_SECONDS``), then take what it stored, or the previous version's
  bytes, or build it themselves. A lock is an atomic ``add`` in the shared cache (Redis), so
  workers share it too.
* **Never stale as current**: an answer built while the database was away (``cache.outage()``) is
  not stored; during an outage the pages' own last-good mechanism answers.
* **Warm-up**: ``warm(app)`` builds the overview, the province map and the scorecard of the latest
  period whenever the data version changes, in a background thread, never blocking a worker.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from urllib.parse import parse_qs

from flask import Flask, Response, g, request as flask_request

from . import cache, request

log = logging.getLogger(__name__)

#: Dash Pages' router callback: the page content and its title for a location.
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
WAIT_SECONDS = 20.0
LOCK_SECONDS = 60
TIMEOUT = 24 * 3600
#: The URLs a warm-up builds after each load (the views most screens open first).
WARM_PATHS = ("/", "/map", "/targets")


def _router_location(body: dict) -> tuple[str, str] | None:
    """(pathname, search) when the callback is Dash Pages' router, else None."""
    if body.get("output") != ROUTER_OUTPUT:
        return None
    values = {i.get("property"): i.get("value") for i in body.get("inputs") or [] if isinstance(i, dict)
              and i.get("id") == "_pages_location"}
    path, search = values.get("pathname"), values.get("search")
    if not isinstance(path, str):
        return None
    return path, search if isinstance(search, str) else ""


def _view_of(path: str) -> tuple[str, dict] | None:
    """The request-reader view of a page path and its path variables (e.g. /unit/31 → unit=31)."""
    import dash

    for page in dash.page_registry.values():
        view = page.get("cache_view")  # the request-reader view of a page whose answer is cached
        if not view:
            continue
        if page.get("path_template"):
            prefix = page["path_template"].split("<", 1)[0]
            if path.startswith(prefix) and "/" not in path[len(prefix):] and len(path) > len(prefix):
                name = page["path_template"][len(prefix):].strip("<>")
                return view, {name: path[len(prefix):]}
        elif page.get("path") == path:
            return view, {}
    return None


def page_request(path: str, args) -> "request.Request | None":
    """The page at `path` read by the request reader with the query `args` (a mapping or a
    MultiDict), as its layout will read it, or None for a page that is not a reader's view.
    The unit page's unit is its path's; Dash Pages lets ``?code=`` override it, so a ``code``
    given in the query is read (and refused when outside the scope) too."""
    from urllib.parse import unquote

    found = _view_of(path.rstrip("/") or "/")
    if found is None:
        return None
    view, path_vars = found
    raw = {k: (args.getlist(k) if hasattr(args, "getlist") else args[k]) for k in args}
    if view == "unit":
        raw = {k: v for k, v in raw.items() if k != "unit"} | {"unit": unquote(path_vars.get("code", ""))}
    return request.read(view, raw)


def key_for(path: str, search: str) -> tuple[str, str] | None:
    """The cache key of the page at `path` + `search` for the current reader, or None when the
    page is not one we cache."""
    found = _view_of(path)
    if found is None:
        return None
    view, path_vars = found
    query = {k: (v if len(v) > 1 else v[0]) for k, v in parse_qs(search.lstrip("?"), keep_blank_values=True).items()}
    if view == "unit":
        query = {k: v for k, v in query.items() if k not in ("unit", "code")} | {"unit": path_vars.get("code", "")}
    req = request.read(view, query)
    from . import figures

    # The frame names the signed-in reader (their account links): one entry per reader then.
    digest = hashlib.sha1(f"{path}|{req.cache_key()}|{_reader()}".encode("utf-8")).hexdigest()
    return f"view:{figures.version()}:{digest}", f"view-last:{digest}"


def _reader() -> str:
    try:
        from .auth import current_user

        user = current_user()
    except Exception:  # noqa: BLE001 - no accounts installed (tests, the CLI)
        return ""
    return f"user:{getattr(user, 'username', '')}" if user is not None else ""


def install(server: Flask) -> None:
    """Serve and store router answers for `server` (Dash's Flask app)."""

    @server.before_request
    def _serve_cached():
        if flask_request.path != "/_dash-update-component" or flask_request.method != "POST":
            return None
        try:
            body = json.loads(flask_request.get_data(cache=True) or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        location = _router_location(body) if isinstance(body, dict) else None
        if location is None:
            return None
        try:
            keys = key_for(*location)
        except cache.DataUnavailable:
            return None  # the database is away: the page's own fallback answers
        except Exception:  # noqa: BLE001 - the cache is an optimisation, never a failure
            log.warning("view cache: no key for %s", location, exc_info=True)
            return None
        if keys is None or cache.outage() is not None:
            return None  # during an outage the page is built from last-good figures, with its banner
        key, last_key = keys
        from .compression import view_response

        hit = cache._get(key)
        if hit is not None:
            return view_response(key, hit)
        hit = _wait_for(key, last_key)
        if hit is not None:  # another request's bytes for this key, or the previous version's
            return view_response(None, hit)
        g.viewcache_keys = keys
        return None

    @server.after_request
    def _store(response):
        keys = g.pop("viewcache_keys", None)
        if keys is None:
            return response
        key, last_key = keys
        try:
            if response.status_code == 200 and cache.outage() is None and not response.direct_passthrough:
                data = response.get_data()
                cache._set(key, data, timeout=TIMEOUT)
                cache._set(last_key, data, timeout=TIMEOUT)
        finally:
            _unlock(key)
        return response


def _lock_key(key: str) -> str:
    return f"lock:{key}"


def _wait_for(key: str, last_key: str) -> bytes | None:
    """None when this request is to build the view (it holds the lock); else the bytes another
    request built, or the previous version's while it is still building."""
    try:
        if cache.backend().add(_lock_key(key), 1, timeout=LOCK_SECONDS):
            return None
    except Exception:  # noqa: BLE001 - no shared lock: build it ourselves
        return None
    previous = cache._get(last_key)
    if previous is not None:
        return previous  # the view as of the previous load, while this one is being built
    deadline = time.monotonic() + WAIT_SECONDS
    delay = 0.05
    while time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
        hit = cache._get(key)
        if hit is not None:
            return hit
    return None


def _unlock(key: str) -> None:
    try:
        cache.backend().delete(_lock_key(key))
    except Exception:  # noqa: BLE001
        pass


# --- warm-up ------------------------------------------------------------------------------------

_warmed: dict[str, int] = {}


def warm(app, paths=WARM_PATHS) -> int:
    """Build the most-opened views for the current data version (if not built yet): their figures
    (shared by every reader) as a reader of everything, and, where anonymous reading is on, their
    finished bytes by asking the app itself as a browser would. Returns how many it built."""
    from . import figures
    from .auth.scope import Scope

    try:
        version = figures.version()
    except Exception:  # noqa: BLE001 - no database yet: the next round tries again
        return 0
    url = figures.engine().url.render_as_string(hide_password=False)
    if _warmed.get(url) == version:
        return 0
    built = 0
    with app.server.test_request_context("/"), request.as_reader(Scope.everything()):
        for path in paths:
            found = _view_of(path)
            page = next((p for p in _pages() if p.get("path") == path), None)
            if found and page is not None:
                page["layout"]()  # the figures behind it land in the shared cache
    client = app.server.test_client()
    for path in paths:
        body = {"output": ROUTER_OUTPUT, "outputs": [
            {"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
        resp = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
        built += resp.status_code == 200
    _warmed[url] = version
    return built


def _pages():
    import dash

    return list(dash.page_registry.values())


_warming = threading.Event()


def start_warming(app, every: float = 5.0) -> None:
    """A daemon thread (one per process) that warms the views whenever the data version changes."""
    if _warming.is_set():
        return
    _warming.set()

    def loop():
        while True:
            try:
                warm(app)
            except Exception:  # noqa: BLE001 - never let warming take anything down
                log.warning("view warm-up failed", exc_info=True)
            time.sleep(every)

    threading.Thread(target=loop, name="view-warm-up", daemon=True).start()
