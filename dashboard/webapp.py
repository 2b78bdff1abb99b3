"""The Dash application: settings -> database -> cache -> pages.

Pages live in ``layouts/`` (one module per page, each calling ``dash.register_page``);
they are imported here explicitly so every module is loaded exactly once.
"""
from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import dash
from dash import html

from . import figures
from .bootstrap import prepare_database
from .cache import init_cache
from .config import ConfigError, Settings, load_settings
from .database import engine_for

ROOT = Path(__file__).resolve().parent.parent
PAGE_MODULES = ("layouts.overview",)
OPTIONAL_PAGE_MODULES = ("layouts.map", "layouts.targets", "layouts.unit", "layouts.wall")

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, prepare: bool = True) -> dash.Dash:
    settings = settings or load_settings()
    engine = engine_for(settings.database_url)
    figures.set_engine(engine)
    if prepare:
        prepare_database(engine, load_demo=settings.load_demo)

    app = dash.Dash(
        "dashboard",
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title="Dashboard chỉ đạo điều hành — Sở Y tế",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.settings = settings  # type: ignore[attr-defined]
    init_cache(app.server, settings)
    from . import auth  # sessions, sign-in, the access gate, wall tokens: no database at boot

    auth.init_app(app, settings)

    for name in PAGE_MODULES:
        _import_page(name)
    for name in OPTIONAL_PAGE_MODULES:
        if (ROOT / (name.replace(".", "/") + ".py")).exists():
            _import_page(name)

    from . import api, health

    api.register(app.server)
    health.register(app.server)
    from . import exports  # /export/*.png and /export/data.csv|xlsx (issue 6)
    exports.register(app.server)

    app.layout = html.Div([dash.page_container], id="app-root")
    return app


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
            dev_tools_props_check=settings.debug)
