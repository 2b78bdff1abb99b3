"""``GET /geo/<level>/<parent>.json?v=<boundary version>``: one prepared boundary layer
(``boundaries.prepare_layers``), its stored text sent as is.

A screen's map names its layer by this URL (``PreparedLayer.url``) instead of carrying the
coordinates in every drill-down answer: the answer holds figures only, and the browser keeps
each layer (``immutable``: the URL changes with the boundary version) across drill-downs, page
loads and data loads. The bytes are compressed once per process (``compression``), as Dash's
bundles are. Outlines carry no figures; a reader limited to some units gets them inside the
figure instead (``maps.map_figure``), so this route serves readers of everything only.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Flask, Response, request as flask_request

from . import boundaries, cache, figures, hierarchy, request
from .i18n import t

log = logging.getLogger(__name__)

ENDPOINT = "geo_layer"
PATH = "/geo/<level>/<parent>.json"
IMMUTABLE = "private, max-age=31536000, immutable"


def _error(key: str, status: int):
    from .api import error_response  # bilingual, no-store, Retry-After on a 503

    return error_response(status, key)


def serves_reader() -> bool:
    """True when the current reader may be sent layers by URL (they see every unit)."""
    scope = request.current_scope()
    return scope is None or bool(getattr(scope, "is_everything", False))


def register(server: Flask) -> None:
    @server.get(PATH, endpoint=ENDPOINT)
    def geo_layer(level: str, parent: str):
        if not serves_reader():
            return _error("req_forbidden_layer", 403)
        try:
            if level not in hierarchy.unit_levels():
                return _error("map_layer_unknown", 404)
            code = "" if parent == boundaries.WHOLE_PATH else parent
            if code:
                figures.entity(code)  # an unknown unit is a 404, not a stored miss
            found = boundaries.prepared(level, code)
        except figures.UnknownUnit:
            return _error("map_layer_unknown", 404)
        except cache.DataUnavailable:
            return _error("map_layer_unavailable", 503)
        except Exception:  # noqa: BLE001 - never a 500 from a map's outlines
            log.warning("boundary layer %s/%s unreadable", level, parent, exc_info=True)
            return _error("map_layer_unavailable", 503)
        if found is None or not found.text:
            return _error("map_layer_unknown", 404)
        resp = Response(found.text, mimetype="application/json")
        current = flask_request.args.get("v") == found.version
        # An old version's URL still answers (a page open across a boundary import), briefly.
        resp.headers["Cache-Control"] = IMMUTABLE if current else "no-cache"
        etag = hashlib.sha1(f"{found.version}|{level}|{code}".encode("utf-8")).hexdigest()
        resp.set_etag(etag)
        # A compressed answer's tag is "<etag>:<algorithm>" (``compression``): the same layer.
        if any(tag.split(":")[0] == etag for tag in flask_request.if_none_match.as_set()):
            resp.status_code, resp.response = 304, []
            return resp
        return resp
