"""The demo across the reform: new Hải Phòng (31) before 2025-07 is old Hải Phòng (31@2025-06)
plus old Hải Dương (30@2025-06), month by month, for a stock (HSSK, reported by communes) and a
flow (TTHC online, reported by the province), and its series runs on without a gap.

Expected numbers come from the raw kpi_values and the crosswalk, summed here with pandas."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import figures

OLD = ("31@2025-06", "30@2025-06")


def _frame(engine, query: str, **params) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(query), conn, params=params)


def _monthly(engine, indicator: str, code: str) -> pd.DataFrame:
    return _frame(engine, "SELECT period, numerator, denominator, reported, expected, basis FROM aggregates "
                          "WHERE indicator_code = :i AND entity_code = :c AND kind = 'month' ORDER BY period",
                  i=indicator, c=code).set_index("period")


@pytest.mark.parametrize("indicator", ["hssk", "tthc_online"])
def test_new_hai_phong_before_the_reform_is_old_hai_phong_plus_hai_duong(demo_db, indicator):
    new = _monthly(demo_db, indicator, "31")
    olds = [_monthly(demo_db, indicator, code) for code in OLD]
    before = [m for m in new.index if m < "2025-07"]
    assert len(before) >= 24 and before[0] == "2023-01"
    for month in before:
        for col in ("numerator", "denominator", "expected"):
            assert new.loc[month, col] == pytest.approx(sum(o.loc[month, col] for o in olds)), (month, col)
        assert int(new.loc[month, "basis"]) == 1  # whole old provinces: exact
    after = [m for m in new.index if m >= "2025-07"]
    assert after and all(int(new.loc[m, "basis"]) == 0 for m in after)
    assert all(m not in olds[0].index for m in after)


def test_the_raw_values_of_the_old_units_give_the_same_sums(demo_db):
    values = _frame(demo_db, "SELECT entity_code, period, numerator, denominator FROM kpi_values "
                             "WHERE indicator_code = 'hssk' AND period < '2025-07'")
    units = _frame(demo_db, "SELECT code, parent_code, level FROM units")
    parent = {c: p for c, p in zip(units["code"], units["parent_code"]) if isinstance(p, str)}

    def province(code):
        while parent.get(code) is not None:
            code = parent[code]
        return code

    values["province"] = values["entity_code"].map(province)
    assert set(values["province"]) <= set(OLD)  # before the reform, everything is under old units
    by_month = values.groupby("period")[["numerator", "denominator"]].sum()
    new = _monthly(demo_db, "hssk", "31")
    for month, row in by_month.iterrows():
        assert new.loc[month, "numerator"] == pytest.approx(row.numerator)
        assert new.loc[month, "denominator"] == pytest.approx(row.denominator)


def test_a_new_communes_series_runs_across_the_reform(demo_db):
    links = _frame(demo_db, "SELECT old_code, new_code, share FROM unit_links WHERE old_code LIKE '_____@%'")
    divided = links[links["share"].isna()]["new_code"]
    for code in (links["new_code"].iloc[0], divided.iloc[0] if not divided.empty else None):
        if code is None:
            continue
        series = figures.series("hssk", code, "2024-01", "2025-12")
        assert series["value"].notna().sum() >= 22, code  # derived before, reported after
        basis = dict(zip(series["period"], series["basis"]))
        assert basis["2024-06"] >= 1 and basis["2025-08"] == 0
        jump = abs(series.set_index("period").loc["2025-07", "value"] - series.set_index("period").loc["2025-06", "value"])
        assert jump < 15, (code, jump)  # the demo continues plausibly
