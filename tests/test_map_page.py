"""The map page (/map) and dashboard.maps: URL state, drill-down, bad parameters, the figure.

Browser tests open the page in Debian's Chromium against a live server (tests/browser_helpers),
click on the SVG map, and check that the URL, the view, reload and back/forward agree.
"""
from __future__ import annotations

import json
import re

import pandas as pd
import plotly.io as pio
import pytest
from shapely.geometry import box, mapping

from dashboard import figures, maps
from dashboard import request
from dashboard.theme import STATUS_COLORS, STATUS_ICONS

# --- the pure figure --------------------------------------------------------------------------

IND = {"code": "x", "name_vi": "Chỉ tiêu thử", "short_vi": "Thử", "display_unit": "%", "decimals": 1,
       "higher_is_better": True, "unit_vi": "người", "unit_en": "people", "reported_by": ("commune",)}


def square_collection(codes):
    feats = []
    for i, code in enumerate(codes):
        geom = mapping(box(106 + 0.1 * i, 20, 106.1 + 0.1 * i, 20.1))
        geom["coordinates"] = [list(map(list, ring))[::-1] for ring in geom["coordinates"]]  # clockwise
        feats.append({"type": "Feature", "id": code, "properties": {}, "geometry": geom})
    return {"type": "FeatureCollection", "features": feats}


def hand_frame() -> pd.DataFrame:
    nan = float("nan")
    return pd.DataFrame([
        # A: 1.234.567 of 1.543.209 people = 80,0 %, 15,0 points short of 95 %, 9 of 10 reported.
        {"code": "A", "name": "Xã A", "numerator": 1234567.0, "denominator": 1543209.0,
         "value": 100 * 1234567 / 1543209, "target": 95.0, "deadline": "2025-12", "status": "off_track",
         "reported": 9, "expected": 10, "gap_points": 95 - 100 * 1234567 / 1543209, "gap_units": nan},
        # B: nobody reported: NaN, never 0.
        {"code": "B", "name": "Xã B", "numerator": nan, "denominator": nan, "value": nan, "target": 95.0,
         "deadline": "2025-12", "status": "no_data", "reported": 0, "expected": 3, "gap_points": nan,
         "gap_units": nan},
        # C: above the target, but no boundary on file.
        {"code": "C", "name": "Xã C", "numerator": 99.0, "denominator": 100.0, "value": 99.0, "target": 95.0,
         "deadline": "2025-12", "status": "achieved", "reported": 1, "expected": 1, "gap_points": -4.0,
         "gap_units": nan},
    ])


def test_status_colouring_draws_no_data_grey_and_says_so():
    fig = maps.choropleth_figure(hand_frame(), square_collection(["A", "B"]), IND, "status", "vi", None)
    traces = {tr.legendgroup: tr for tr in fig.data}
    assert list(traces["off_track"].locations) == ["A"]
    assert list(traces["no_data"].locations) == ["B"]
    assert traces["no_data"].colorscale[0][1] == STATUS_COLORS["no_data"]
    assert traces["no_data"].name == f"{STATUS_ICONS['no_data']} Chưa báo cáo (1)"  # never colour alone
    # Each trace carries only its own features (the GeoJSON is not repeated per trace).
    assert [f["id"] for f in traces["no_data"].geojson["features"]] == ["B"]
    hover = traces["off_track"].customdata[0][1]
    for piece in ("<b>Xã A</b>", "Giá trị: 80,0\u00a0%", "1.234.567 / 1.543.209 người", "Mục tiêu: 95,0\u00a0% (hạn 12/2025)",
                  "còn thiếu 15,0\u00a0điểm\u00a0% để đạt 95\u00a0%", "Báo cáo: 9/10 xã/phường (90,0\u00a0%)", "Tình trạng: Không đạt tiến độ"):
        assert piece in hover, piece
    assert "Giá trị: Chưa báo cáo" in traces["no_data"].customdata[0][1]
    # C has no boundary: named under the map instead of silently dropped.
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "Xã C" in notes and fig.layout.meta["no_shape"] == ["C"]


def test_scale_colouring_marks_the_target_and_leaves_no_data_out_of_the_scale():
    fig = maps.choropleth_figure(hand_frame(), square_collection(["A", "B"]), IND, "scale", "vi", "Tiêu đề")
    scale_trace = next(tr for tr in fig.data if tr.showscale)
    assert list(scale_trace.locations) == ["A"] and list(scale_trace.z) == [pytest.approx(80.0, abs=1e-3)]
    grey = next(tr for tr in fig.data if tr.legendgroup == "no_data")
    assert list(grey.locations) == ["B"]
    bar = scale_trace.colorbar
    assert "<b>Mục tiêu 95\u00a0%</b>" in bar.ticktext
    assert bar.tickvals[list(bar.ticktext).index("<b>Mục tiêu 95\u00a0%</b>")] == 95.0
    # The hue changes exactly at the target: the first "met" colour starts at 95 on the bar.
    stops = [s for s, c in scale_trace.colorscale if c == maps._BEYOND[0]]
    assert stops and stops[0] * (scale_trace.zmax - scale_trace.zmin) + scale_trace.zmin == pytest.approx(95.0)
    assert fig.layout.separators == ",."  # Vietnamese decimal comma on the colour bar


def test_english_hover_and_separators():
    fig = maps.choropleth_figure(hand_frame(), square_collection(["A", "B"]), IND, "status", "en", None)
    hover = next(tr for tr in fig.data if tr.legendgroup == "off_track").customdata[0][1]
    assert "Value: 80.0%" in hover and "1,234,567 / 1,543,209 people" in hover
    assert fig.layout.separators == ".,"


def test_far_island_is_named_not_allowed_to_shrink_the_map():
    coll = square_collection(["A", "B"])
    far = mapping(box(107.7, 20.1, 107.71, 20.11))  # a 1 km islet 150 km out at sea
    coll["features"].append({"type": "Feature", "id": "C", "properties": {}, "geometry": far})
    bounds, outside = maps.frame_bounds(coll)
    assert outside == ["C"] and bounds[2] < 106.3


def test_map_figure_reads_figures_and_boundaries(demo_db, demo_data):
    fig = maps.map_figure("hssk", "2026-10", "district", None, "status", "vi")
    codes = sorted(c for tr in fig.data if tr.type == "choropleth" for c in tr.locations)
    today = demo_data.units["valid_to"].isna()  # the old districts ended 2025-06
    assert codes == sorted(demo_data.units.loc[(demo_data.units["level"] == "district") & today, "code"])
    frame = figures.figures("hssk", "2026-10", "district", figures.root_code())
    counts = frame["status"].value_counts()
    for tr in fig.data:
        status = tr.legendgroup
        assert len(tr.locations) == counts[status], status
    with pytest.raises(figures.UnknownIndicator):
        maps.map_figure("khong_co", "2026-10", "district")
    with pytest.raises(ValueError):
        maps.map_figure("hssk", "2026-10", "facility")


@pytest.mark.browser
def test_kaleido_exports_the_map(demo_db):
    fig = maps.map_figure("hssk", "2026-10", "commune", None, "scale", "vi")
    assert pio.defaults.topojson == maps.TOPOJSON_URL  # offline: plotly's base topology from assets/
    png = fig.to_image(format="png", width=1200, height=800)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


# --- URL state without a browser --------------------------------------------------------------

def map_page():
    """layouts.map, registered under a Dash app (dash.register_page needs one; once per process)."""
    import sys

    import dash

    if "layouts.map" not in sys.modules:
        try:
            import layouts.map  # noqa: F401
        except dash.exceptions.PageError:
            dash.Dash("map-tests", use_pages=True, pages_folder="")
    import layouts.map

    return layouts.map


def map_state(indicator=None, period=None, level=None, unit=None, colouring=None, lang=None):
    query = {"indicator": indicator, "period": period, "level": level, "unit": unit, "colouring": colouring,
             "lang": lang}
    return map_page().resolve_state(request.read("map", {k: v for k, v in query.items() if v is not None}))


def test_bad_parameters_give_warnings_and_defaults(demo_db):
    state = map_state("bogus", "2026-13", "huyen", "zzz", "rainbow", "en")
    assert (state.indicator, state.period, state.level, state.unit, state.colouring) == \
        ("hssk", "2026-10", "district", "31", "status")
    assert len(state.warnings) == 5
    assert all(w.startswith("Invalid parameter, showing the default") for w in state.warnings)


def test_a_commune_opens_among_its_zone(demo_db, demo_data):
    resolve_state = map_state
    units = demo_data.units.set_index("code")
    commune = "11311"
    state = resolve_state("hssk", "2026-10", None, commune, None, "vi")
    assert (state.level, state.parent, state.selected, state.focus) == \
        ("commune", units.loc[commune, "parent_code"], commune, commune)
    zone = units.loc[commune, "parent_code"]
    state = resolve_state("hssk", "2026-10", None, zone, None, "vi")
    assert (state.level, state.parent, state.selected) == ("commune", zone, None)
    state = resolve_state("hssk", "2026-10", "district", commune, None, "vi")
    assert (state.parent, state.selected, state.focus) == ("31", zone, commune)


def test_next_query_for_clicks_and_controls(demo_db):
    next_query = map_page().next_query

    state = {"indicator": "hssk", "period": "2026-10", "level": "district", "unit": "31", "colouring": "status",
             "lang": "vi", "root": "31"}
    zone_click = {"points": [{"customdata": ["303", "...", "commune"]}]}
    assert next_query(state, "map-graph", click=zone_click) == \
        {"indicator": "hssk", "period": "2026-10", "level": "commune", "unit": "303", "colouring": None, "lang": None}
    facility_click = {"points": [{"customdata": ["11311", "...", "facility", "TYT11311"]}]}
    assert next_query(state, "map-graph", click=facility_click)["unit"] == "11311"
    assert next_query(state, "map-colouring", colouring="scale")["colouring"] == "scale"
    assert next_query(state, "map-period", period="2026-10") is None  # no change, no navigation
    assert next_query(state, "map-graph", click={"points": []}) is None


@pytest.mark.parametrize("query", [
    {}, {"indicator": "bogus"}, {"period": "9999-99"}, {"period": "1990-01"}, {"unit": "'; DROP TABLE units;--"},
    {"unit": "TYT11311"}, {"level": "province"}, {"colouring": "<script>"}, {"lang": "fr"},
    {"indicator": "tthc_online", "level": "commune"}, {"indicator": "emr", "unit": "11383", "period": "2025"},
])
def test_layout_never_raises(demo_db, query):
    layout = map_page().layout

    tree = json.dumps(layout(**query).to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o))
    assert "Traceback" not in tree
    assert '"id": "map-graph"' in tree or "map-graph" in tree


# --- in the browser ---------------------------------------------------------------------------

POINT_IN = """(code) => {
  const paths = [...document.querySelectorAll('#map-graph path.choroplethlocation')];
  const p = paths.find(e => e.__data__ && e.__data__.loc === code); if (!p) return null;
  const r = p.getBoundingClientRect(), inv = p.getScreenCTM().inverse();
  const marks = [...document.querySelectorAll('#map-graph .scattergeo path.point')].map(m => {
    const b = m.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; });
  let best = null, bestD = -1;
  for (let i = 1; i < 24; i++) for (let j = 1; j < 24; j++) {
    const x = r.left + r.width * i / 24, y = r.top + r.height * j / 24;
    if (!p.isPointInFill(new DOMPoint(x, y).matrixTransform(inv))) continue;
    const d = Math.min(1e9, ...marks.map(m => Math.hypot(m[0] - x, m[1] - y)));
    if (d > bestD) { best = [x, y]; bestD = d; }
  }
  return best; }"""
DRAWN = "() => [...document.querySelectorAll('#map-graph path.choroplethlocation')].map(p => p.__data__.loc)"


def click_unit(page, code: str) -> None:
    xy = page.evaluate(POINT_IN, code)
    assert xy, f"unit {code} is not on the map"
    page.mouse.click(xy[0], xy[1])


def wait_state(page, state: str) -> None:
    page.wait_for_selector(f"#map-page[data-state='{state}']", timeout=20_000)
    page.wait_for_selector("#map-graph path.choroplethlocation", timeout=20_000)


def query_of(url: str) -> dict:
    from urllib.parse import parse_qs, urlparse

    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


@pytest.mark.browser
def test_drill_down_state_round_trips_through_the_url(live_server, page, demo_data):
    units = demo_data.units[demo_data.units["valid_to"].isna()]  # today's (old units have no outline)
    communes = units[units["level"] == "commune"]
    zone = communes["parent_code"].value_counts().idxmax()  # the zone with the most communes
    zone_name = units.set_index("code").loc[zone, "name"]
    inside = sorted(communes.loc[communes["parent_code"] == zone, "code"])

    page.goto(f"{live_server.url}/map?indicator=hssk&period=2026-10&level=commune&unit={zone}")
    wait_state(page, f"hssk|2026-10|commune|{zone}|status")
    assert sorted(page.evaluate(DRAWN)) == inside
    assert zone_name in page.locator("#map-heading").inner_text()
    assert page.locator("#map-table tbody tr").count() == len(inside)
    assert zone_name in page.locator("#map-breadcrumb").inner_text()

    # Click a commune: the URL says so, its panel opens, and a reload gives the same view.
    commune = inside[1]
    click_unit(page, commune)
    page.wait_for_function(f"location.search.includes('unit={commune}')")
    wait_state(page, f"hssk|2026-10|commune|{commune}|status")
    assert page.locator("#map-panel-name").inner_text() == units.set_index("code").loc[commune, "name"]
    assert sorted(page.evaluate(DRAWN)) == inside  # still among its zone's communes
    page.reload()
    wait_state(page, f"hssk|2026-10|commune|{commune}|status")

    # Back: the zone again.
    page.go_back()
    page.wait_for_function(f"location.search.includes('unit={zone}')")
    wait_state(page, f"hssk|2026-10|commune|{zone}|status")

    # Breadcrumb up to the province, then click a zone on the map.
    root = units.loc[units["level"] == "province", "code"].iloc[0]
    page.locator(f"#map-crumb-{root}").click()
    wait_state(page, f"hssk|2026-10|district|{root}|status")
    assert "unit" not in query_of(page.url)
    drawn = page.evaluate(DRAWN)
    assert len(drawn) == 27
    other = next(z for z in sorted(drawn) if z != zone)
    click_unit(page, other)
    page.wait_for_function(f"location.search.includes('unit={other}')")
    wait_state(page, f"hssk|2026-10|commune|{other}|status")
    assert query_of(page.url) == {"indicator": "hssk", "period": "2026-10", "level": "commune", "unit": other}
    page.go_back()
    wait_state(page, f"hssk|2026-10|district|{root}|status")
    page.go_forward()
    wait_state(page, f"hssk|2026-10|commune|{other}|status")


@pytest.mark.browser
def test_controls_change_the_url(live_server, page):
    page.goto(f"{live_server.url}/map?indicator=hssk&period=2026-10")
    wait_state(page, "hssk|2026-10|district|31|status")
    page.locator("#map-colouring label", has_text="Thang màu liên tục").click()
    wait_state(page, "hssk|2026-10|district|31|scale")
    assert query_of(page.url)["colouring"] == "scale"
    assert page.locator("#map-graph .colorbar").count() == 1
    assert "Mục tiêu 95" in page.locator("#map-graph .colorbar").text_content()
    page.locator("#map-level label", has_text="Xã/Phường").click()
    wait_state(page, "hssk|2026-10|commune|31|scale")
    assert len(page.evaluate(DRAWN)) == 114
    # A row of the table drills like the map.
    page.locator("#map-table a.map-row-link").first.click()
    page.wait_for_function("location.search.includes('unit=')")
    assert re.fullmatch(r"\d{5}", query_of(page.url)["unit"])


@pytest.mark.browser
def test_bad_parameters_show_a_friendly_warning(live_server, page):
    page.goto(f"{live_server.url}/map?indicator=bogus&period=2026-13&unit=zzz&level=xx&colouring=yy&lang=en")
    page.wait_for_selector("#map-graph path.choroplethlocation")
    warnings = page.locator(".param-warning")
    assert warnings.count() == 5
    assert "unknown indicator “bogus”" in warnings.nth(0).inner_text()
    assert page.locator("#map-page").get_attribute("data-state").startswith("hssk|2026-10|district|31|")
    assert "Traceback" not in page.content()
    assert page.locator("h1").inner_text() == "Operations map"


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _walk(child)


def test_table_lists_every_row_worst_first_never_a_negative_shortfall(demo_db):
    page = map_page()
    state = map_state("hssk", "2026-10")
    frame = figures.figures("hssk", "2026-10", "district", "31")
    table = page.figures_table(frame, figures.indicator("hssk"), state)
    rows = [n for n in _walk(table) if getattr(n, "id", "") and str(n.id).startswith("map-row-")]
    assert len(rows) == len(frame) == 27  # every zone, no fixed box cutting them off
    # worst first: statuses in WORST_FIRST order, and within one status the largest shortfall first
    expected = frame.assign(rank=frame["status"].map(page.WORST_FIRST), neg=-frame["gap_points"]) \
        .sort_values(["rank", "neg"], kind="mergesort")["code"].tolist()
    assert [str(r.id)[len("map-row-"):] for r in rows] == expected
    gaps = [float(getattr(n, "data-gap")) for n in _walk(table) if hasattr(n, "data-gap")]
    assert gaps and min(gaps) >= 0
    beyond = frame[frame["gap_points"] < 0]
    assert sum(1 for g in gaps if g == 0) >= len(beyond)
    # each name is a link drilling into the unit's communes
    links = {n.id: n.href for n in _walk(table) if str(getattr(n, "id", "")).startswith("map-link-")}
    assert links["map-link-303"] == "/map?indicator=hssk&period=2026-10&level=commune&unit=303"
