"""The payloads of the JSON API's catalogue and figures endpoints (routes in dashboard/api.py).

Pure functions of the request parameters: each returns ``(payload, http_status)``. Figures
come from ``dashboard.figures.figures()``, the frame the map, the table and
``dashboard export values`` use, with the same column names, so every consumer agrees to the
last digit. NaN becomes null; bad parameters give 400 with a bilingual message that names
the parameter.
"""
from __future__ import annotations

import json
import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from . import figures
from .i18n import t
from .periods import PeriodError

log = logging.getLogger(__name__)

LEVELS = ("province", "district", "commune", "facility")
ORDER = {"province": 0, "district": 1, "commune": 2, "facility": 3}
ROW_KEYS = ("code", "name", "numerator", "denominator", "value", "target", "status", "reported", "expected",
            "completeness", "deadline", "gap_points", "last_month")


class BadParameter(ValueError):
    def __init__(self, parameter: str, key: str, **values):
        self.parameter = parameter
        self.vi = t(key, "vi", **values)
        self.en = t(key, "en", **values)
        super().__init__(f"{self.vi} / {self.en}")


def error_payload(exc: BadParameter) -> dict:
    return {"error": str(exc), "parameter": exc.parameter, "message": {"vi": exc.vi, "en": exc.en}}


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


def dumps(payload: Any) -> str:
    """UTF-8 JSON with Vietnamese readable (no \\u escapes) and no NaN."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _arg(args, name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _level(args, default: str | None) -> str | None:
    level = _arg(args, "level") or default
    if level is not None and level not in LEVELS:
        raise BadParameter("level", "api_bad_level", value=level[:40], allowed=", ".join(LEVELS))
    return level


def _unit(code: str | None, parameter: str = "parent") -> dict | None:
    if code is None:
        return None
    try:
        return figures.entity(code)
    except figures.UnknownUnit:
        raise BadParameter(parameter, "api_bad_unit", value=code[:40]) from None


def _indicator(args) -> str:
    code = _arg(args, "indicator")
    if code is None:
        raise BadParameter("indicator", "api_missing_indicator")
    try:
        figures.indicator(code)
    except figures.UnknownIndicator:
        known = ", ".join(figures.indicators()["code"])
        raise BadParameter("indicator", "api_bad_indicator", value=code[:40], known=known) from None
    return code


def indicators_payload(args) -> tuple[dict, int]:
    table = figures.indicators().sort_values("sort_order")
    out = []
    for row in table.to_dict("records"):
        out.append({
            "code": row["code"], "name_vi": row["name_vi"], "name_en": row["name_en"],
            "short_vi": clean(row.get("short_vi")), "short_en": clean(row.get("short_en")),
            "numerator_vi": clean(row.get("numerator_vi")), "numerator_en": clean(row.get("numerator_en")),
            "denominator_vi": clean(row.get("denominator_vi")), "denominator_en": clean(row.get("denominator_en")),
            "time_agg": row["time_agg"], "higher_is_better": bool(row["higher_is_better"]),
            "display_unit": row.get("display_unit"), "decimals": clean(row.get("decimals")),
            "unit_vi": clean(row.get("unit_vi")), "unit_en": clean(row.get("unit_en")),
            "reported_by": list(row.get("reported_by") or ()), "headline": clean(row.get("headline")),
            "latest_month": figures.latest_month(row["code"]),
        })
    return {"indicators": out, "demo": figures.is_demo()}, 200


def units_payload(args) -> tuple[dict, int]:
    level = _level(args, None)
    parent_code = _arg(args, "parent")
    _unit(parent_code)
    if level == "facility":
        fac = figures.facilities()
        frame = pd.DataFrame({"code": fac["code"], "name": fac["name"], "level": "facility",
                              "parent_code": fac["unit_code"], "type": fac["type"], "lat": fac["lat"],
                              "lon": fac["lon"]})
    else:
        u = figures.units()
        frame = u[["code", "name", "level", "parent_code", "valid_from", "valid_to"]]
        if level:
            frame = frame[frame["level"] == level]
        frame = frame.assign(_order=frame["level"].map(ORDER)).sort_values(["_order", "code"]).drop(columns="_order")
    if parent_code:
        tree = figures.ancestry()
        inside = [c for c in frame["code"]
                  if c != parent_code and any(a == parent_code for a, _ in tree.get(str(c), ()))]
        frame = frame[frame["code"].isin(inside)]
    rows = [{k: clean(v) for k, v in r.items()} for r in frame.to_dict("records")]
    return {"level": level, "parent": parent_code, "units": rows}, 200


def values_payload(args) -> tuple[dict, int]:
    """{"indicator", "period", "level", "parent", "as_of", "rows": [...]} from figures.figures()."""
    indicator = _indicator(args)
    level = _level(args, "district")
    raw_period = _arg(args, "period")
    try:
        period = figures.resolve_period(raw_period, indicator)
    except PeriodError:
        if raw_period is None:
            raise BadParameter("period", "api_no_data", indicator=indicator) from None
        raise BadParameter("period", "api_bad_period", value=raw_period[:40]) from None
    parent_code = _arg(args, "parent")
    root = figures.root_code()
    if level == "province":
        if parent_code and parent_code != root:
            raise BadParameter("parent", "api_parent_not_above", parent=parent_code[:40], level=level)
        parent_code = None
    else:
        parent = _unit(parent_code or root)
        if ORDER.get(parent["level"], 9) >= ORDER[level]:
            raise BadParameter("parent", "api_parent_not_above", parent=parent["code"], level=level)
        parent_code = parent_code or root
    frame = figures.figures(indicator, period.label, level, parent_code)
    as_of = figures.effective_period(period, indicator).end
    rows = []
    for r in frame.to_dict("records"):
        row = {k: clean(r.get(k)) for k in ROW_KEYS}
        row["code"] = str(r["code"])
        row["reported"] = int(r.get("reported") or 0)
        row["expected"] = int(r.get("expected") or 0)
        rows.append(row)
    return {"indicator": indicator, "period": period.label, "level": level, "parent": parent_code,
            "as_of": as_of, "data_until": figures.latest_month(indicator), "demo": figures.is_demo(),
            "rows": rows}, 200


def answer(builder, args) -> tuple[str, int]:
    """(JSON text, status) for one endpoint; bad parameters 400, anything else 500, both bilingual."""
    try:
        payload, status = builder(args)
    except BadParameter as exc:
        payload, status = error_payload(exc), 400
    except Exception:  # noqa: BLE001 - the operations centre gets JSON, never an HTML traceback
        log.exception("API %s failed", getattr(builder, "__name__", builder))
        vi, en = t("api_error", "vi"), t("api_error", "en")
        payload, status = {"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}}, 500
    return dumps(payload), status
