"""The JSON API (/api/v1). Every route reads its parameters through the one request reader
(``dashboard.request``) and answers with ``dashboard.apidata``'s payloads.

* ``GET /api/v1/indicators`` — the catalogue;
* ``GET /api/v1/units?level=&unit=`` — units (or facilities) beneath a unit;
* ``GET /api/v1/values?indicator=&period=&level=&unit=`` — figure rows, the same columns as the
  CSV/XLSX downloads;
* ``GET /api/v1/completeness?indicator=&period=&unit=`` — who reported and who did not;
* ``GET /api/v1/openapi.json`` — the OpenAPI 3.1 document of all of these (``dashboard/openapi.py``).

``parent`` and ``code`` are accepted as old names of ``unit``. Scope is the reader's: a unit
outside a unit head's scope (or the province-wide default they may not see) is a 403 problem of
the request, answered as 403 JSON by ``apidata.answer``. Errors are JSON too: an unknown
path is 404 and a wrong method 405, both bilingual; while the database is unreachable every
endpoint answers 503 with ``Retry-After`` (the API never serves last-good figures: a program
reading it has no banner to tell it they are old).
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from flask import request as flask_request
from sqlalchemy.exc import DBAPIError

from . import apidata, cache, request
from .i18n import t

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def register(server: Flask) -> None:
    # Vietnamese stays readable in every JSON answer ("Không có chỉ tiêu", not "Kh\u00f4ng…").
    server.json.ensure_ascii = False
    if "api_v1" not in server.blueprints:
        server.register_blueprint(bp)
    csrf = server.extensions.get("csrf")
    if csrf is not None:
        # The API reads only (GET); any other method is answered 405 by the routes, not refused
        # as a form without its token.
        csrf.exempt(bp)


# --- errors: unknown paths, wrong methods, outages ----------------------------------------------

def _error(status: int, key: str, **values):
    vi, en = t(key, "vi", **values), t(key, "en", **values)
    resp = jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    if status == 503:
        resp.headers["Retry-After"] = str(cache.RETRY_AFTER)
    return resp


#: The bilingual JSON error every JSON route answers with (``geoserve`` too).
error_response = _error


def unavailable():
    """503 + Retry-After, bilingual: the database is away."""
    return _error(503, "sec_unavailable")


@bp.before_request
def _never_from_fallback():
    cache.strict_request()


@bp.errorhandler(cache.DataUnavailable)
@bp.errorhandler(DBAPIError)
def _database_away(_exc):
    return unavailable()


def _endpoints() -> dict[str, set[str]]:
    """Known API paths and their methods, from the routes themselves."""
    from flask import current_app

    out: dict[str, set[str]] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1.") and rule.endpoint != "api_v1.not_found":
            out.setdefault(rule.rule, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return out


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    """Anything under /api/v1 that is not an endpoint: JSON, never the app's HTML shell."""
    known = _endpoints()
    path = flask_request.path
    if path in known:  # the path exists, the method does not
        allowed = ", ".join(sorted(known[path]))
        resp = _error(405, "sec_api_method", path=path, method=flask_request.method, allowed=allowed)
        resp.headers["Allow"] = allowed
        return resp
    return _error(404, "sec_api_not_found", path=path[:200], known=", ".join(sorted(known)))


# --- the endpoints ------------------------------------------------------------------------------

def _json(view: str, builder) -> Response:
    body, status = apidata.answer(builder, request.from_flask(view))
    if status == 500 and cache.outage() is not None:  # not a fault of ours: the database is away
        return unavailable()
    return Response(body, status=status, content_type="application/json; charset=utf-8")


@bp.get("/indicators")
def indicators():
    return _json("api.indicators", apidata.indicators_payload)


@bp.get("/units")
def units():
    return _json("api.units", apidata.units_payload)


@bp.get("/values")
def values():
    return _json("api.values", apidata.values_payload)


@bp.get("/completeness")
def completeness():
    return _json("api.completeness", apidata.completeness_payload)


@bp.get("/openapi.json")
def openapi_document():
    from . import openapi, table

    return Response(table.dumps(openapi.document()), status=200, content_type="application/json; charset=utf-8")
