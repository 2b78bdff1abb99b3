"""Probes for load balancers, orchestrators and monitoring: two questions, two URLs.

* ``GET /healthz`` — **is this process alive?** Always 200 while the worker can answer HTTP;
  it touches neither the database nor the cache, so a database outage never makes a load
  balancer (or a supervisor's liveness check) kill or drain workers that are, in fact,
  serving last-good figures.
* ``GET /readyz`` — **should this instance receive traffic?** 200 when the database answers,
  its schema is at the migrations' head, the first start has finished in this process, and
  every check registered in :data:`READINESS_CHECKS` passes; otherwise 503 with
  ``Retry-After`` and which check failed. Use it to hold traffic back from a new instance
  and to take one out of rotation while its database is away.

Both answer JSON and never raise. Another check (say "aggregates fresh") is one function
appended to :data:`READINESS_CHECKS`; see :func:`readiness_check`.
"""
from __future__ import annotations

import os
import time
from typing import Callable

from flask import Flask, jsonify
from sqlalchemy import text

from . import bootstrap, figures
from .cache import RETRY_AFTER
from .database import current_revision, head_revision

_STARTED = time.time()

#: (name, check) pairs; a check returns (ok, detail) and may raise (counted as a failure).
#: Hook for later checks, e.g. ("aggregates", aggregates_fresh) once materialised figures exist.
READINESS_CHECKS: list[tuple[str, Callable[[], tuple[bool, str]]]] = []


def readiness_check(name: str):
    """Decorator: add a check to /readyz. ``@readiness_check("aggregates")`` on a function
    returning ``(ok, detail)``."""

    def register(fn: Callable[[], tuple[bool, str]]):
        READINESS_CHECKS.append((name, fn))
        return fn

    return register


def _database() -> tuple[bool, str]:
    with figures.engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    bootstrap.database_answered()
    return True, "reachable"


_head: dict[str, str] = {}


def _migrations() -> tuple[bool, str]:
    head = _head.get("head") or _head.setdefault("head", head_revision())
    current = current_revision(figures.engine())
    return current == head, f"{current or 'empty'} (head {head})"


def _first_start() -> tuple[bool, str]:
    state = bootstrap.status()
    return bootstrap.is_ready(), state["state"] + (f": {state['error']}" if state["error"] else "")


BUILT_IN_CHECKS = (("database", _database), ("migrations", _migrations), ("first_start", _first_start))


def readiness() -> tuple[bool, dict[str, dict]]:
    results: dict[str, dict] = {}
    database_ok = True
    for name, check in (*BUILT_IN_CHECKS, *READINESS_CHECKS):
        if not database_ok and name == "migrations":
            results[name] = {"ok": False, "detail": "database unreachable"}
            continue
        try:
            ok, detail = check()
        except Exception as exc:  # noqa: BLE001 - a probe reports, never crashes
            ok, detail = False, _describe(exc)
        results[name] = {"ok": bool(ok), "detail": detail}
        if name == "database":
            database_ok = bool(ok)
    return all(r["ok"] for r in results.values()), results


def _describe(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return f"{exc.__class__.__name__}: {text.splitlines()[0][:200]}" if text else exc.__class__.__name__


def register(server: Flask) -> None:
    @server.route("/healthz")
    def healthz():
        body = jsonify({"status": "alive", "pid": os.getpid(), "uptime_s": round(time.time() - _STARTED, 1)})
        body.headers["Cache-Control"] = "no-store"
        return body

    @server.route("/readyz")
    def readyz():
        ok, checks = readiness()
        body = jsonify({"status": "ready" if ok else "not ready", "checks": checks})
        body.headers["Cache-Control"] = "no-store"
        if ok:
            return body
        body.status_code = 503
        body.headers["Retry-After"] = str(RETRY_AFTER)
        return body
