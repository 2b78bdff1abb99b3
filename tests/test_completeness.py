"""GET /api/v1/completeness against counts made independently over the demo rows and the world."""
from __future__ import annotations

import pytest
from flask import Flask

from dashboard import api, cache
from dashboard.config import load_settings
from tests.target_helpers import chains, month_range, reporters
from tests.world import load_world


@pytest.fixture
def client():
    app = Flask("completeness-tests")
    cache.init_cache(app, load_settings())
    api.register(app)
    return app.test_client()


def independent(demo, indicator: str, months: list[str], scope: str) -> dict:
    chain = chains(demo)
    names = {**dict(zip(demo.units["code"], demo.units["name"])),
             **dict(zip(demo.facilities["code"], demo.facilities["name"]))}
    expected = {e for e in reporters(demo, indicator, months) if scope in chain[e].values()}
    rows = demo.values[(demo.values["indicator"] == indicator) & demo.values["period"].isin(months)]
    reported = expected & set(rows["entity_code"])
    silent = sorted(expected - reported)
    groups: dict = {}
    for code in silent:
        groups.setdefault(chain[code].get("district"), []).append({"code": code, "name": names[code]})
    missing = [{"zone_code": z, "zone_name": names[z], "entities": groups[z]} for z in sorted(k for k in groups if k)]
    if None in groups:
        missing.append({"zone_code": None, "zone_name": None, "entities": groups[None]})
    return {"expected": len(expected), "reported": len(reported), "missing": missing}


#: The demo's city (31) is valid from 2025-07-01; its history before is under old Hải Phòng and Hải
#: Dương. Listing today's city for a month before the reform (its figure derived from its
#: predecessors', its facilities' rows already there) is the roll-up across the reform's (issue 13).
@pytest.mark.parametrize("indicator,period,months,scope", [
    ("hssk", "2026-10", ["2026-10"], None),
    ("tyt_software", "2026-10", ["2026-10"], None),
    ("eprescription", "2026-10", ["2026-10"], "299"),
    ("cashless", "2024-06", ["2024-06"], None),  # before the reform: the facilities persist
    ("emr", "2025-Q2", ["2025-04", "2025-05", "2025-06"], None),  # before the reform: the facilities persist
    ("eprescription", "2023", month_range("2023-01", "2023-12"), None),  # before the reform: the facilities persist
    ("tthc_online", "2026-10", ["2026-10"], None),
])
def test_completeness_matches_an_independent_count(demo_db, demo_data, client, indicator, period, months, scope):
    query = f"/api/v1/completeness?indicator={indicator}&period={period}" + (f"&code={scope}" if scope else "")
    resp = client.get(query)
    assert resp.status_code == 200, resp.get_json()
    got = resp.get_json()
    want = independent(demo_data, indicator, months, scope or "31")
    assert (got["indicator"], got["period"]) == (indicator, period)
    assert got["expected"] == want["expected"] and got["reported"] == want["reported"]
    assert got["completeness"] == pytest.approx(want["reported"] / want["expected"])
    assert got["missing"] == want["missing"]


def test_the_demo_last_month_has_silent_communes_grouped_by_zone(demo_db, demo_data, client):
    got = client.get("/api/v1/completeness?indicator=hssk&period=2026-10").get_json()
    silent = [e["code"] for g in got["missing"] for e in g["entities"]]
    assert 5 <= len(silent) <= 8  # the demo holds back 5-8 communes in its last month
    assert got["reported"] + len(silent) == got["expected"] == 114
    assert all(g["zone_name"].startswith("Khu vực") for g in got["missing"])


def test_period_defaults_to_the_latest_month(demo_db, client):
    got = client.get("/api/v1/completeness?indicator=hssk").get_json()
    assert got["period"] == "2026-10"


@pytest.mark.parametrize("query,needle", [
    ("", "indicator"),
    ("indicator=", "indicator"),
    ("indicator=khong_co", "khong_co"),
    ("indicator=hssk&period=2026-13", "2026-13"),
    ("indicator=hssk&period=abc", "abc"),
    ("indicator=hssk&period=2026-10&code=00000", "00000"),
])
def test_bad_parameters_give_400_with_a_bilingual_message(demo_db, client, query, needle):
    resp = client.get(f"/api/v1/completeness?{query}")
    assert resp.status_code == 400
    message = resp.get_json()["error"]
    assert needle in message
    vi, en = message.split(" / ", 1)
    assert any(ch in vi for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"), vi
    assert any(word in en.lower() for word in ("unknown", "invalid", "missing")), en


# Validity over time, on the hand-made world: commune 00007 ended 2025-06, 00008 began 2025-07.
@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def test_only_units_valid_in_the_period_are_expected(world, client):
    sep = client.get("/api/v1/completeness?indicator=stockind&period=2025-09").get_json()
    # Valid in September: 00004, 00005, 00006, 00008; 00005 did not report.
    assert (sep["expected"], sep["reported"]) == (4, 3)
    assert sep["missing"] == [{"zone_code": "001", "zone_name": "Khu vực Một",
                               "entities": [{"code": "00005", "name": "Xã Năm"}]}]
    q2 = client.get("/api/v1/completeness?indicator=stockind&period=2025-Q2").get_json()
    # April-June: 00004, 00005, 00006, 00007 (00008 not yet); only 00007 reported (May, June).
    assert (q2["expected"], q2["reported"]) == (4, 1)
    assert q2["missing"] == [
        {"zone_code": "001", "zone_name": "Khu vực Một",
         "entities": [{"code": "00004", "name": "Phường Bốn"}, {"code": "00005", "name": "Xã Năm"}]},
        {"zone_code": "002", "zone_name": "Khu vực Hai", "entities": [{"code": "00006", "name": "Xã Sáu"}]},
    ]
    zone = client.get("/api/v1/completeness?indicator=flowind&period=2025-09&code=001").get_json()
    # Beneath zone 001: BV1, TYT4 (commune 00004) and TYT5 (00005); TYT5 never reports.
    assert (zone["expected"], zone["reported"], zone["code"]) == (3, 2, "001")
    assert zone["missing"][0]["entities"] == [{"code": "TYT5", "name": "Trạm Y tế Năm"}]


def test_completeness_errors_keep_vietnamese_readable(demo_db):
    from flask import Flask

    from dashboard import api

    server = Flask("t")
    api.register(server)
    answer = server.test_client().get("/api/v1/completeness?indicator=zz")
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "Không có chỉ tiêu" in body and "\\u" not in body
