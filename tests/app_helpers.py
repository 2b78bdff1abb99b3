"""One in-process Dash app for the tests that talk HTTP to it without a server.

Dash keeps its pages and global callbacks in module state, so the app is built once per
test session and shared; each test points the read side at its own database through the
usual fixtures (demo_db, use_engine).
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from flask import request

# Settings the tests check against (small limits, an embedding origin).
MAX_REQUEST = 1024 * 1024
MAX_UPLOAD = 4 * 1024 * 1024
IOC_ORIGIN = "https://ioc.example.gov.vn"
UPLOAD_PROBE = "/upload-probe"


_SHARED: dict = {"map": {}, "list": []}


def share_callbacks(app):
    """Dash hands the pages' callbacks (``dash.callback``, registered at import) to the first app
    that serves a request and to no other; the tests build several apps in one process, so each
    gets them here (else the second app answers its pages' callbacks with a KeyError)."""
    from dash import _callback

    _SHARED["map"].update(_callback.GLOBAL_CALLBACK_MAP)
    _SHARED["list"].extend(c for c in _callback.GLOBAL_CALLBACK_LIST if c not in _SHARED["list"])
    app.server.test_client().get("/_dash-dependencies")  # Dash sets the server up at its first request
    for key, spec in _SHARED["map"].items():
        app.callback_map.setdefault(key, spec)
    for spec in _SHARED["list"]:
        if not any(c.get("output") == spec.get("output") for c in app._callback_list):
            app._callback_list.append(spec)
    return app


@lru_cache(maxsize=1)
def web_app():
    from dashboard import figures, security
    from dashboard.config import load_settings
    from dashboard.webapp import create_app

    folder = Path(tempfile.mkdtemp(prefix="sytdash-web-"))
    settings = load_settings({"DATABASE_URL": f"sqlite:///{folder / 'unused.db'}", "MAX_REQUEST_BYTES": "1M",
                              "MAX_UPLOAD_BYTES": "4M", "FRAME_ANCESTORS": f"'self' {IOC_ORIGIN}",
                              # readers need no sign-in here, whatever the database holds
                              "ANONYMOUS_READ": "true", "SECRET_KEY": "t" * 48})
    previous = figures._engine  # the fixtures' database stays the one read
    app = create_app(settings, prepare=False)
    figures.set_engine(previous)

    @app.server.post(UPLOAD_PROBE)
    def _upload_probe():  # stands for an upload route: reads the whole body
        return {"bytes": len(request.get_data())}

    security.upload_route(UPLOAD_PROBE)
    app.server.extensions["csrf"].exempt(_upload_probe)  # a stand-in route, not a form
    return share_callbacks(app)
