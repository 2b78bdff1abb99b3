"""The Dash application: settings -> engine -> cache -> pages -> routes -> HTTP hardening.

Building the app does no database work: an unreachable PostgreSQL, Redis or Chromium
cannot stop a gunicorn worker from booting (a worker that fails to boot makes gunicorn
exit for good). The first start (migrations, built-in indicators, the demo province) runs
in a background thread of each process with retries (dashboard/bootstrap.py); pages say
they are getting ready meanwhile and fill in by themselves.

Pages live in ``layouts/`` (one module per page, each calling ``dash.register_page`` with its
navigation label and translated title); every module there is imported once, so adding a page is
its module plus its strings in ``dashboard/locales/``.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from pathlib import Path
from urllib.parse import parse_qs

import dash
import flask
from dash import html
from sqlalchemy import Engine

from . import bootstrap, figures, render
from .cache import init_cache
from .config import ConfigError, Settings, load_settings
from .database import engine_for, make_engine

ROOT = Path(__file__).resolve().parent.parent
#: Modules of layouts/ that are shared pieces, not pages.
NOT_PAGES = ("common", "outage")

#: Dash's page template without its <footer> (a second footer landmark holding only scripts) and
#: with the page's language on <html> (set again by the page when it is English).
INDEX_STRING = """<!DOCTYPE html>
<html lang="{lang}">
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        {{%favicon%}}
        {{%css%}}
    </head>
    <body>
        {{%app_entry%}}
        {{%config%}}
        {{%scripts%}}
        {{%renderer%}}
    </body>
</html>"""

log = logging.getLogger(__name__)


def web_engine(settings: Settings) -> Engine:
    """The engine of the web application. On PostgreSQL an unreachable server is given up on
    after DB_CONNECT_TIMEOUT seconds (libpq would otherwise wait as long as the kernel does);
    a connection whose packets stop being acknowledged (a network partition) fails after
    15 s instead of the kernel's many minutes; and a request waits at most 10 s for a pooled
    connection. So during an outage pages get their last-good figures quickly."""
    url = settings.database_url
    if not url.startswith("postgresql"):
        return engine_for(url)
    connect_args: dict = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                          "keepalives_count": 3, "tcp_user_timeout": 15_000}
    if settings.db_connect_timeout:
        connect_args["connect_timeout"] = settings.db_connect_timeout
    return make_engine(url, connect_args=connect_args, pool_timeout=10)


def create_app(settings: Settings | None = None, prepare: bool = True) -> dash.Dash:
    """The app. `prepare` starts the first-start routine in the background (off in tests
    that bring their own database)."""
    settings = settings or load_settings()
    engine = web_engine(settings)
    figures.set_engine(engine)
    render.configure(queue=settings.render_queue, timeout=settings.render_timeout)

    app = dash.Dash(
        "dashboard",
        index_string=INDEX_STRING.format(lang=settings.default_lang),
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title="Dashboard chỉ đạo điều hành — Sở Y tế",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        compress=False,  # dashboard.security sets up brotli and gzip itself
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.settings = settings  # type: ignore[attr-defined]
    init_cache(app.server, settings)
    from . import auth  # sessions, sign-in, the access gate, wall tokens: no database at boot

    auth.init_app(app, settings)

    for name in page_modules():
        _import_page(name)

    from . import api, exports, geoserve, health, security, trace

    trace.install(app.server, settings.sql_trace)
    api.register(app.server)
    health.register(app.server)
    exports.register(app.server)  # /export/*.png and /export/data.csv|xlsx
    geoserve.register(app.server)  # /geo/<level>/<parent>.json: the map's outlines, by URL
    security.install(app, settings)
    from . import viewcache

    viewcache.install(app.server)

    @app.server.get("/favicon.ico")
    def favicon():  # what browsers ask for by themselves, on the sign-in page and JSON answers alike
        return flask.send_from_directory(ROOT / "assets", "favicon.ico", max_age=86400)

    app.layout = html.Div([dash.page_container], id="app-root")
    from . import plotlyjs

    plotlyjs.install(app)  # the geo bundle of plotly.js (1.4 MB, not 4.8), the full one on the wall
    if prepare:
        def first_start() -> None:
            bootstrap.start_in_background(engine, load_demo=settings.load_demo,
                                          auto_upgrade=settings.db_auto_upgrade)

        first_start()
        viewcache.start_warming(app)
        # A process forked after this (gunicorn with preload_app) starts its own on its first request.
        app.server.before_request(first_start)
    return app


def page_modules() -> list[str]:
    """Every page module of layouts/ (the overview first, so it owns the path "/")."""
    import layouts

    names = [f"layouts.{m.name}" for m in pkgutil.iter_modules(layouts.__path__) if m.name not in NOT_PAGES]
    return sorted(names, key=lambda n: (n != "layouts.overview", n))


def request_lang() -> str:
    """The language of the page being served: its ``lang`` parameter, read from the URL of a
    page load or from the location a Dash Pages callback carries."""
    from dash import callback_context
    from flask import has_request_context, request

    from .i18n import lang_or_default

    default = getattr(dash.get_app(), "settings", None) if _has_app() else None
    fallback = getattr(default, "default_lang", "vi")
    if not has_request_context():
        return fallback
    search = None
    try:
        search = callback_context.inputs.get("_pages_location.search")
    except Exception:  # noqa: BLE001 - not inside a callback: a plain page load
        search = None
    if isinstance(search, str):
        values = parse_qs(search.lstrip("?")).get("lang")
        return lang_or_default(values[0] if values else fallback)
    return lang_or_default(request.args.get("lang") or fallback)


def _has_app() -> bool:
    try:
        dash.get_app()
        return True
    except Exception:  # noqa: BLE001
        return False


def _import_page(name: str) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    importlib.import_module(name)


def main() -> None:  # pragma: no cover - exercised by hand and by the e2e test's subprocess
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, debug=settings.debug, dev_tools_ui=settings.debug,
            dev_tools_props_check=settings.debug, threaded=True)
