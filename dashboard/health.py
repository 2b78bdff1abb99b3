"""/healthz: is the database reachable, which data version and month is being served.

For load balancers, monitoring and wall screens checking their own server. Never raises:
a failure answers 503 with the reason.
"""
from __future__ import annotations

from flask import Flask, jsonify

from . import figures


def register(server: Flask) -> None:
    @server.route("/healthz")
    def healthz():
        try:
            return jsonify({"status": "ok", "data_version": figures.version(),
                            "latest_month": figures.latest_month(), "demo": figures.is_demo()})
        except Exception as exc:  # noqa: BLE001 - report, never crash
            return jsonify({"status": "error", "error": exc.__class__.__name__}), 503
