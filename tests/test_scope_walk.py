"""A unit head walks every face as a scoped reader: pages (Dash Pages router and plain HTTP), the
JSON API, CSV/XLSX and PNG downloads, the wall, the briefing and the callbacks that are not the
router's (the map's drill-down, the unit search's suggestions). Nothing of a unit outside their
zone may come back, other than its ancestors as context (the province); what the API lists is
exactly what the scope allows, computed here from the stored hierarchy. Demo province, SQLite and
PostgreSQL."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from dashboard import figures, request
from dashboard.auth.scope import Scope
from dashboard.i18n import t
from tests.auth_helpers import add_user, clear_accounts, configure, login, pages_body, wall_refresh_body

HOME = "288"  # Khu vực Hải Dương in the demo
OTHER = "303"  # Khu vực Hồng Bàng: another zone
FORBIDDEN = "Không có quyền xem đơn vị này"


@pytest.fixture
def unit_client(demo_db):
    clear_accounts(demo_db)
    add_user(demo_db, "kv288", "unit", unit=HOME)
    server = configure()
    client = server.test_client()
    assert login(client, "kv288").status_code == 302
    yield client
    clear_accounts(demo_db)


def inside_codes(engine, hierarchy_only: bool = False) -> set[str]:
    """The zone and everything beneath it, read from the stored closure: with the old units it was
    formed from (their names are the zone's own history), or its hierarchy alone."""
    only = " AND via = 0" if hierarchy_only else ""
    with engine.connect() as conn:
        return {c for (c,) in conn.execute(text("SELECT entity_code FROM entity_ancestors WHERE ancestor_code = :h"
                                                + only), {"h": HOME})}


def outside_names(engine) -> list[str]:
    """Names of units neither in the zone nor its ancestors; names that are part of a name
    inside are left out (they would match harmlessly)."""
    inside = inside_codes(engine)
    with engine.connect() as conn:
        context = {c for (c,) in conn.execute(text("SELECT ancestor_code FROM entity_ancestors WHERE entity_code = :h"),
                                              {"h": HOME})}
        units = conn.execute(text("SELECT code, name FROM units")).all()
    allowed = [n for c, n in units if c in inside | context]
    return sorted({n for c, n in units if c not in inside | context and not any(n in a for a in allowed)})


def leaks(body: str, names: list[str]) -> list[str]:
    return [n for n in names if re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", body)]


def body_text(answer) -> str:
    """What a response says: its text, or every cell of a workbook."""
    data = answer.get_data()
    if data[:2] != b"PK":
        return data.decode("utf-8")
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def callback(output: str, inputs: list[dict], state: list[dict], changed: str) -> dict:
    """A Dash callback request as the renderer posts it (one output)."""
    ident, prop = output.split(".")
    return {"output": output, "outputs": {"id": ident, "property": prop}, "inputs": inputs, "state": state,
            "changedPropIds": [changed]}


ROUTES_PAGES = [("/", ""), ("/", "?lang=en"), ("/map", ""), ("/map", "?level=district"),
                ("/map", "?level=commune&indicator=hssk&colouring=scale"), ("/targets", ""),
                ("/targets", "?level=commune"), ("/targets", "?level=district&behind=1"),
                ("/targets", "?view=completeness"), (f"/unit/{HOME}", ""), (f"/unit/{OTHER}", ""),
                ("/map", f"?parent={OTHER}"), ("/", f"?unit={OTHER}"), ("/targets", f"?zone={OTHER}"),
                ("/search", "?q=Khu+v%E1%BB%B1c"), ("/wall", ""), ("/nowhere", "")]
ROUTES_HTTP = ["/api/v1/units", "/api/v1/units?level=commune", "/api/v1/indicators",
               f"/api/v1/values?indicator=hssk&parent={HOME}", f"/api/v1/values?indicator=hssk&parent={OTHER}",
               "/api/v1/values?indicator=hssk&level=commune", "/api/v1/completeness",
               f"/api/v1/completeness?indicator=hssk&code={HOME}", f"/export/data.csv?ind=hssk&parent={HOME}",
               "/export/data.csv?ind=hssk", "/export/data.csv", "/export/data.xlsx?ind=hssk&level=commune",
               f"/export/data.csv?ind=hssk&zone={OTHER}", f"/unit/{HOME}", f"/unit/{OTHER}", "/", "/map",
               f"/map?parent={OTHER}", f"/targets?zone={OTHER}", "/targets?level=commune", "/search?q=Khu",
               "/wall"]
#: Asking for another zone anywhere is refused by the reader: (path, status, what the body says).
REFUSED = [(f"/unit/{OTHER}", 403, FORBIDDEN), (f"/unit/{HOME}?code={OTHER}", 403, FORBIDDEN),
           (f"/map?parent={OTHER}", 403, FORBIDDEN), (f"/?unit={OTHER}", 403, FORBIDDEN),
           (f"/targets?zone={OTHER}&level=commune", 403, FORBIDDEN),
           (f"/api/v1/values?indicator=hssk&level=commune&parent={OTHER}", 403, FORBIDDEN),
           (f"/api/v1/units?unit={HOME}&parent={OTHER}", 403, FORBIDDEN),
           (f"/api/v1/completeness?indicator=hssk&code={OTHER}", 403, FORBIDDEN),
           (f"/export/data.csv?ind=hssk&parent={OTHER}", 403, FORBIDDEN),
           (f"/export/data.xlsx?ind=hssk&unit={OTHER}", 403, FORBIDDEN)]


def test_a_unit_head_sees_nothing_of_another_zone_anywhere(unit_client, demo_db):
    names = outside_names(demo_db)
    assert "Khu vực Hồng Bàng" in names and "Khu vực Hải Dương" not in names
    found = {}
    for path, search in ROUTES_PAGES:
        answer = unit_client.post("/_dash-update-component", json=pages_body(path, search))
        assert answer.status_code in (200, 204, 403), (path, answer.status_code)
        hit = leaks(answer.get_data(as_text=True), names)
        if hit:
            found[f"page {path}{search}"] = hit[:5]
    for path in ROUTES_HTTP:
        answer = unit_client.get(path)
        assert answer.status_code in (200, 302, 400, 403), (path, answer.status_code)
        hit = leaks(body_text(answer), names)
        if hit:
            found[path] = hit[:5]
    assert found == {}


def test_another_zone_is_refused_on_every_face_with_the_same_sentence(unit_client):
    for path, status, sentence in REFUSED:
        answer = unit_client.get(path)
        assert answer.status_code == status, path
        assert sentence in body_text(answer), path
    # Inside the app the router draws the refusal in the frame, nothing of the other zone.
    for path, search in [(f"/unit/{OTHER}", ""), ("/map", f"?parent={OTHER}"), ("/", f"?unit={OTHER}"),
                         ("/targets", f"?zone={OTHER}")]:
        drawn = unit_client.post("/_dash-update-component", json=pages_body(path, search)).get_data(as_text=True)
        assert FORBIDDEN in drawn and "page-forbidden" in drawn and "Khu vực Hồng Bàng" not in drawn, path


def test_what_the_api_lists_is_what_the_scope_allows(unit_client, demo_db, demo_data):
    inside = inside_codes(demo_db, hierarchy_only=True)  # a listing is of the hierarchy
    units = json.loads(unit_client.get("/api/v1/units").get_data(as_text=True))["units"]
    # Their unit is the default: the units beneath it.
    assert {u["code"] for u in units} == (inside - {HOME}) & set(demo_data.units["code"]) != set()
    facilities = json.loads(unit_client.get("/api/v1/units?level=facility").get_data(as_text=True))["units"]
    assert {u["code"] for u in facilities} == inside & set(demo_data.facilities["code"]) != set()
    rows = json.loads(unit_client.get(f"/api/v1/values?indicator=hssk&level=commune&parent={HOME}"
                                      ).get_data(as_text=True))["rows"]
    communes = demo_data.units[(demo_data.units["level"] == "commune") & (demo_data.units["parent_code"] == HOME)]
    assert {r["code"] for r in rows} == set(communes["code"]) != set()
    for path in ["/api/v1/values?indicator=hssk", "/api/v1/values?indicator=hssk&level=commune", "/api/v1/values?indicator=hssk&level=province",
                 "/api/v1/completeness?indicator=hssk"]:
        assert unit_client.get(path).status_code == 403, path  # the province is context, never broken down


def test_png_exports_refuse_another_zone_and_draw_only_their_own(unit_client, demo_db, monkeypatch):
    from dashboard import exports, render

    for slide in exports.SLIDES:
        answer = unit_client.get(f"/export/{slide}.png?ind=hssk&parent={OTHER}")
        assert answer.status_code == 403 and FORBIDDEN in answer.get_data(as_text=True), slide
    # The figure each PNG would be drawn from (the renderer replaced by the figure's JSON).
    monkeypatch.setattr(render, "render", lambda fig, **_size: fig.to_json().encode("utf-8"))
    names = outside_names(demo_db)
    for slide in exports.SLIDES:
        for query in ("?ind=hssk", "?ind=hssk&level=commune", f"?ind=hssk&unit={HOME}"):
            answer = unit_client.get(f"/export/{slide}.png{query}")
            assert answer.status_code == 200, (slide, query)
            assert leaks(answer.get_data(as_text=True), names) == [], (slide, query)


def test_the_wall_and_the_briefing_of_a_unit_head(unit_client, demo_db):
    names = outside_names(demo_db)
    deck = unit_client.post("/_dash-update-component", json=wall_refresh_body(None)).get_data(as_text=True)
    assert "wall-value-" not in deck and t("auth_wall_unit_scope", "vi") in deck and leaks(deck, names) == []
    # The briefing as a unit head's reader builds it: their zone, the province only as context.
    from dashboard import slides

    with request.as_reader(Scope.of_units([HOME])):
        req = request.read("briefing", {})
        assert req.unit == HOME
        built = slides.briefing_slides(req.period_label, req.unit, "vi")
        refused = request.read("briefing", {"unit": OTHER})
    assert built and all(leaks(s.figure.to_json(), names) == [] for s in built)
    assert refused.forbidden and refused.unit == HOME


def test_callbacks_other_than_the_router_keep_to_the_scope(unit_client, demo_db):
    names = outside_names(demo_db)
    root = figures.root_code()
    # The map's drill-down: a click (or a forged state) on another zone gives the user's own URL.
    state = {"indicator": "hssk", "level": "district", "unit": HOME, "root": root, "lang": "vi"}
    inputs = [{"id": "map-indicator", "property": "value", "value": "hssk"},
              {"id": "map-period", "property": "value", "value": None},
              {"id": "map-level", "property": "value", "value": "district"},
              {"id": "map-colouring", "property": "value", "value": "status"},
              {"id": "map-graph", "property": "clickData",
               "value": {"points": [{"customdata": [OTHER, "Khu vực Hồng Bàng", "district"]}]}}]
    for forged, changed in [(state, "map-graph.clickData"), ({**state, "unit": OTHER}, "map-indicator.value")]:
        body = callback("map-location.search", inputs, [{"id": "map-state", "property": "data", "value": forged}],
                        changed)
        answer = unit_client.post("/_dash-update-component", json=body)
        assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]
        said = answer.get_data(as_text=True)
        assert OTHER not in said and leaks(said, names) == [], said
    # The search box's suggestions: another zone's units are never suggested, one's own are.
    for query, expect in [("Hồng Bàng", None), ("Khu vực", "Khu vực Hải Dương"), ("Hai Duong", "Khu vực Hải Dương")]:
        body = callback("unit-search-results.children", [{"id": "unit-search", "property": "value", "value": query}],
                        [{"id": "unit-search-store", "property": "data", "value": "vi"}], "unit-search.value")
        answer = unit_client.post("/_dash-update-component", json=body)
        said = answer.get_data(as_text=True)
        assert answer.status_code in (200, 204) and leaks(said, names) == [], (query, said[:300])
        if expect:
            assert expect in said, query
