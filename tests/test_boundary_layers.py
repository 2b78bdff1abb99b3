"""Boundary layers prepared once (dashboard.boundaries.prepare_layers): one ready-to-send layer
per level and per parent, simplified for the parent's extent, cached on the boundary version
(never the data version) and never parsed by a map callback."""
from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import text

from dashboard import boundaries, figures, maps, store, viewcache
from tests import world
from tests.app_helpers import web_app

ROUTER = {"output": viewcache.ROUTER_OUTPUT,
          "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
          "changedPropIds": ["_pages_location.pathname"], "state": []}


def router(client, path: str, search: str = ""):
    body = {**ROUTER, "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                                 {"id": "_pages_location", "property": "search", "value": search}]}
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def layers(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT level, parent_code, tolerance, features, geojson, bytes "
                                 "FROM boundary_layers")).mappings().all()
    return {(r["level"], r["parent_code"]): dict(r) for r in rows}


def ids(layer: dict) -> set[str]:
    return {f["id"] for f in json.loads(layer["geojson"])["features"]}


# --- the demo province ------------------------------------------------------------------------

def test_the_demo_has_a_layer_per_level_and_parent_coarser_for_a_wider_extent(demo_db):
    with demo_db.connect() as conn:
        units = pd.read_sql(text("SELECT code, level, parent_code FROM units WHERE valid_to IS NULL"), conn)
    zones = units[units["level"] == "district"]
    got = layers(demo_db)
    expected = {("province", ""), ("district", "31"), ("commune", "31")} | {("commune", z) for z in zones["code"]}
    assert set(got) == expected
    communes = units[units["level"] == "commune"]
    assert ids(got[("commune", "31")]) == set(communes["code"])
    for zone in zones["code"]:
        mine = set(communes.loc[communes["parent_code"] == zone, "code"])
        assert ids(got[("commune", zone)]) == mine
        # one zone fills the map: finer than the whole province's communes
        assert got[("commune", zone)]["tolerance"] < got[("commune", "31")]["tolerance"]
    assert got[("commune", "31")]["bytes"] < 200 * 1024
    assert got[("commune", "31")]["bytes"] == len(got[("commune", "31")]["geojson"].encode())


def test_layer_tolerance_follows_the_extent():
    assert boundaries.layer_tolerance((102, 8, 110, 23.4)) > 10 * boundaries.layer_tolerance((106, 20.5, 107, 21.5))
    assert boundaries.layer_tolerance((0, 0, 1e-6, 1e-6)) == boundaries.LAYER_MIN_TOLERANCE


# --- a hand-made province: import, drill, re-import, load ------------------------------------

SQUARES = {"00004": (0, 0), "00005": (1, 0), "00006": (2, 0), "00008": (3, 0)}  # 1° squares in a row


def write_communes(path, shift: float = 0.0):
    frame = gpd.GeoDataFrame({"code": list(SQUARES)},
                             geometry=[box(105 + x + shift, 20 + y, 106 + x + shift, 21 + y)
                                       for x, y in SQUARES.values()], crs="EPSG:4326")
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def world_map(use_engine, tmp_path):
    world.load_world(use_engine)
    with store.write_transaction(use_engine) as conn:
        boundaries.import_file(conn, write_communes(tmp_path / "xa.geojson"), "commune", code_field="code")
        boundaries.build_zones(conn)
    return use_engine


def test_an_import_prepares_each_parent_s_layer(world_map):
    got = layers(world_map)
    assert set(got) == {("province", ""), ("district", "01"), ("commune", "01"), ("commune", "001"),
                        ("commune", "002")}
    assert ids(got[("commune", "001")]) == {"00004", "00005"}
    assert ids(got[("commune", "002")]) == {"00006", "00008"}
    assert ids(got[("commune", "01")]) == set(SQUARES)
    # the province spans 4°, a zone 2°: diagonals /1000
    assert got[("commune", "01")]["tolerance"] == pytest.approx((4 ** 2 + 1) ** 0.5 / 1000)
    assert got[("commune", "001")]["tolerance"] == pytest.approx((2 ** 2 + 1) ** 0.5 / 1000)


class Spy:
    def __init__(self, monkeypatch):
        self.reads = 0
        real = boundaries._read_layer

        def reading(*args):
            self.reads += 1
            return real(*args)

        monkeypatch.setattr(boundaries, "_read_layer", reading)

        def forbidden(*_a, **_k):
            raise AssertionError("geometry parsed while serving a map")

        monkeypatch.setattr(shapely, "from_geojson", forbidden)
        monkeypatch.setattr(gpd, "read_file", forbidden)
        monkeypatch.setattr(maps, "_rings", forbidden)  # framing reads the prepared boxes


def load_one_value(engine, numerator: float):
    with store.write_transaction(engine) as conn:
        load_id = store.record_load(conn, kind="values", source_file="more.csv", checksum=str(numerator))
        values = pd.DataFrame([("stockind", "00004", "2025-09", numerator, 100.0)],
                              columns=["indicator", "entity_code", "period", "numerator", "denominator"])
        store.upsert_values(conn, values, load_id)


def test_the_map_callback_parses_nothing_and_a_data_load_keeps_the_layers(world_map, monkeypatch):
    client = web_app().server.test_client()
    spy = Spy(monkeypatch)
    first = router(client, "/map", "?unit=001&level=commune&indicator=stockind")
    assert first.status_code == 200
    assert '"00004"' in first.get_data(as_text=True)
    reads_after_first = spy.reads
    assert reads_after_first >= 1
    version = figures.version()
    load_one_value(world_map, 42.0)  # a data load: new figures, same boundaries
    assert figures.version() > version
    again = router(client, "/map", "?unit=001&level=commune&indicator=stockind")
    assert again.status_code == 200
    assert spy.reads == reads_after_first  # nothing read back nor parsed again
    fig = maps.map_figure("stockind", None, "commune", "001")
    assert sorted(loc for tr in fig.data if tr.type == "choropleth" for loc in tr.locations) == ["00004", "00005"]
    assert spy.reads == reads_after_first


def test_a_boundary_re_import_bumps_the_boundary_version_and_the_map_shows_it(world_map, tmp_path):
    before = boundaries.boundary_version()
    fig = maps.map_figure("stockind", None, "commune", "001")
    lon_before = fig.layout.geo.lonaxis.range
    with store.write_transaction(world_map) as conn:
        boundaries.import_file(conn, write_communes(tmp_path / "moved.geojson", shift=10.0), "commune",
                               code_field="code")
    after = boundaries.boundary_version()
    assert int(after) == int(before) + 1
    fig = maps.map_figure("stockind", None, "commune", "001")
    lon_after = fig.layout.geo.lonaxis.range
    assert lon_after[0] == pytest.approx(lon_before[0] + 10, abs=0.2)
    feats = boundaries.feature_collection("commune", ["00004"], parent="001")["features"]
    assert min(x for x, _ in feats[0]["geometry"]["coordinates"][0][0]) == pytest.approx(115.0)


def test_a_data_load_leaves_the_boundary_version(world_map):
    before = boundaries.boundary_version()
    load_one_value(world_map, 7.0)
    assert boundaries.boundary_version() == before


# --- the map names its layer by URL (/geo/…) ------------------------------------------------

@pytest.fixture
def viewer(world_map):
    """A signed-in reader of everything on the hand-made province (real data: no anonymous read)."""
    from tests.auth_helpers import STRONG_KEY, add_user, clear_accounts, configure, login

    clear_accounts(world_map)
    server = configure(secret_key=STRONG_KEY)
    add_user(world_map, "thu.ky", "viewer")
    client = server.test_client()
    login(client, "thu.ky")
    yield client
    clear_accounts(world_map)


def everything():
    from dashboard import request
    from dashboard.auth.scope import Scope

    return request.as_reader(Scope.everything())


def test_a_browser_s_map_names_its_layer_and_the_route_sends_it_once(world_map, viewer):
    server = web_app().server
    client = viewer
    with server.test_request_context("/map"), everything():
        by_url = maps.map_figure("stockind", None, "commune", "001", by_url=True)
        inline = maps.map_figure("stockind", None, "commune", "001")
    urls = {tr.geojson for tr in by_url.data if tr.type == "choropleth"}
    version = boundaries.boundary_version()
    assert urls == {f"/geo/commune/001.json?v={version}"}
    # the same shapes, framing and notes as the figure that carries its outlines
    assert by_url.layout.geo.lonaxis.range == inline.layout.geo.lonaxis.range
    assert [list(tr.locations or []) for tr in by_url.data] == [list(tr.locations or []) for tr in inline.data]
    assert len(by_url.to_json()) < len(inline.to_json())
    layer = client.get(urls.pop())
    assert layer.status_code == 200 and layer.mimetype == "application/json"
    assert "immutable" in layer.headers["Cache-Control"] and "max-age=31536000" in layer.headers["Cache-Control"]
    stored = layers(world_map)[("commune", "001")]["geojson"]
    assert layer.get_data(as_text=True) == stored
    assert {f["id"] for f in layer.get_json()["features"]} == {"00004", "00005"}
    again = client.get(f"/geo/commune/001.json?v={version}", headers={"If-None-Match": layer.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    # an old version's URL still answers, but is not to be kept
    stale = client.get("/geo/commune/001.json?v=0")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"


def test_a_layer_is_compressed_when_the_browser_asks(demo_db):
    client = web_app().server.test_client()
    version = boundaries.boundary_version()
    plain = client.get(f"/geo/commune/31.json?v={version}")
    packed = client.get(f"/geo/commune/31.json?v={version}", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    import gzip

    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_a_boundary_re_import_changes_the_layer_s_url(world_map, viewer, tmp_path):
    server = web_app().server
    with server.test_request_context("/map"), everything():
        before = {tr.geojson for tr in maps.map_figure("stockind", None, "commune", "001", by_url=True).data
                  if tr.type == "choropleth"}
    with store.write_transaction(world_map) as conn:
        boundaries.import_file(conn, write_communes(tmp_path / "moved.geojson", shift=10.0), "commune",
                               code_field="code")
    with server.test_request_context("/map"), everything():
        after = {tr.geojson for tr in maps.map_figure("stockind", None, "commune", "001", by_url=True).data
                  if tr.type == "choropleth"}
    assert before != after and len(after) == 1
    moved = viewer.get(after.pop()).get_json()
    from shapely.geometry import shape

    assert min(shape(f["geometry"]).bounds[0] for f in moved["features"]) == pytest.approx(115.0)


@pytest.mark.parametrize("path", ["/geo/nope/_.json", "/geo/commune/999.json", "/geo/commune/%00.json",
                                  "/geo/commune/..%2F..%2Fetc.json", "/geo/commune/00004.json",
                                  "/geo/district/001.json?v=%ff", "/geo/" + "x" * 5000 + "/_.json"])
def test_an_unknown_layer_is_a_translated_404(viewer, path):
    answer = viewer.get(path)
    assert answer.status_code == 404
    if answer.is_json:
        assert answer.get_json()["message"]["vi"] == "Không có lớp ranh giới này"


def test_a_database_outage_is_a_503_to_retry_never_a_500(viewer, monkeypatch):
    from dashboard import cache

    def away(*_a, **_k):
        raise cache.DataUnavailable("away")

    monkeypatch.setattr(boundaries, "prepared", away)
    answer = viewer.get("/geo/commune/001.json")
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_signing_in_is_needed_for_a_layer_when_anonymous_read_is_off(world_map):
    from tests.auth_helpers import STRONG_KEY, configure

    answer = configure(secret_key=STRONG_KEY).test_client().get("/geo/commune/001.json")
    assert answer.status_code == 401 and answer.is_json
