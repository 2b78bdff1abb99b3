"""Scope checks for the JSON API's unit parameters (a first proof of scope; the request
reader will carry them for every route).

A unit head asking for a unit outside their scope gets 403 JSON naming the parameter.
Endpoints whose default is the whole province (values, completeness) need an explicit
unit of theirs: the province itself is context only, never broken down for them.
"""
from __future__ import annotations

from flask import request

from .. import figures
from . import access, views

#: Parameters that name a unit, per endpoint; the endpoints that default to the province.
UNIT_PARAMETERS = ("parent", "code", "unit")
PROVINCE_DEFAULT = {"values": "parent", "completeness": "code"}


def api_scope_guard():
    """``before_request`` of the API blueprint: None to go on, or a 403 answer."""
    scope = access.current_scope()
    if scope.is_everything:
        return None
    for parameter in UNIT_PARAMETERS:
        code = (request.args.get(parameter) or "").strip()
        if code and not scope.allows(code):
            return views.forbidden_json(parameter, code[:40])
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    parameter = PROVINCE_DEFAULT.get(endpoint)
    if parameter is None:
        return None
    asks_province = endpoint == "values" and (request.args.get("level") or "").strip() == "province"
    if asks_province or not (request.args.get(parameter) or "").strip():
        try:
            root = figures.root_code()
        except Exception:  # noqa: BLE001 - no units: nothing to leak
            return None
        if not scope.allows(root):
            return views.forbidden_json(parameter, None, key="auth_forbidden_default", param=parameter,
                                        code=scope.home or "…")
    return None
