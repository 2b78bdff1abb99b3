"""The JSON API (/api/v1). Later issues add the endpoints; figures come from dashboard.figures.

Errors are JSON too: an unknown path is 404 and a wrong method 405, both bilingual; while
the database is unreachable every endpoint answers 503 with ``Retry-After`` (the API never
serves last-good figures: a program reading it has no banner to tell it they are old).
"""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy.exc import DBAPIError

from . import cache
from .i18n import t

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def register(server: Flask) -> None:
    # Vietnamese stays readable in every JSON answer ("Không có chỉ tiêu", not "Kh\u00f4ng…").
    server.json.ensure_ascii = False
    if "api_v1" not in server.blueprints:
        server.register_blueprint(bp)


# --- errors: unknown paths, wrong methods, outages ----------------------------------------------

def _error(status: int, key: str, **values):
    vi, en = t(key, "vi", **values), t(key, "en", **values)
    resp = jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    if status == 503:
        resp.headers["Retry-After"] = str(cache.RETRY_AFTER)
    return resp


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
    path = request.path
    if path in known:  # the path exists, the method does not
        allowed = ", ".join(sorted(known[path]))
        resp = _error(405, "sec_api_method", path=path, method=request.method, allowed=allowed)
        resp.headers["Allow"] = allowed
        return resp
    return _error(404, "sec_api_not_found", path=path[:200], known=", ".join(sorted(known)))


# --- reporting completeness -------------------------------------------------------------------

@bp.get("/completeness")
def completeness():
    """GET /api/v1/completeness?indicator=<code>&period=<YYYY-MM|YYYY-Qn|YYYY>[&code=<unit>]

    How many of the entities expected to report the indicator beneath the unit (the province
    by default) reported in the period, and which did not, grouped by zone:
    {"indicator", "period", "code", "expected", "reported", "completeness" (0..1, null when
    nothing is expected), "missing": [{"zone_code", "zone_name", "entities": [{"code", "name"}]}]}.
    `period` defaults to the indicator's latest month with data. Bad parameters: 400 with a
    bilingual {"error": ...}."""
    from flask import jsonify, request

    from . import figures, scorecard
    from .periods import PeriodError

    def bad(message: str):
        return jsonify({"error": message}), 400

    indicator = (request.args.get("indicator") or "").strip()
    if not indicator:
        return bad("Thiếu tham số indicator (mã chỉ tiêu) / missing parameter indicator (an indicator code)")
    try:
        figures.indicator(indicator)
    except figures.UnknownIndicator as exc:
        return bad(str(exc))
    period = (request.args.get("period") or "").strip() or figures.latest_month(indicator)
    if not period:
        return bad(f"Chưa có số liệu cho chỉ tiêu {indicator!r} / no data yet for indicator {indicator!r}")
    code = (request.args.get("code") or "").strip() or None
    try:
        return jsonify(scorecard.completeness(indicator, period, code))
    except PeriodError as exc:
        return bad(str(exc))
    except figures.UnknownUnit as exc:
        return bad(str(exc))


# --- catalogue and figures (map issue) --------------------------------------------------------

def _json(builder):
    from flask import Response, request

    from . import apidata

    body, status = apidata.answer(builder, request.args)
    if status == 500 and cache.outage() is not None:  # not a fault of ours: the database is away
        return unavailable()
    return Response(body, status=status, content_type="application/json; charset=utf-8")


@bp.get("/indicators")
def indicators():
    """GET /api/v1/indicators: the catalogue (codes, names in both languages, stock/flow,
    who reports each, latest month with data)."""
    from .apidata import indicators_payload

    return _json(indicators_payload)


@bp.get("/units")
def units():
    """GET /api/v1/units?level=province|district|commune|facility&parent=<code>: units (or
    facilities) beneath `parent` at any depth, all levels when `level` is absent."""
    from .apidata import units_payload

    return _json(units_payload)


@bp.get("/values")
def values():
    """GET /api/v1/values?indicator=<code>&period=<YYYY-MM|YYYY-Qn|YYYY>&level=<level>&parent=<code>:
    {"indicator", "period", "level", "parent", "as_of", "rows": [{"code", "name", "numerator",
    "denominator", "value", "target", "status", "reported", "expected", ...}]} from
    figures.figures() (the same frame as `dashboard export values`); NaN is null. Defaults:
    the latest month, level district, parent the province. Bad parameters: 400, bilingual."""
    from .apidata import values_payload

    return _json(values_payload)
