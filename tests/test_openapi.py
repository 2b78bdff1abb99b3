"""The OpenAPI document of /api/v1 (dashboard/openapi.py) describes exactly the API's routes and
parameters, is a valid OpenAPI 3.1 document, and the real API keeps to it: schemathesis
generates requests from it (valid ones and invalid ones) and checks every answer — never a
server error, the documented content type, the documented JSON schema for the status."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from dashboard import figures, hierarchy, openapi, request
from tests.app_helpers import web_app

# Examples per operation and generation mode (5 operations × 2 modes): well under a minute.
EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Flask-Compress would answer brotli; schemathesis' WSGI transport reads the body as it comes.
HEADERS = {"Accept-Encoding": "identity"}

on_the_demo = pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def app():
    return web_app()


def blueprint_routes(app) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in app.server.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1.") and rule.endpoint != "api_v1.not_found":
            out.setdefault(rule.rule.removeprefix("/api/v1"), set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return out


def test_every_route_of_the_api_is_in_the_document_and_nothing_else(app):
    doc = openapi.document(live=False)
    assert doc["servers"] == [{"url": "/api/v1"}]
    described = {path: {m.upper() for m in ops} for path, ops in doc["paths"].items()}
    assert described == blueprint_routes(app)


def test_the_documented_parameters_are_the_request_readers(app):
    """Each operation's parameters are the fields of its request view and their old names."""
    doc = openapi.document(live=False)
    for path, ops in doc["paths"].items():
        names = {p["name"] for p in ops["get"]["parameters"]}
        view = request.VIEWS.get("api." + path.strip("/"))
        if view is None:
            assert path == "/openapi.json" and not names
            continue
        expected = set(view.fields) | {a for f in view.fields for a in request.ALIASES.get(f, ())}
        assert names == expected, path
        deprecated = {p["name"] for p in ops["get"]["parameters"] if p.get("deprecated")}
        assert deprecated == {a for f in view.fields for a in request.ALIASES.get(f, ())}, path
        assert {p["name"] for p in ops["get"]["parameters"] if p["required"]} == set(view.required), path
        responses = ops["get"]["responses"]
        assert {"200", "400", "503"} <= set(responses), path
        assert "Retry-After" in responses["503"]["headers"]


def test_the_document_is_valid_openapi_3_1():
    validate(openapi.document(live=False))


@on_the_demo
def test_the_served_document_names_the_indicators_and_levels(app, demo_db):
    resp = app.server.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.get_json()
    validate(doc)
    params = {p["name"]: p["schema"] for p in doc["paths"]["/values"]["get"]["parameters"]}
    assert params["indicator"]["enum"] == list(figures.indicators()["code"])
    assert params["level"]["enum"] == hierarchy.all_levels() == ["province", "district", "commune", "facility"]
    assert params["lang"]["enum"] == ["vi", "en"]
    assert "lang" in {p["name"] for p in doc["paths"]["/indicators"]["get"]["parameters"]}


@pytest.fixture
def schema(app, demo_db):
    """Loaded from the app itself, as a client would: the served document, with its enums."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server)


def operations(schema) -> dict[str, object]:
    return {op.path: op for op in (result.ok() for result in schema.get_all_operations())}


@on_the_demo
def test_valid_requests_answer_figures_in_the_documented_shape(schema):
    """Hand-picked valid requests (random ones seldom name a unit that exists), checked by
    schemathesis the same way: 200 and the documented schema."""
    ops = operations(schema)
    latest = figures.latest_month()
    district = next(c for c in figures.units().query("level == 'district'")["code"])
    asked = {
        "/indicators": [{}, {"lang": "en"}],
        "/units": [{}, {"level": "district"}, {"level": "facility", "unit": district}, {"parent": district}],
        "/values": [{"indicator": "hssk"}, {"indicator": "emr", "level": "facility", "period": latest[:4]},
                    {"ind": "cashless", "unit": district, "level": "commune", "lang": "en"}],
        "/completeness": [{"indicator": "hssk"}, {"indicator": "emr", "unit": district, "period": latest}],
    }
    for path, queries in asked.items():
        for query in queries:
            resp = ops[path].Case(query=query).call_and_validate(headers=HEADERS, checks=CHECKS)
            assert resp.status_code == 200, (path, query, resp.text[:300])
    for path, query in [("/values", {"indicator": "nope"}), ("/values", {"indicator": "hssk", "period": "2999-01"}),
                        ("/units", {"unit": "nope"}), ("/completeness", {})]:
        resp = ops[path].Case(query=query).call_and_validate(headers=HEADERS, checks=CHECKS)
        assert resp.status_code == 400, (path, query)


@on_the_demo
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_schemathesis_finds_the_api_true_to_its_document(app, demo_db, schema, mode):
    statuses: dict[str, dict[int, int]] = {}
    ops = operations(schema)
    assert set(ops) >= {"/indicators", "/units", "/values", "/completeness"}
    for op in ops.values():
        seen = statuses.setdefault(op.path, {})

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(op.as_strategy(generation_mode=mode))
        def one(case):
            resp = case.call_and_validate(headers=HEADERS, checks=CHECKS)
            seen[resp.status_code] = seen.get(resp.status_code, 0) + 1

        one()
    print(mode.value, statuses)
    for path, seen in statuses.items():
        assert sum(seen.values()) >= EXAMPLES * 0.5, (path, seen)
        assert 500 not in seen
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses["/indicators"], statuses
