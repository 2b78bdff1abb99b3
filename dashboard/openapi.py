"""The OpenAPI 3.1 document of the JSON API (/api/v1), served at ``/api/v1/openapi.json``.

The document is data (:data:`DOCUMENT`), kept next to the routes (``dashboard/api.py``) and the
payloads (``dashboard/apidata.py``); ``tests/test_openapi.py`` checks that every route of the
blueprint is described and nothing else, and runs schemathesis against the real API with it.
:func:`document` adds what the database knows at the time of asking: the indicator codes and
the levels as enums (left out while the database is away: the document is still served).

Parameters are those of the request reader's views (``dashboard.request.VIEWS``: ``api.*``);
the old names of ``unit`` (``parent``, ``code``, ``zone``) and of ``indicator`` (``ind``) are
described as deprecated. Every error has one bilingual shape (``Error``).
"""
from __future__ import annotations

import copy
import logging
from typing import Any

log = logging.getLogger(__name__)

JSON = "application/json"
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"


def _nullable(kind: str | list[str], **extra) -> dict:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {"type": kinds + ["null"], **extra}


def _param(name: str, description: str, schema: dict, *, required: bool = False, deprecated: bool = False) -> dict:
    out = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    if deprecated:
        out["deprecated"] = True
    return out


LANG = _param("lang", "Language of names and words in the answer (default vi).",
              {"type": "string", "enum": ["vi", "en"]})
PERIOD = _param("period", "A month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY); default the latest month with data. "
                "A period after the latest data is refused.", {"type": "string", "pattern": PERIOD_PATTERN})
INDICATOR = _param("indicator", "Indicator code (GET /api/v1/indicators lists them).", {"type": "string"},
                   required=True)
IND = _param("ind", "Old name of indicator.", {"type": "string"}, deprecated=True)
LEVEL = _param("level", "Level of the units in the answer.", {"type": "string"})
UNITS = _param("units", "For a period before the 2025 reform: 'today' (default beneath a unit of today: today's "
               "units, their figures derived from their predecessors, see basis) or 'then' (the old units as "
               "they were, with their own reported figures).", {"type": "string", "enum": ["today", "then"]})
UNIT = _param("unit", "Code of a unit (or facility): the answer lies beneath it (default the province). A plain "
                      "code names the unit of that code valid today (else the one valid in the period asked); "
                      "`<code>@<YYYY-MM>` names the unit of that code valid in that month, e.g. an old commune "
                      "before the 2025 reform: `31150@2025-06`.",
              {"type": "string", "maxLength": 200})
UNIT_ALIASES = [_param(name, "Old name of unit.", {"type": "string", "maxLength": 200}, deprecated=True)
                for name in ("parent", "code", "zone")]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "Vietnamese / English"},
            "parameter": {"type": "string", "description": "The parameter at fault (400, 403)"},
            "value": {"type": "string"},
            "login": {"type": "string", "description": "Where to sign in (401)"},
            "message": {"type": "object", "required": ["vi", "en"],
                        "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}},
        },
    },
    "Indicator": {
        "type": "object",
        "required": ["code", "name_vi", "name_en", "time_agg", "higher_is_better", "reported_by", "latest_month"],
        "properties": {
            "code": {"type": "string"}, "name_vi": {"type": "string"}, "name_en": {"type": "string"},
            "short_vi": _nullable("string"), "short_en": _nullable("string"),
            "numerator_vi": _nullable("string"), "numerator_en": _nullable("string"),
            "denominator_vi": _nullable("string"), "denominator_en": _nullable("string"),
            "time_agg": {"type": "string", "enum": ["stock", "flow"]},
            "higher_is_better": {"type": "boolean"},
            "display_unit": _nullable("string"), "decimals": _nullable("number"),
            "unit_vi": _nullable("string"), "unit_en": _nullable("string"),
            "reported_by": {"type": "array", "items": {"type": "string"},
                            "description": "Kinds of entity that report it: commune, province, facility:hospital…"},
            "headline": _nullable("number"),
            "latest_month": _nullable("string", description="YYYY-MM of the latest data"),
        },
    },
    "Indicators": {
        "type": "object", "required": ["indicators", "demo"],
        "properties": {"indicators": {"type": "array", "items": {"$ref": "#/components/schemas/Indicator"}},
                       "demo": {"type": "boolean", "description": "True while the demo data is loaded"}},
    },
    "Unit": {
        "type": "object", "required": ["code", "name", "level", "parent_code"],
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"},
            "parent_code": _nullable("string"),
            "valid_from": _nullable("string"), "valid_to": _nullable("string"),
            "type": _nullable("string", description="Facilities only: hospital, health_centre, station, other"),
            "lat": _nullable("number"), "lon": _nullable("number"),
        },
    },
    "Units": {
        "type": "object", "required": ["level", "unit", "units"],
        "properties": {"level": _nullable("string"), "unit": _nullable("string"),
                       "units": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}},
    },
    "FigureRow": {
        "type": "object",
        "description": "One unit's figure: the same columns as /export/data.csv (dashboard/table.py).",
        "required": ["indicator", "period", "code", "name", "level"],
        "properties": {
            "indicator": {"type": "string"}, "indicator_name": _nullable("string"), "period": {"type": "string"},
            "code": {"type": "string"}, "name": _nullable("string"), "level": {"type": "string"},
            "parent_code": _nullable("string"),
            "numerator": _nullable("number"), "denominator": _nullable("number"), "value": _nullable("number"),
            "basis": {"type": "integer", "enum": [0, 1, 2],
                      "description": "How the figure was obtained: 0 reported; 1 from predecessors (exact: a month "
                                     "before the 2025 reform, the sum of the whole old units a unit was formed "
                                     "from); 2 estimated (an old unit was divided: its share is counted)"},
            "basis_text": _nullable("string", description="The basis in words, in the language asked "
                                                          "(báo cáo / suy từ đơn vị cũ (chính xác) / ước tính)"),
            "target": _nullable("number"), "deadline": _nullable("string"),
            "status": _nullable("string", description="achieved, on_track, at_risk, off_track, overdue, no_data, "
                                                      "no_target, not_applicable"),
            "status_text": _nullable("string"), "gap_points": _nullable("number"), "gap_units": _nullable("number"),
            "reported": _nullable("number"), "expected": _nullable("number"), "completeness": _nullable("number"),
            "target_source": _nullable("string"), "last_month": _nullable("string"), "demo": _nullable("boolean"),
        },
    },
    "Values": {
        "type": "object",
        "required": ["indicator", "period", "level", "unit", "as_of", "data_until", "demo", "columns", "rows"],
        "properties": {
            "indicator": {"type": "string"}, "period": _nullable("string"), "level": _nullable("string"),
            "unit": _nullable("string"), "as_of": _nullable("string"), "data_until": _nullable("string"),
            "demo": {"type": "boolean"}, "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"$ref": "#/components/schemas/FigureRow"}},
        },
    },
    "Completeness": {
        "type": "object", "required": ["indicator", "period", "code", "expected", "reported", "completeness", "missing"],
        "properties": {
            "indicator": {"type": "string"}, "period": {"type": "string"}, "code": {"type": "string"},
            "expected": {"type": "integer"}, "reported": {"type": "integer"},
            "completeness": _nullable("number", description="reported / expected, 0–1"),
            "missing": {"type": "array", "items": {
                "type": "object", "required": ["zone_code", "zone_name", "entities"],
                "properties": {"zone_code": _nullable("string"), "zone_name": _nullable("string"),
                               "entities": {"type": "array", "items": {
                                   "type": "object", "required": ["code", "name"],
                                   "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}}}}},
        },
    },
    "OpenAPI": {"type": "object", "required": ["openapi", "paths"]},
}


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {
    "400": _error("A parameter is wrong (repeated, wrong type, control character, too long, unknown code, "
                  "future period): the default is not guessed"),
    "401": _error("Sign-in required (when anonymous reading is off)"),
    "403": _error("The unit lies outside the signed-in user's scope"),
    "503": {**_error("The database is unreachable: try again later (never last-good figures here)"),
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}},
}


def _operation(summary: str, operation_id: str, parameters: list[dict], schema: str, *,
               not_found: str | None = None, errors: tuple[str, ...] = ("400", "401", "403", "503")) -> dict:
    responses = {"200": {"description": "OK", "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}
    responses.update({code: ERRORS[code] for code in errors})
    if not_found:
        responses["404"] = _error(not_found)
    return {"get": {"summary": summary, "operationId": operation_id, "parameters": parameters, "responses": responses}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Dashboard chỉ đạo điều hành — API",
        "version": "1",
        "description": "Read-only figures of the Department of Health's dashboard: the indicator catalogue, units, "
                       "figure rows (the same as the CSV/XLSX downloads) and reporting completeness. "
                       "Unknown parameters are ignored; unknown paths answer 404 JSON, other methods 405 JSON.",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/indicators": _operation("The indicator catalogue", "indicators", [LANG], "Indicators",
                                  errors=("400", "401", "503")),
        "/units": _operation("Units (or facilities) of a level beneath a unit", "units",
                             [LANG, LEVEL, UNIT, *UNIT_ALIASES], "Units"),
        "/values": _operation("Figure rows of one indicator over the units of a level", "values",
                              [LANG, INDICATOR, IND, PERIOD, LEVEL, UNIT, UNITS, *UNIT_ALIASES], "Values"),
        "/completeness": _operation("Who reported an indicator in a period, and who did not", "completeness",
                                    [LANG, INDICATOR, IND, PERIOD, UNIT, *UNIT_ALIASES], "Completeness",
                                    not_found="No data for the indicator yet"),
        "/openapi.json": _operation("This document", "openapi", [], "OpenAPI", errors=("401", "503")),
    },
    "components": {"schemas": SCHEMAS},
}


def document(live: bool = True) -> dict:
    """The document, with the indicator codes and the levels the database holds as enums."""
    doc = copy.deepcopy(DOCUMENT)
    if not live:
        return doc
    try:
        from . import figures, hierarchy

        codes = [str(c) for c in figures.indicators()["code"]]
        levels = list(hierarchy.all_levels())
    except Exception:  # noqa: BLE001 - the database is away: the document without its enums
        log.warning("OpenAPI document without enums: the catalogue is unavailable")
        return doc
    for path in doc["paths"].values():
        for param in path["get"]["parameters"]:
            if param["name"] in ("indicator", "ind") and codes:
                param["schema"] = {"type": "string", "enum": codes}
            elif param["name"] == "level" and levels:
                param["schema"] = {"type": "string", "enum": levels}
    return doc
