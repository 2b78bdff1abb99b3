"""Finished views cached as bytes (dashboard/viewcache.py): Dash Pages' router answer for a URL
is stored on the request's cache key and the data version, sent again as stored, shared by URLs
that read the same, new after a load, and built once when many ask at the same time."""
from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import store, viewcache

ROUTER = {"output": viewcache.ROUTER_OUTPUT,
          "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
          "changedPropIds": ["_pages_location.pathname"], "state": []}


@pytest.fixture
def app(demo_db):
    from dashboard.config import load_settings
    from dashboard.webapp import create_app

    from tests.app_helpers import share_callbacks

    settings = load_settings({"DATABASE_URL": demo_db.url.render_as_string(hide_password=False)})
    return share_callbacks(create_app(settings, prepare=False))


def router(client, path: str, search: str = ""):
    body = {**ROUTER, "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                                 {"id": "_pages_location", "property": "search", "value": search}]}
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def count_builds(monkeypatch, module):
    calls = []
    real = module.layout

    def counting(**query):
        calls.append(query)
        return real(**query)

    import dash

    for page in dash.page_registry.values():
        if page["module"] == module.__name__:
            monkeypatch.setitem(page, "layout", counting)
    return calls


def test_a_second_ask_is_answered_from_the_stored_bytes(app, monkeypatch):
    import layouts.map

    client = app.server.test_client()
    builds = count_builds(monkeypatch, layouts.map)
    first = router(client, "/map", "?unit=303&level=commune")
    again = router(client, "/map", "?unit=303&level=commune")
    same = router(client, "/map", "?level=commune&zone=303")  # old name, other order: the same request
    assert first.status_code == again.status_code == same.status_code == 200
    assert first.get_data() == again.get_data() == same.get_data()
    assert len(builds) == 1
    other = router(client, "/map", "?unit=303&level=commune&lang=en")
    assert other.get_data() != first.get_data() and len(builds) == 2
    warned = router(client, "/map", "?unit=303&level=commune&period=2030-01")  # shows a warning: its own entry
    assert b"2030-01" in warned.get_data() and len(builds) == 3


def test_a_load_makes_new_views(app, demo_db, monkeypatch):
    import layouts.overview

    client = app.server.test_client()
    builds = count_builds(monkeypatch, layouts.overview)
    router(client, "/")
    router(client, "/")
    assert len(builds) == 1
    # A load that rewrites one stored demo value with itself: a new data version, the same figures
    # (the demo database is shared by the session's tests), still only demo rows.
    with demo_db.connect() as conn:
        row = conn.execute(text("SELECT numerator, denominator FROM kpi_values WHERE indicator_code = 'tthc_online' "
                                "AND entity_code = '31' AND period = '2026-10'")).one()
    with store.write_transaction(demo_db) as conn:
        load_id = store.record_load(conn, kind="values", source_file="x.csv", checksum="x", is_demo=True)
        store.upsert_values(conn, pd.DataFrame([("tthc_online", "31", "2026-10", row[0], row[1])],
                                               columns=["indicator", "entity_code", "period", "numerator",
                                                        "denominator"]), load_id)
    router(client, "/")
    assert len(builds) == 2


def test_many_asking_at_once_build_it_once(app, monkeypatch):
    import layouts.targets

    builds = count_builds(monkeypatch, layouts.targets)
    results = []

    def ask():
        results.append(router(app.server.test_client(), "/targets", "?level=commune").get_data())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(results)) == 1 and len(results) == 6
    assert len(builds) == 1


def test_other_callbacks_and_unknown_pages_are_not_cached(app):
    client = app.server.test_client()
    assert viewcache._router_location({"output": "map-location.search", "inputs": []}) is None
    assert viewcache._view_of("/nope") is None
    assert viewcache._view_of("/unit/303") == ("unit", {"code": "303"})
    assert router(client, "/nope").status_code == 200  # the helpful 404 page, built each time
