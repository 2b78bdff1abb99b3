"""The payloads of the JSON API (routes in dashboard/api.py).

Each builder takes the :class:`~dashboard.request.Request` the route read (views
``api.indicators``, ``api.units``, ``api.values``, ``api.completeness``) and returns
``(payload, http_status)``. Figure rows are ``dashboard.table``'s: the same columns, rounding and
words as the CSV and XLSX downloads. A request with problems answers 400 (403 for a unit outside
the user's scope) with one bilingual shape: ``{"error", "parameter", "message": {"vi", "en"}}``.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import figures, hierarchy, table
from .i18n import t
from .request import Request

log = logging.getLogger(__name__)


def clean(value: Any) -> Any:
    """JSON-safe: NaN/NA -> None, numpy scalars -> Python, dates -> 'YYYY-MM-DD'."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def error_payload(req: Request) -> dict:
    worst = max(req.problems, key=lambda p: p.status)
    return worst.payload()


def indicators_payload(req: Request) -> tuple[dict, int]:
    table_ = figures.indicators().sort_values("sort_order")
    out = []
    for row in table_.to_dict("records"):
        out.append({
            "code": row["code"], "name_vi": row["name_vi"], "name_en": row["name_en"],
            "short_vi": clean(row.get("short_vi")), "short_en": clean(row.get("short_en")),
            "numerator_vi": clean(row.get("numerator_vi")), "numerator_en": clean(row.get("numerator_en")),
            "denominator_vi": clean(row.get("denominator_vi")), "denominator_en": clean(row.get("denominator_en")),
            "time_agg": row["time_agg"], "higher_is_better": bool(row["higher_is_better"]),
            "display_unit": row.get("display_unit"), "decimals": clean(row.get("decimals")),
            "unit_vi": clean(row.get("unit_vi")), "unit_en": clean(row.get("unit_en")),
            "reported_by": list(row.get("reported_by") or ()), "headline": clean(row.get("headline")),
            "group": row.get("grp"), "gap_vi": row.get("gap_vi"), "gap_en": row.get("gap_en"),
            "latest_month": figures.latest_month(row["code"]),
        })
    return {"indicators": out, "demo": figures.is_demo()}, 200


def units_payload(req: Request) -> tuple[dict, int]:
    """Units (or facilities) of `level` beneath `unit` at any depth; every unit without `level`."""
    level, parent = req.level, req.unit
    if level == hierarchy.FACILITY:
        fac = figures.facilities()
        frame = pd.DataFrame({"code": fac["code"], "name": fac["name"], "level": hierarchy.FACILITY,
                              "parent_code": fac["unit_code"], "type": fac["type"], "lat": fac["lat"],
                              "lon": fac["lon"]})
    else:
        u = figures.units()
        frame = u[["code", "name", "level", "parent_code", "valid_from", "valid_to"]]
        if level:
            frame = frame[frame["level"] == level]
        frame = frame.assign(_order=frame["level"].map(hierarchy.depth)).sort_values(["_order", "code"])
        frame = frame.drop(columns="_order")
    if parent:
        tree = figures.ancestry()
        inside = [c for c in frame["code"]
                  if c != parent and any(a == parent for a, _ in tree.get(str(c), ()))]
        frame = frame[frame["code"].isin(inside)]
    frame = req.in_scope(frame)
    rows = [{k: clean(v) for k, v in r.items()} for r in frame.to_dict("records")]
    return {"level": level, "unit": parent, "units": rows}, 200


def values_payload(req: Request) -> tuple[dict, int]:
    """{"indicator", "period", "level", "unit", "as_of", "data_until", "demo", "columns", "rows"}:
    the figure rows of dashboard.table, the same as /export/data.csv?indicator=…"""
    if req.period is None:
        return {"indicator": req.indicator, "period": None, "level": req.level, "unit": req.unit,
                "as_of": None, "data_until": None, "demo": figures.is_demo(), "columns": list(table.KEYS),
                "rows": []}, 200
    top = figures.entity(req.unit)["level"] == hierarchy.root_level() if req.unit else True
    rows_req = req.with_(unit=None if top else req.unit)
    shown = table.shown(table.figure_rows(rows_req), req.lang)
    as_of = figures.effective_period(req.period, req.indicator).end
    return {"indicator": req.indicator, "period": req.period_label, "level": req.level, "unit": req.unit,
            "as_of": as_of, "data_until": figures.latest_month(req.indicator), "demo": figures.is_demo(),
            "columns": list(table.KEYS), "rows": table.to_json(shown)}, 200


def completeness_payload(req: Request) -> tuple[dict, int]:
    """How many of the entities expected to report the indicator beneath the unit reported in the
    period, and which did not, grouped by zone."""
    from . import scorecard

    if req.period is None:
        vi, en = t("api_no_data", "vi", indicator=req.indicator), t("api_no_data", "en", indicator=req.indicator)
        return {"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}}, 404
    return scorecard.completeness(req.indicator, req.period_label, req.unit), 200


def answer(builder: Callable[[Request], tuple[dict, int]], req: Request) -> tuple[str, int]:
    """(JSON text, status) for one endpoint: problems 400/403, anything else 500, all bilingual."""
    if req.problems:
        return table.dumps(error_payload(req)), req.status()
    try:
        payload, status = builder(req)
    except Exception:  # noqa: BLE001 - the operations centre gets JSON, never an HTML traceback
        log.exception("API %s failed", getattr(builder, "__name__", builder))
        vi, en = t("api_error", "vi"), t("api_error", "en")
        payload, status = {"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}}, 500
    return table.dumps(payload), status
