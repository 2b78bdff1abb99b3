"""The roll-up rules every view uses. Pure SQL in ``queries/``, thin pandas here.

Rules (the README points here):

* **Over places** a rate is ``sum(numerator) / sum(denominator)`` over the entities
  expected to report the indicator (facilities roll up to their commune, zone and
  province through ``entity_ancestors``). Never an average of children's rates.
* **Over time** a period is a window of months. A *stock* takes each entity's latest
  month inside the window; a *flow* sums the months.
* **Missing is not zero.** An expected entity with no row in the window is "not
  reported": it adds nothing to either sum, and ``reported / expected`` is returned
  with every figure as reporting completeness. A unit none of whose entities reported
  has ``value`` NaN, never 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from . import sql
from .periods import Period, month_range

ROLLUP_COLUMNS = ["code", "numerator", "denominator", "value", "reported", "expected",
                  "completeness", "last_month", "basis"]
SERIES_COLUMNS = ["period", "numerator", "denominator", "value", "reported", "expected", "completeness", "basis"]


def rate(numerator, denominator):
    """100 * numerator / denominator, NaN where the denominator is missing or zero."""
    num = pd.to_numeric(pd.Series(numerator, dtype="float64"))
    den = pd.to_numeric(pd.Series(denominator, dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 * num / den.where(den != 0)
    return out


def rollup(conn: Connection, indicator: str, time_agg: str, period: Period, level: str) -> pd.DataFrame:
    """One row per unit of `level` (or per facility, level 'facility') that is expected to
    report `indicator` in `period`. Units with no expected entity are absent."""
    if time_agg not in ("stock", "flow"):
        raise ValueError(f"time aggregation must be stock or flow, not {time_agg!r}")
    frame = sql.fetch_df(conn, f"rollup_{time_agg}", indicator=indicator, start=period.start,
                         end=period.end, level=level)
    if frame.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    frame["code"] = frame["code"].astype(str)
    for col in ("numerator", "denominator"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["reported"] = frame["reported"].astype(int)
    frame["expected"] = frame["expected"].astype(int)
    # SUM over no rows is NULL, so a unit where nobody reported stays NaN, not 0.
    frame.loc[frame["reported"] == 0, ["numerator", "denominator"]] = np.nan
    frame["value"] = rate(frame["numerator"], frame["denominator"]).to_numpy()
    frame["completeness"] = frame["reported"] / frame["expected"]
    frame["basis"] = pd.to_numeric(frame["basis"], errors="coerce").fillna(0).astype(int)
    return frame[ROLLUP_COLUMNS].sort_values("code").reset_index(drop=True)


def expected_entities(conn: Connection, indicator: str, code: str) -> pd.DataFrame:
    return sql.fetch_df(conn, "expected_entities", indicator=indicator, code=code)


def valid_during(frame: pd.DataFrame, start: str, end: str) -> pd.Series:
    """Entities valid at some month of start..end (validity kept as 'YYYY-MM', open ends NULL)."""
    return ((frame["valid_from"].isna() | (frame["valid_from"] <= end))
            & (frame["valid_to"].isna() | (frame["valid_to"] >= start)))


def monthly_series(conn: Connection, indicator: str, code: str, start: str, end: str) -> pd.DataFrame:
    """Every month from `start` to `end` for one unit or facility, including months with no
    report (value NaN), with completeness counted against the entities valid that month."""
    rows = sql.fetch_df(conn, "monthly_series", indicator=indicator, code=code, start=start, end=end)
    expected = expected_entities(conn, indicator, code)
    months = month_range(start, end)
    frame = pd.DataFrame({"period": months})
    if not rows.empty:
        rows["period"] = rows["period"].astype(str)
        frame = frame.merge(rows, on="period", how="left")
    else:
        frame = frame.assign(numerator=np.nan, denominator=np.nan, reported=0)
    frame["numerator"] = pd.to_numeric(frame["numerator"], errors="coerce").astype("float64")
    frame["denominator"] = pd.to_numeric(frame["denominator"], errors="coerce").astype("float64")
    frame["reported"] = frame["reported"].fillna(0).astype(int)
    frame["basis"] = (pd.to_numeric(frame["basis"], errors="coerce").fillna(0).astype(int)
                      if "basis" in frame else 0)
    frame["expected"] = [int(valid_during(expected, m, m).sum()) if not expected.empty else 0 for m in months]
    frame["value"] = rate(frame["numerator"], frame["denominator"]).to_numpy()
    frame["completeness"] = frame["reported"] / frame["expected"].where(frame["expected"] > 0)
    return frame[SERIES_COLUMNS]


def not_reported(conn: Connection, indicator: str, code: str, period: Period) -> list[str]:
    """Codes of the entities beneath `code` expected to report in `period` that did not."""
    expected = expected_entities(conn, indicator, code)
    if expected.empty:
        return []
    valid = expected[valid_during(expected, period.start, period.end)]
    reported = set(sql.fetch_df(conn, "reported_entities", indicator=indicator,
                                start=period.start, end=period.end)["entity_code"].astype(str))
    return sorted(c for c in valid["entity_code"].astype(str) if c not in reported)
