"""The one request reader (dashboard/request.py): one vocabulary, the old names as aliases, and
every bad value a problem carried as data, never an exception."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from dashboard import request
from dashboard.periods import Period


def keys(req) -> list[str]:
    return [p.key for p in req.problems]


def test_old_names_are_aliases_of_one_vocabulary(demo_db):
    old = request.read("targets", {"zone": "303", "ind": "hssk", "period": "2026-10"})
    new = request.read("targets", {"unit": "303", "indicator": "hssk", "period": "2026-10"})
    assert old.problems == () and old == new
    assert request.read("api.values", {"indicator": "hssk", "parent": "303"}).unit == "303"
    assert request.read("api.completeness", {"indicator": "hssk", "code": "303"}).unit == "303"
    assert request.read("map", {"coloring": "scale"}).get("colouring") == "scale"
    # The shareable form uses the canonical names only.
    assert old.query() == {"indicator": "hssk", "period": "2026-10", "level": "district", "unit": "303"}


def test_the_period_is_parsed_once_into_a_period(demo_db):
    req = request.read("map", {"period": "2026-Q3"})
    assert isinstance(req.period, Period) and (req.period.start, req.period.end) == ("2026-07", "2026-09")
    assert request.read("map", {}).period_label == "2026-10"  # the latest month with data


def test_a_period_after_the_latest_data_warns_and_shows_the_latest_month(demo_db):
    req = request.read("map", {"period": "2030-01"})
    assert req.period_label == "2026-10" and keys(req) == ["req_future_period"]
    assert "10/2026" in req.warnings()[0]


@pytest.mark.parametrize("raw, parameter, key", [
    (MultiDict([("unit", "288"), ("unit", "290")]), "unit", "req_repeated"),
    ({"unit": ["288", "290"]}, "unit", "req_repeated"),  # Dash Pages hands repeats over as a list
    ({"unit": "288", "zone": "290"}, "unit", "req_repeated"),  # a name and its alias disagree
    ({"unit": {"a": 1}}, "unit", "req_wrong_type"),  # a callback payload of the wrong shape
    ({"unit": True}, "unit", "req_wrong_type"),
    ({"indicator": "\n"}, "indicator", "req_control"),
    ({"level": "\x00"}, "level", "req_control"),
    ({"period": "2026-10" * 40}, "period", "req_too_long"),
    ({"indicator": "khong_co"}, "indicator", "req_bad_indicator"),
    ({"period": "2026-13"}, "period", "req_bad_period"),
    ({"unit": "99999"}, "unit", "req_bad_unit"),
    ({"level": "tinh"}, "level", "req_bad_level"),
    ({"colouring": "rainbow"}, "colouring", "req_bad_choice"),
])
def test_every_bad_value_is_a_problem_and_a_default(demo_db, raw, parameter, key):
    req = request.read("map", raw)
    assert [(p.parameter, p.key) for p in req.problems] == [(parameter, key)]
    assert req.indicator and req.period and req.level and req.unit  # the defaults stand in
    vi, en = req.problems[0].text("vi"), req.problems[0].text("en")
    assert vi.startswith("Tham số không hợp lệ") and en.startswith("Invalid parameter") and vi != en
    assert "\x00" not in vi and "\n" not in vi  # the user's text is quoted printable


def test_repeating_the_same_value_is_no_problem(demo_db):
    assert request.read("map", MultiDict([("period", "2026-10"), ("period", "2026-10")])).problems == ()


def test_numbers_are_clamped_and_ascii_only(demo_db):
    assert request.read("wall", {"rotate": "45"}).get("rotate") == 45
    req = request.read("wall", {"rotate": "0", "refresh": "99999"})
    assert (req.get("rotate"), req.get("refresh")) == (1, 3600) and keys(req) == ["req_clamped", "req_clamped"]
    req = request.read("wall", {"rotate": "３０"})  # full-width digits are not thirty
    assert req.get("rotate") == 30 and keys(req) == ["req_bad_number"]


def test_the_api_refuses_what_a_page_replaces(demo_db):
    req = request.read("api.values", {})
    assert req.status() == 400 and keys(req) == ["req_missing"]
    assert req.problems[0].payload()["message"]["en"] == "Missing parameter indicator"
    req = request.read("api.values", {"indicator": "hssk", "level": "district", "unit": "11311"})
    assert req.status() == 400 and req.problems[0].parameter == "unit"  # a commune is not above zones


def test_scope_refuses_units_outside_it_with_403(demo_db):
    class ZoneOnly:
        key = "unit:303"
        home = "303"

        def allows(self, code):
            return code in ("303", "11311")

    req = request.read("api.values", {"indicator": "hssk", "unit": "288"}, scope=ZoneOnly())
    assert req.status() == 403 and keys(req) == ["req_forbidden"]
    page = request.read("overview", {"unit": "288"}, scope=ZoneOnly())
    assert page.unit == "303"  # a page falls back to the user's own unit
    assert request.read("overview", {}, scope=ZoneOnly()).cache_key() != request.read("overview", {}).cache_key()


def test_query_round_trips_and_keys_the_cache(demo_db):
    req = request.read("map", {"indicator": "emr", "period": "2026-Q3", "level": "commune", "unit": "303",
                               "colouring": "scale", "lang": "en"})
    again = request.read("map", req.query())
    assert again.problems == () and again.query() == req.query() and again.cache_key() == req.cache_key()
    assert req.query()["lang"] == "en" and "colouring" in req.query()
    default = request.read("map", {})
    assert "colouring" not in default.query() and "lang" not in default.query() and "unit" not in default.query()
    assert default.cache_key() != req.cache_key()


_values = st.one_of(st.none(), st.text(max_size=300), st.integers(), st.floats(allow_nan=True), st.booleans(),
                    st.lists(st.text(max_size=10), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                max_size=2))
_names = st.sampled_from(["indicator", "ind", "indicators", "period", "level", "unit", "zone", "code", "parent",
                          "lang", "colouring", "sort", "dir", "behind", "view", "rotate", "refresh", "theme",
                          "token", "format", "other"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(view=st.sampled_from(sorted(request.VIEWS)), raw=st.dictionaries(_names, _values, max_size=6))
def test_no_input_makes_the_reader_raise(demo_db, view, raw):
    req = request.read(view, raw)
    assert req.lang in ("vi", "en")
    for problem in req.problems:
        assert problem.text("vi") and problem.text("en") and problem.status in (400, 403, 404)
    request.read(view, req.query())  # and what it hands on reads back


def test_sql_trace_reports_the_statements_of_a_request(demo_db, monkeypatch, caplog):
    import logging

    from flask import Flask

    from dashboard import api, cache, trace
    from dashboard.config import load_settings

    app = Flask("trace-test")
    cache.init_cache(app, load_settings())
    trace.install(app, "param")
    api.register(app)
    client = app.test_client()
    assert "Server-Timing" not in client.get("/api/v1/indicators").headers
    cache.clear()
    with caplog.at_level(logging.INFO, logger="dashboard.trace"):
        resp = client.get("/api/v1/indicators?_trace=1")
    assert resp.status_code == 200
    assert resp.headers["Server-Timing"].startswith("db;dur=")
    assert any("statements" in r.message for r in caplog.records)
    assert any("SELECT" in r.message for r in caplog.records)
