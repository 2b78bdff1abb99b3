"""Fault tests under the production shape: gunicorn with 2 workers and a shared Redis.

Nothing here stops the machine's shared servers: PostgreSQL is reached through a TCP proxy
the test owns (cut = every connection closed and new ones refused), and Redis is a private
redis-server on a free port that the test kills and starts again.

What must hold throughout: gunicorn stays up (workers restarted during an outage boot
fine), every page answers 200 with figures (the last good ones, with the banner, while
PostgreSQL is away; fresh ones, without a banner, while only Redis is away), the API says
503 with Retry-After instead of serving old figures, and everything recovers by itself.
"""
from __future__ import annotations

import json
import os
import re
import signal
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, require_postgres
from tests.fault_helpers import (Gunicorn, PrivateRedis, TcpProxy, component, get, post_oversized, render_page,
                                 text_of, wait_until)

HEADLINES = ("emr", "cashless", "hssk", "tthc_online")
ROOT_CODE = "31"
PAGES = ("/", "/map", "/targets", f"/unit/{ROOT_CODE}", "/wall")
SHELL_PAGES = tuple(p for p in PAGES if p != "/wall")  # the wall has its own banner (tests/test_wall.py)


def independent_value(demo, indicator: str, month: str) -> float:
    """Province value of a commune-reported indicator: sum N / sum D over the communes."""
    communes = set(demo.units[demo.units["level"] == "commune"]["code"])
    rows = demo.values[(demo.values["indicator"] == indicator) & (demo.values["period"] == month)
                       & demo.values["entity_code"].isin(communes)]
    return 100.0 * rows["numerator"].sum() / rows["denominator"].sum()


def figures_on_page(tree) -> dict[str, str]:
    """Every figure a page carries: components with a data-value, and the map's traces."""
    out: dict[str, str] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict) and isinstance(node.get("props"), dict):
            props = node["props"]
            if "data-value" in props and props.get("id"):
                out[props["id"]] = props["data-value"]
            if props.get("id") == "map-graph":
                out["map-graph"] = json.dumps(props["figure"]["data"], sort_keys=True)
            stack.extend(v for v in props.values() if isinstance(v, (dict, list)))
    return out


def snapshot(base_url: str) -> dict[str, tuple[dict, str | None]]:
    """{page: (its figures, its outage banner text or None)}, each page answering 200."""
    out = {}
    for path in PAGES:
        status, tree = render_page(base_url, path)
        assert status == 200, (path, status, str(tree)[:500])
        banner = component(tree, "outage-banner")
        out[path] = (figures_on_page(tree), text_of(banner) if banner else None)
    return out


def without_banner(shot: dict) -> dict | None:
    return shot if all(banner is None for _figs, banner in shot.values()) else None


def assert_full(figs: dict[str, str], path: str) -> None:
    assert [v for v in figs.values() if v not in ("", None)], f"no figures on {path}"


def test_postgres_cut_under_gunicorn(tmp_path, demo_data):
    """Boot during an outage, load, cut, replace both workers during the cut, restore."""
    require_postgres()
    schema = f"f_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    redis = PrivateRedis(tmp_path)
    url = target.set(host="127.0.0.1", port=proxy.port).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    proxy.cut()  # the database is away before anything starts
    server = Gunicorn(tmp_path, {"DATABASE_URL": url, "CACHE_REDIS_URL": redis.url, "DB_CONNECT_TIMEOUT": "2"})
    try:
        # 1. Workers boot without their database; the probes tell alive from ready.
        workers = server.wait_workers(2)
        assert get(server.url + "/readyz")[0] == 503
        status, tree = render_page(server.url, "/")
        assert status == 200 and component(tree, "outage-banner") is not None
        assert not figures_on_page(tree)

        # 2. The database arrives: the first start (schema, demo) completes by itself.
        proxy.restore()
        wait_until(lambda: get(server.url + "/readyz")[0] == 200, 120, what="ready after the database arrived")
        fresh = wait_until(lambda: without_banner(snapshot(server.url)), 60, what="pages without banner")
        for path, (figs, _banner) in fresh.items():
            assert_full(figs, path)
        expected = independent_value(demo_data, "hssk", "2026-10")
        for shown in (fresh["/"][0]["kpi-value-hssk"], fresh["/wall"][0]["wall-value-hssk"],
                      fresh[f"/unit/{ROOT_CODE}"][0]["unit-value-hssk"]):
            assert float(shown) == pytest.approx(expected)

        # 3. Cut: every page keeps its figures, with the banner and the time of those figures.
        proxy.cut()

        def during_cut():
            shot = snapshot(server.url)
            for path in PAGES:
                changed = sorted(k for k in set(shot[path][0]) | set(fresh[path][0])
                                 if shot[path][0].get(k) != fresh[path][0].get(k))
                assert not changed, (f"{path} lost or changed its figures during the cut", changed[:5],
                                     [(str(fresh[path][0].get(k))[:300], str(shot[path][0].get(k))[:300])
                                      for k in changed[:2]])
            for path in SHELL_PAGES:
                banner = shot[path][1]
                assert banner and re.search(r"đang hiển thị số liệu lúc \d\d:\d\d", banner), (path, banner)

        during_cut()
        status, body, headers = get(server.url + "/api/v1/indicators")
        assert status == 503 and int(headers["Retry-After"]) > 0
        message = json.loads(body)["message"]
        assert "Cơ sở dữ liệu" in message["vi"] and "database" in message["en"]
        assert get(server.url + "/readyz")[0] == 503 and get(server.url + "/healthz")[0] == 200

        # 4. Both workers die during the cut, one after the other: their replacements boot
        #    without a database and serve the last good figures from the shared cache.
        gone: set[int] = set()
        for pid in sorted(workers):
            os.kill(pid, signal.SIGKILL)
            gone.add(pid)
            workers = server.wait_workers(2, exclude=gone)
        assert server.alive()
        during_cut()

        # 5. The database returns: pages drop the banner and show fresh figures by themselves.
        proxy.restore()
        wait_until(lambda: all(b is None and f == fresh[p][0] for p, (f, b) in snapshot(server.url).items()),
                   90, what="recovery without banner")
        # A worker whose breaker is still open says 503 to the API for a few seconds more
        # (within the Retry-After it gave): ask until both have noticed.
        wait_until(lambda: all(get(server.url + "/api/v1/indicators")[0] == 200 for _ in range(4)), 30,
                   what="the API back on every worker")
        ready = wait_until(lambda: all(get(server.url + "/readyz")[0] == 200 for _ in range(4)), 30,
                           what="ready on every worker")
        assert ready and server.alive()
        assert "Worker failed to boot" not in server.log()
    finally:
        server.stop()
        proxy.close()
        redis.kill()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_redis_cut_under_gunicorn(tmp_path):
    """Redis killed, a worker killed during the cut, Redis back: pages never notice."""
    redis = PrivateRedis(tmp_path)
    server = Gunicorn(tmp_path, {"DATABASE_URL": f"sqlite:///{tmp_path / 'faults.db'}", "CACHE_REDIS_URL": redis.url})
    try:
        wait_until(lambda: get(server.url + "/readyz")[0] == 200, 120, what="ready")
        workers = server.wait_workers(2)
        fresh = snapshot(server.url)
        for path, (figs, banner) in fresh.items():
            assert_full(figs, path)
            assert banner is None
        assert redis.client().dbsize() > 0  # the workers do share figures through it
        # While it is up: gunicorn answers a 50 MB body with 413 at once, having read 1 MB of it.
        status, seconds = post_oversized(server.url, declared=50 * 1024 * 1024, sent=1024 * 1024)
        assert status == 413 and seconds < 10

        redis.kill()
        shot = snapshot(server.url)
        assert {p: f for p, (f, _b) in shot.items()} == {p: f for p, (f, _b) in fresh.items()}
        assert all(b is None for _f, b in shot.values())  # a cache outage is not an outage of figures
        assert get(server.url + "/readyz")[0] == 200

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        server.wait_workers(2, exclude={victim})  # the replacement boots with Redis down
        shot = snapshot(server.url)
        assert {p: f for p, (f, _b) in shot.items()} == {p: f for p, (f, _b) in fresh.items()}

        redis.start()  # back, empty, on the same port
        wait_until(lambda: snapshot(server.url) and redis.client().dbsize() > 0, 30,
                   what="the cache in use again")
        assert server.alive()
        assert "Worker failed to boot" not in server.log()
    finally:
        server.stop()
        redis.kill()
