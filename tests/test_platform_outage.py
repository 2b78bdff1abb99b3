"""Last-good figures during an outage (dashboard/cache.py), pages retrying by themselves
(layouts/outage.py), 503s from the API and downloads, and a first start that waits for its
database (dashboard/bootstrap.py)."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dashboard import bootstrap, cache, figures
from dashboard.config import load_settings
from dashboard.database import make_engine
from tests.app_helpers import web_app
from tests.browser_helpers import free_port
from tests.conftest import PG_URL, require_postgres
from tests.fault_helpers import TcpProxy, component, router_body, text_of

DOWN = OperationalError("SELECT version FROM data_version", {}, ConnectionRefusedError("connection refused"))


class FakeDatabase:
    """A data version and a table behind it, that can go down."""

    def __init__(self):
        self.version, self.up, self.reads, self.computed = 1, True, 0, []
        self.values = {"a": 10, "b": 20}

    def read_version(self) -> int:
        self.reads += 1
        if not self.up:
            raise DOWN
        return self.version

    def current(self) -> int:
        return cache.current_version("fake://db", self.read_version)


@pytest.fixture
def fake(monkeypatch):
    app = Flask(f"outage-{uuid.uuid4().hex}")
    monkeypatch.setattr(cache, "_cache", None)  # a private cache, the usual one back afterwards
    cache.init_cache(app, load_settings({}))
    db = FakeDatabase()

    @cache.memoized(db.current, name="tests.value")
    def value(key: str) -> int:
        if not db.up:
            raise DOWN
        db.computed.append(key)
        return db.values[key] * db.version

    @cache.memoized(db.current, name="tests.total")
    def total() -> int:
        return value("a") + value("b")

    db.app, db.value, db.total = app, value, total
    yield db
    cache.clear()


def test_one_version_read_per_request_and_every_call_outside_one(fake):
    with fake.app.test_request_context():
        assert [fake.value("a"), fake.value("b"), fake.total()] == [10, 20, 30]
    assert fake.reads == 1
    fake.value("a")
    fake.value("a")
    assert fake.reads == 3


def test_an_outage_serves_the_last_good_figures_with_their_time(fake):
    with fake.app.test_request_context():
        fake.total()
        assert cache.outage() is None
    confirmed = time.time()
    fake.up = False
    with fake.app.test_request_context():
        assert fake.total() == 30 and fake.value("a") == 10
        out = cache.outage()
        assert out is not None and out.served
        assert confirmed - 5 < out.as_of <= confirmed
    assert fake.reads == 2  # the outage request asked the database once, then left it alone


def test_an_older_result_is_used_when_the_current_version_has_none(fake):
    with fake.app.test_request_context():
        fake.value("a")
    stored = time.time()
    fake.version = 2  # a load happened; 'b' was computed at version 2 only, 'a' never again
    time.sleep(0.05)
    with fake.app.test_request_context():
        assert fake.value("b") == 40
    fake.up = False
    with fake.app.test_request_context():
        assert fake.value("b") == 40  # version 2, the last good one
        assert fake.value("a") == 10  # version 1's: the best there is
        assert cache.outage().as_of <= stored + 0.01  # the banner gives the older time


def test_nothing_to_fall_back_on_and_strict_requests_raise(fake):
    fake.up = False
    with fake.app.test_request_context():
        with pytest.raises(cache.DataUnavailable) as info:
            fake.value("a")
        assert "database" in str(info.value) and "Cơ sở dữ liệu" in str(info.value)
        assert cache.outage() is not None and not cache.outage().served
    fake.up = True
    cache._db_breakers.clear()
    with fake.app.test_request_context():
        fake.value("a")
    fake.up = False
    with fake.app.test_request_context():
        cache.strict_request()  # the API, a download: never from a fallback
        with pytest.raises(cache.DataUnavailable):
            fake.value("a")


def test_outside_a_request_a_database_error_is_raised_as_it_is(fake):
    fake.value("a")
    fake.up = False
    with pytest.raises(OperationalError):
        fake.value("a")


def test_nothing_computed_from_fallbacks_is_stored_as_current(fake):
    with fake.app.test_request_context():
        fake.value("a")
        fake.value("b")
    fake.version = 2
    # Version 2 is read, then the database fails: the total is built from version 1's parts
    # and must not be cached as version 2's total.
    with fake.app.test_request_context():
        assert fake.current() == 2
        fake.up = False
        assert fake.total() == 30
        assert cache.outage() is not None
    fake.up = True
    cache._db_breakers.clear()
    fake.values["a"] = 11
    with fake.app.test_request_context():
        assert fake.total() == 11 * 2 + 20 * 2
        assert cache.outage() is None


def test_the_breaker_leaves_a_dead_database_alone_then_tries_again(fake, monkeypatch):
    with fake.app.test_request_context():
        fake.value("a")
    fake.up = False
    for _ in range(5):
        with fake.app.test_request_context():
            fake.value("a")
    assert fake.reads == 2  # one failed attempt, then the breaker
    breaker = cache._db_breakers["fake://db"]
    monkeypatch.setattr(breaker, "until", 0.0)  # its first window has passed
    fake.up = True
    with fake.app.test_request_context():
        fake.value("a")
        assert cache.outage() is None
    assert fake.reads == 3 and breaker.failures == 0


def test_a_dead_redis_warns_once_and_reads_the_database(fake, caplog):
    cache.init_cache(Flask("dead-redis"), load_settings({"CACHE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    caplog.set_level(logging.WARNING, logger="dashboard.cache")
    started = time.monotonic()
    with fake.app.test_request_context():
        for _ in range(20):
            assert fake.total() == 30
    assert time.monotonic() - started < 2  # no connection time-out, no retries per call
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1


# --- a real outage: PostgreSQL through a proxy, the pages, the API, downloads -------------------

@pytest.fixture
def cut_able_postgres(demo_data):
    """The demo province in a fresh PostgreSQL schema, read through a TCP proxy."""
    require_postgres()
    from dashboard.bootstrap import prepare_database

    schema = f"o_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(host="127.0.0.1", port=proxy.port).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False), connect_args={"connect_timeout": 2})
    prepare_database(engine, load_demo=True)
    figures.set_engine(engine)
    cache.clear()
    yield proxy
    figures.set_engine(None)
    cache.clear()
    proxy.close()
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


RETRY_OUTPUT = None


def retry_tick(client, n: int, path: str):
    """The banner's Interval ticking: the retry callback (its output id from the app itself)."""
    global RETRY_OUTPUT
    if RETRY_OUTPUT is None:
        deps = client.get("/_dash-dependencies").get_json()
        RETRY_OUTPUT = next(d["output"] for d in deps if "outage-retry.interval" in d["output"])
    body = {"output": RETRY_OUTPUT,
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "outage-retry", "property": "interval"}],
            "inputs": [{"id": "outage-retry", "property": "n_intervals", "value": n}],
            "state": [{"id": "_pages_location", "property": "pathname", "value": path},
                      {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["outage-retry.n_intervals"]}
    return client.post("/_dash-update-component", json=body)


def test_pages_api_and_downloads_during_a_real_outage(cut_able_postgres):
    proxy = cut_able_postgres
    client = web_app().server.test_client()

    def page(path):
        resp = client.post("/_dash-update-component", json=router_body(path))
        assert resp.status_code == 200, path
        return resp.get_json()["response"]["_pages_content"]["children"]

    fresh = page("/")
    before = component(fresh, "kpi-value-hssk")["data-value"]
    assert component(fresh, "outage-banner") is None
    assert client.get("/api/v1/indicators").status_code == 200

    proxy.cut()
    during = page("/")
    assert component(during, "kpi-value-hssk")["data-value"] == before
    banner = text_of(component(during, "outage-banner"))
    assert re.search(r"đang hiển thị số liệu lúc \d\d:\d\d", banner), banner
    # A page never seen before the outage has its figures missing: the banner says so.
    unseen = text_of(component(page("/targets"), "outage-banner"))
    assert "một phần số liệu chưa hiển thị được" in unseen and "đang thử lại" in unseen
    for url in ("/api/v1/indicators", "/api/v1/values?indicator=hssk", "/api/v1/completeness?indicator=hssk"):
        resp = client.get(url)
        assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0, url
        assert resp.is_json and set(resp.get_json()["message"]) == {"vi", "en"}
    download = client.get("/export/data.csv?indicator=hssk")
    assert download.status_code == 503 and "Retry-After" in download.headers
    # The banner's retry: nothing replaced while the database is away, and a longer wait.
    tick = retry_tick(client, 3, "/")
    assert tick.status_code == 200
    answer = tick.get_json()["response"]
    assert "_pages_content" not in answer and answer["outage-retry"]["interval"] >= 5000

    proxy.restore()
    tick = retry_tick(client, 4, "/")
    content = tick.get_json()["response"]["_pages_content"]["children"]
    assert component(content, "kpi-value-hssk")["data-value"] == before
    assert component(content, "outage-banner") is None
    assert client.get("/api/v1/indicators").status_code == 200


def test_the_first_start_waits_for_its_database(tmp_path, monkeypatch):
    require_postgres()
    schema = f"b_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(host="127.0.0.1", port=proxy.port).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False), connect_args={"connect_timeout": 2})
    monkeypatch.setattr(bootstrap, "_status", {"state": "idle", "attempts": 0, "error": None, "pid": None,
                                               "thread": None})
    monkeypatch.setattr(bootstrap, "RETRY_FIRST", 0.2)
    monkeypatch.setattr(bootstrap, "RETRY_CAP", 1.0)
    proxy.cut()
    try:
        bootstrap.start_in_background(engine, load_demo=False)
        deadline = time.monotonic() + 60
        while bootstrap.status()["attempts"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        state = bootstrap.status()
        assert state["state"] == "retrying" and state["attempts"] >= 3 and "OperationalError" in state["error"]
        assert not bootstrap.is_ready()
        bootstrap.start_in_background(engine, load_demo=False)  # a second call starts nothing new
        proxy.restore()
        assert bootstrap.wait_ready(120), bootstrap.status()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM indicators")).scalar_one() > 0
    finally:
        proxy.close()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
