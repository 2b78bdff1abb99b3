"""The JSON API (/api/v1). Later issues add the endpoints; figures come from dashboard.figures."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


@bp.before_request
def _scope():
    """A unit head's unit parameters must lie in their scope: 403 JSON otherwise."""
    from .auth.guards import api_scope_guard

    return api_scope_guard()


def register(server: Flask) -> None:
    # Vietnamese stays readable in every JSON answer ("Không có chỉ tiêu", not "Kh\u00f4ng…").
    server.json.ensure_ascii = False
    if "api_v1" not in server.blueprints:
        server.register_blueprint(bp)


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
