"""The JSON API (/api/v1). Every route reads its parameters through the one request reader
(``dashboard.request``) and answers with ``dashboard.apidata``'s payloads.

* ``GET /api/v1/indicators`` — the catalogue;
* ``GET /api/v1/units?level=&unit=`` — units (or facilities) beneath a unit;
* ``GET /api/v1/values?indicator=&period=&level=&unit=`` — figure rows, the same columns as the
  CSV/XLSX downloads;
* ``GET /api/v1/completeness?indicator=&period=&unit=`` — who reported and who did not.

``parent`` and ``code`` are accepted as old names of ``unit``.
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response

from . import apidata, request

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


def _json(view: str, builder) -> Response:
    body, status = apidata.answer(builder, request.from_flask(view))
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
