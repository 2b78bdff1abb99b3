"""The JSON API (/api/v1). Later issues add the endpoints; figures come from dashboard.figures."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def register(server: Flask) -> None:
    if "api_v1" not in server.blueprints:
        server.register_blueprint(bp)
