"""The browser's plotly.js is the geo partial bundle (dashboard/plotlyjs.py): of the plotly.js
version the plotly package carries, served where Dash's graph loader asks, and drawing every
trace type the pages send; the wall loads the full bundle."""
from __future__ import annotations

import json

import pytest
from plotly.offline import get_plotlyjs_version

from dashboard import plotlyjs
from tests.app_helpers import web_app
from tests.auth_helpers import pages_body

PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def test_the_bundle_is_the_plotly_package_s_own_version():
    assert plotlyjs.bundle_version() == get_plotlyjs_version()
    assert plotlyjs.FILE.stat().st_size < 2 * 1024 * 1024


def test_dash_s_loader_gets_the_geo_bundle_and_the_wall_the_full_one(demo_db):
    client = web_app().server.test_client()
    geo = client.get(PATH)
    assert geo.status_code == 200 and geo.mimetype == "application/javascript"
    assert geo.get_data().startswith(b"/**\n* plotly.js (geo - minified)")
    assert client.get(PATH, headers={"If-None-Match": geo.headers["ETag"]}).status_code == 304
    full = client.get(PATH + "?bundle=full")
    assert full.status_code == 200 and len(full.get_data()) > 3 * len(geo.get_data())
    assert b"plotly.js (geo" not in full.get_data()[:200]
    assert f'src="{PATH}?bundle=full"' in client.get("/wall?indicators=hssk").get_data(as_text=True)
    for page in ("/", "/map", "/unit/288", "/targets"):
        assert "bundle=full" not in client.get(page).get_data(as_text=True), page


def trace_types(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        figure = node.get("figure")
        if isinstance(figure, dict) and isinstance(figure.get("data"), list):
            found |= {t.get("type", "scatter") for t in figure["data"]}
        for value in node.values():
            found |= trace_types(value)
    elif isinstance(node, list):
        for value in node:
            found |= trace_types(value)
    return found


@pytest.mark.parametrize("path, search", [
    ("/", ""), ("/map", ""), ("/map", "?level=commune&colouring=scale"), ("/map", "?unit=288&level=commune"),
    ("/map", "?unit=288&level=commune&selected=10507"), ("/unit/288", ""), ("/unit/10507", ""),
])
def test_every_page_figure_is_drawn_by_the_geo_bundle(demo_db, path, search):
    answer = web_app().server.test_client().post("/_dash-update-component", json=pages_body(path, search))
    assert answer.status_code == 200
    types = trace_types(json.loads(answer.get_data(as_text=True)))
    assert types, "no figure on the page"
    if path == "/map":
        assert "choropleth" in types
    assert types <= set(plotlyjs.TRACES), types
