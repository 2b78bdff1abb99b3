"""A SQL trace of each web request, like Datasette's ``?_trace=1``: which statements a page, a
callback, a download or an API call ran, and how long each took.

The ``SQL_TRACE`` setting switches it: ``off`` (default), ``on`` (every request), or ``param``
(only requests carrying ``_trace=1``). A traced request logs one line per statement under the
``dashboard.trace`` logger and answers with a ``Server-Timing`` header (``db;dur=…;desc="N
statements"``) that the browser's developer tools show. Outside a request nothing is recorded.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

_listening = False


def _wanted(mode: str) -> bool:
    return mode == "on" or (mode == "param" and request.args.get("_trace") == "1")


def _before(conn, cursor, statement, parameters, context, executemany):
    if has_request_context() and getattr(g, "sql_trace", None) is not None:
        conn.info.setdefault("trace_started", []).append(time.perf_counter())


def _after(conn, cursor, statement, parameters, context, executemany):
    if not has_request_context() or getattr(g, "sql_trace", None) is None:
        return
    started = conn.info.get("trace_started")
    if not started:
        return
    elapsed = (time.perf_counter() - started.pop()) * 1000.0
    g.sql_trace.append((elapsed, " ".join(statement.split())))


def install(server: Flask, mode: str) -> None:
    """Trace the requests of `server` in `mode` (``off``, ``on`` or ``param``; config.TRACE_MODES)."""
    global _listening
    if mode == "off":
        return
    if not _listening:
        event.listen(Engine, "before_cursor_execute", _before)
        event.listen(Engine, "after_cursor_execute", _after)
        _listening = True

    @server.before_request
    def _start_trace():
        if _wanted(mode):
            g.sql_trace = []
            g.sql_trace_started = time.perf_counter()

    @server.after_request
    def _finish_trace(response):
        trace = getattr(g, "sql_trace", None)
        if trace is None:
            return response
        total = sum(ms for ms, _ in trace)
        wall = (time.perf_counter() - g.sql_trace_started) * 1000.0
        log.info("trace %s %s: %d statements, %.1f ms in the database, %.1f ms in all",
                 request.method, request.full_path.rstrip("?"), len(trace), total, wall)
        for ms, statement in trace:
            log.info("trace   %7.1f ms  %s", ms, statement[:500])
        response.headers["Server-Timing"] = f'db;dur={total:.1f};desc="{len(trace)} statements"'
        return response
