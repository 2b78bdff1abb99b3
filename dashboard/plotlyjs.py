"""plotly.js for the browser: the **geo partial bundle** (``plotly.js-geo-dist-min`` of the
plotly.js version the installed plotly package carries: scatter, scattergeo and choropleth,
every trace a page draws), 1.4 MB instead of the full 4.8 MB.

A browser spends most of a first map paint compiling plotly.js (about 1 s for the full bundle
on a 2-core machine, against 0.1 s for every figure and callback): the smaller bundle is the
largest single cut of the first /map paint. It is served at the very URL Dash's graph loader
asks for (``_dash-component-suites/plotly/package_data/plotly.min.js``), so nothing in Dash
changes; compression and cache headers are those of every bundle (``compression``,
``security``).

The wall alone loads the full bundle (``?bundle=full``, by a script tag before Dash's own, so
its graphs find ``window.Plotly`` and load nothing more): its map slide falls back to bars when
a map cannot be drawn (``slides.map_figure``), and a kiosk must never show an empty chart.
Figures rendered to images (kaleido) use the plotly package's own full bundle and are not
concerned. ``tests/test_plotlyjs.py`` checks that the bundle matches the plotly package's
version and draws every trace type the pages build.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import dash
import flask

FILE = Path(__file__).resolve().parent / "static" / "plotly-geo.min.js"
#: Trace types the geo bundle draws: the pages' figures must keep to them.
TRACES = ("scatter", "scattergeo", "choropleth")
FULL = "full"
#: Pages that load the full bundle up front.
FULL_BUNDLE_PATHS = ("/wall",)


def url_path(app: dash.Dash) -> str:
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/plotly/package_data/plotly.min.js"


@lru_cache(maxsize=1)
def _bundle() -> tuple[bytes, str]:
    data = FILE.read_bytes()
    return data, hashlib.sha1(data).hexdigest()


def bundle_version() -> str:
    """The plotly.js version in the geo bundle's banner ('4.1.1')."""
    with FILE.open("rb") as f:
        head = f.read(200).decode("utf-8", errors="replace")
    return head.split(" v", 1)[1].split()[0] if " v" in head else ""


def install(app: dash.Dash) -> None:
    path = url_path(app)
    server = app.server

    @server.before_request
    def _geo_bundle():
        if flask.request.path != path or flask.request.args.get("bundle") == FULL:
            return None
        data, etag = _bundle()
        response = flask.Response(data, mimetype="application/javascript")
        response.set_etag(etag)
        return response.make_conditional(flask.request)

    tag = f'<script src="{path}?bundle={FULL}"></script>\n'
    base = app.interpolate_index

    def interpolate_index(**kwargs):
        here = flask.request.path if flask.has_request_context() else ""
        if any(here == p or here.startswith(p + "/") for p in FULL_BUNDLE_PATHS):
            kwargs["scripts"] = tag + kwargs.get("scripts", "")
        return base(**kwargs)

    app.interpolate_index = interpolate_index
