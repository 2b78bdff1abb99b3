"""The JSON API (/api/v1/indicators, /units, /values) on the demo province, both databases.

Expected figures are recomputed here with plain pandas over ``build_demo().values`` and the
demo's units and facilities: sum(numerator)/sum(denominator) over the expected entities, the
latest month per entity for a stock, the sum of months for a flow.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from flask import Flask

from dashboard import api, cache, figures
from dashboard.catalog import builtin_indicators
from dashboard.config import load_settings
from dashboard.periods import parse_period


@pytest.fixture
def client(demo_db):
    app = Flask("api-test")
    cache.init_cache(app, load_settings())
    api.register(app)
    return app.test_client()


def get(client, path: str, **params):
    resp = client.get(path, query_string=params)
    return resp, json.loads(resp.get_data(as_text=True))


def kinds_of(indicator: str) -> set[str]:
    return set(next(i for i in builtin_indicators() if i["code"] == indicator)["reported_by"])


def time_of(indicator: str) -> str:
    return next(i for i in builtin_indicators() if i["code"] == indicator)["time"]


def expected_rollup(demo, indicator: str, period: str, level: str) -> pd.DataFrame:
    """Independent roll-up: one row per unit of `level` with numerator, denominator, value,
    reported, expected (units without any expected entity are absent)."""
    units, fac = demo.units, demo.facilities
    parent = dict(zip(units["code"], units["parent_code"]))
    level_of = dict(zip(units["code"], units["level"]))

    def ancestor(code):
        while code is not None and isinstance(code, str):
            if level_of.get(code) == level:
                return code
            code = parent.get(code)
        return None

    entities = pd.concat([
        pd.DataFrame({"entity_code": units["code"], "kind": units["level"], "unit": units["code"]}),
        pd.DataFrame({"entity_code": fac["code"], "kind": "facility:" + fac["type"], "unit": fac["unit_code"]}),
    ])
    entities = entities[entities["kind"].isin(kinds_of(indicator))].copy()
    entities["owner"] = entities["unit"].map(ancestor)
    entities = entities.dropna(subset=["owner"])
    months = parse_period(period).months
    # Expected: units valid at some month of the period (old units end 2025-06, new ones start
    # 2025-07); a facility persists, only its unit's end bounds it.
    first = {c: (None if pd.isna(v) else str(v)[:7]) for c, v in zip(units["code"], units["valid_from"])}
    last = {c: (None if pd.isna(v) else str(v)[:7]) for c, v in zip(units["code"], units["valid_to"])}
    ended = entities["unit"].map(lambda u: last.get(u) is not None and last[u] < min(months))
    unborn = entities["unit"].map(lambda u: first.get(u) is not None and first[u] > max(months))
    entities = entities[~ended & ~(unborn & ~entities["kind"].str.startswith("facility:"))]
    v = demo.values
    v = v[(v["indicator"] == indicator) & v["period"].isin(months)]
    if time_of(indicator) == "stock":
        v = v.sort_values("period").groupby("entity_code").tail(1)
    per_entity = v.groupby("entity_code")[["numerator", "denominator"]].sum()
    merged = entities.merge(per_entity, left_on="entity_code", right_index=True, how="left")
    merged["did_report"] = merged["numerator"].notna()
    out = merged.groupby("owner").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                      reported=("did_report", "sum"), expected=("entity_code", "size"))
    out.loc[out["reported"] == 0, ["numerator", "denominator"]] = np.nan
    out["value"] = 100.0 * out["numerator"] / out["denominator"]
    return out


def check_rows(rows: list[dict], expected: pd.DataFrame) -> None:
    """The API's rows are the downloads' rows: counts as stored, the rate rounded as on screen
    (the demo's indicators show one decimal, more only where rounding would hide a miss)."""
    by_code = {r["code"]: r for r in rows}
    for code, exp in expected.iterrows():
        row = by_code[code]
        assert row["reported"] == exp["reported"], code
        assert row["expected"] == exp["expected"], code
        if exp["reported"] == 0:
            assert row["numerator"] is None and row["value"] is None and row["status"] == "no_data", code
        else:
            assert row["numerator"] == pytest.approx(exp["numerator"], abs=0.005), code
            assert row["denominator"] == pytest.approx(exp["denominator"], abs=0.005), code
            assert row["value"] == pytest.approx(exp["value"], abs=0.05), code
            assert row["value"] == round(row["value"], 4)


def test_values_by_zone_for_a_stock_match_pandas(client, demo_data):
    resp, body = get(client, "/api/v1/values", indicator="hssk", period="2026-10", level="district")
    assert resp.status_code == 200
    assert (body["indicator"], body["period"], body["level"], body["unit"], body["as_of"]) == \
        ("hssk", "2026-10", "district", "31", "2026-10")
    zones = demo_data.units.loc[(demo_data.units["level"] == "district") & demo_data.units["valid_to"].isna(), "code"]
    assert sorted(r["code"] for r in body["rows"]) == sorted(zones)  # today's zones (old districts ended 2025-06)
    check_rows(body["rows"], expected_rollup(demo_data, "hssk", "2026-10", "district"))
    assert {r["target"] for r in body["rows"]} == {95.0}  # the city's plan target, inherited
    assert set(body["rows"][0]) >= {"code", "name", "numerator", "denominator", "value", "target", "status",
                                    "reported"}


def test_values_by_zone_for_a_flow_quarter_match_pandas(client, demo_data):
    # cashless: hospitals and zone health centres, đồng summed over the quarter's months.
    resp, body = get(client, "/api/v1/values", indicator="cashless", period="2026-Q3", level="district")
    assert resp.status_code == 200 and body["as_of"] == "2026-09"
    expected = expected_rollup(demo_data, "cashless", "2026-Q3", "district")
    assert len(expected) == 27
    check_rows(body["rows"], expected)


def test_values_communes_of_one_zone_with_nulls_for_the_late(client, demo_data):
    late = expected_rollup(demo_data, "hssk", "2026-10", "commune")
    late = late[late["reported"] == 0]
    assert not late.empty  # the demo has communes that have not reported the last month
    commune = late.index[0]
    zone = demo_data.units.set_index("code").loc[commune, "parent_code"]
    resp, body = get(client, "/api/v1/values", indicator="hssk", period="2026-10", level="commune", parent=zone)
    assert resp.status_code == 200 and body["unit"] == zone
    units = demo_data.units
    assert sorted(r["code"] for r in body["rows"]) == sorted(units.loc[units["parent_code"] == zone, "code"])
    expected = expected_rollup(demo_data, "hssk", "2026-10", "commune")
    check_rows(body["rows"], expected.loc[[r["code"] for r in body["rows"]]])
    row = next(r for r in body["rows"] if r["code"] == commune)
    assert row["value"] is None and row["reported"] == 0 and row["status"] == "no_data"
    assert "NaN" not in resp.get_data(as_text=True)


def test_values_agree_with_the_figures_frame(client, demo_db):
    resp, body = get(client, "/api/v1/values", indicator="emr", period="2026", level="commune", parent="303")
    frame = figures.figures("emr", "2026", "commune", "303")
    assert [r["code"] for r in body["rows"]] == list(frame["code"])
    for row, ref in zip(body["rows"], frame.to_dict("records")):
        for key in ("numerator", "denominator", "target", "reported", "expected"):
            a, b = row[key], ref[key]
            assert (a is None and (b is None or (isinstance(b, float) and math.isnan(b)))) or a == b, key
        assert (row["value"] is None) == bool(pd.isna(ref["value"]))
        if row["value"] is not None:
            assert row["value"] == pytest.approx(ref["value"], abs=0.05)
        assert row["status"] == (ref["status"] if ref["expected"] else "not_applicable")


def test_values_defaults_to_latest_month_zones_of_the_province(client):
    resp, body = get(client, "/api/v1/values", indicator="hssk")
    assert resp.status_code == 200
    assert (body["period"], body["level"], body["unit"]) == ("2026-10", "district", "31")


def test_json_is_utf8_with_readable_vietnamese(client):
    resp = client.get("/api/v1/values?indicator=hssk&period=2026-10")
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    raw = resp.get_data()
    assert "Khu vực Hồng Bàng".encode("utf-8") in raw
    assert b"\\u" not in raw


@pytest.mark.parametrize("params, parameter", [
    ({}, "indicator"),
    ({"indicator": "khong_co"}, "indicator"),
    ({"indicator": "hssk", "period": "2026-13"}, "period"),
    ({"indicator": "hssk", "period": "tháng mười"}, "period"),
    ({"indicator": "hssk", "level": "huyen"}, "level"),
    ({"indicator": "hssk", "level": "commune", "parent": "ZZZ"}, "unit"),
    ({"indicator": "hssk", "level": "district", "unit": "11311"}, "unit"),  # a commune above zones?
    ({"indicator": "hssk", "level": "province", "parent": "303"}, "unit"),
    ({"indicator": ["hssk", "emr"]}, "indicator"),  # repeated
    ({"indicator": "hssk", "unit": "3\x001"}, "unit"),  # control character
    ({"indicator": "hssk", "period": "2026-10" * 40}, "period"),  # over-long
])
def test_bad_parameters_answer_400_in_both_languages(client, params, parameter):
    resp, body = get(client, "/api/v1/values", **params)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["parameter"] == parameter
    assert body["message"]["vi"] and body["message"]["en"] and body["message"]["vi"] != body["message"]["en"]
    assert body["error"] == f"{body['message']['vi']} / {body['message']['en']}"


def test_units_bad_parameters(client):
    resp, body = get(client, "/api/v1/units", level="xa")
    assert resp.status_code == 400 and body["parameter"] == "level"
    resp, body = get(client, "/api/v1/units", parent="nope")
    assert resp.status_code == 400 and body["parameter"] == "unit"


def test_indicators_lists_the_catalogue(client):
    resp, body = get(client, "/api/v1/indicators")
    assert resp.status_code == 200
    codes = [i["code"] for i in body["indicators"]]
    assert sorted(codes) == sorted(i["code"] for i in builtin_indicators())
    hssk = next(i for i in body["indicators"] if i["code"] == "hssk")
    assert hssk["name_vi"] == "Tỷ lệ người dân có hồ sơ sức khỏe điện tử"
    assert hssk["time_agg"] == "stock" and hssk["reported_by"] == ["commune"]
    assert hssk["latest_month"] == "2026-10"


def test_units_of_a_zone_and_facilities_of_a_commune(client, demo_data):
    units, fac = demo_data.units, demo_data.facilities
    resp, body = get(client, "/api/v1/units", level="commune", parent="303")
    assert resp.status_code == 200
    assert sorted(u["code"] for u in body["units"]) == sorted(units.loc[units["parent_code"] == "303", "code"])
    resp, body = get(client, "/api/v1/units", level="district")
    today = [u for u in body["units"] if u["valid_to"] is None]  # and the 27 old districts, ended 2025-06
    assert len(today) == 27 and all(u["parent_code"] == "31" for u in today)
    assert len(body["units"]) == len(units[units["level"] == "district"])
    resp, body = get(client, "/api/v1/units", level="facility", parent="11383")
    assert sorted(u["code"] for u in body["units"]) == sorted(fac.loc[fac["unit_code"] == "11383", "code"])
    assert all(isinstance(u["lat"], float) for u in body["units"])
    resp, body = get(client, "/api/v1/units")
    assert len(body["units"]) == len(units)
    assert body["units"][0]["level"] == "province"
