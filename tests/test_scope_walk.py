"""A unit head walks every face as a scoped reader: pages (Dash Pages router), the JSON API,
CSV downloads and the briefing-free exports. Nothing of a unit outside their zone may come back,
other than its ancestors as context (the province). Demo province, SQLite."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.auth_helpers import add_user, clear_accounts, configure, login, pages_body

HOME = "288"  # Khu vực Hải Dương in the demo


@pytest.fixture
def unit_client(demo_db):
    if demo_db.dialect.name != "sqlite":
        pytest.skip("one database is enough for the walk")
    clear_accounts(demo_db)
    add_user(demo_db, "kv288", "unit", unit=HOME)
    server = configure()
    client = server.test_client()
    assert login(client, "kv288").status_code == 302
    yield client
    clear_accounts(demo_db)


def outside_names(engine) -> list[str]:
    """Names of units neither in the zone nor its ancestors; names that are part of a name
    inside are left out (they would match harmlessly)."""
    with engine.connect() as conn:
        inside = {c for (c,) in conn.execute(text("SELECT entity_code FROM entity_ancestors WHERE ancestor_code = :h"),
                                             {"h": HOME})}
        context = {c for (c,) in conn.execute(text("SELECT ancestor_code FROM entity_ancestors WHERE entity_code = :h"),
                                              {"h": HOME})}
        units = conn.execute(text("SELECT code, name FROM units")).all()
    allowed = [n for c, n in units if c in inside | context]
    return sorted({n for c, n in units if c not in inside | context and not any(n in a for a in allowed)})


def leaks(body: str, names: list[str]) -> list[str]:
    return [n for n in names if re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", body)]


ROUTES_PAGES = [("/", ""), ("/map", ""), ("/targets", ""), (f"/unit/{HOME}", ""), ("/unit/303", ""),
                ("/map", "?parent=303")]
ROUTES_HTTP = ["/api/v1/units", "/api/v1/indicators", f"/api/v1/values?indicator=hssk&parent={HOME}",
               "/api/v1/values?indicator=hssk&parent=303", "/api/v1/completeness",
               f"/api/v1/completeness?code={HOME}", f"/export/data.csv?ind=hssk&parent={HOME}",
               "/export/data.csv?ind=hssk", f"/unit/{HOME}", "/unit/303", "/", "/map?parent=303"]


def test_a_unit_head_sees_nothing_of_another_zone_anywhere(unit_client, demo_db):
    names = outside_names(demo_db)
    assert "Khu vực Hồng Bàng" in names and "Khu vực Hải Dương" not in names
    found = {}
    for path, search in ROUTES_PAGES:
        answer = unit_client.post("/_dash-update-component", json=pages_body(path, search))
        assert answer.status_code in (200, 204, 403), (path, answer.status_code)
        hit = leaks(answer.get_data(as_text=True), names)
        if hit:
            found[f"page {path}{search}"] = hit[:5]
    for path in ROUTES_HTTP:
        answer = unit_client.get(path)
        assert answer.status_code in (200, 302, 400, 403), (path, answer.status_code)
        hit = leaks(answer.get_data(as_text=True), names)
        if hit:
            found[path] = hit[:5]
    assert found == {}
