"""The unit search on every page (dashboard/unitsearch.py, the shell's box, /search): part of a
name, with or without diacritics, inside the reader's scope; in Chromium by keyboard alone."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from dashboard import request, unitsearch
from dashboard.auth.scope import Scope


def test_normalise_strips_diacritics_and_d_bar():
    assert unitsearch.normalise("Khu vực Thủy Nguyên") == "khu vuc thuy nguyen"
    assert unitsearch.normalise("  ĐỒ   Sơn!") == "do son"
    assert unitsearch.normalise("Kiến Thụy") == unitsearch.normalise("kien thuy") == "kien thuy"
    assert unitsearch.normalise(None) == ""


def _expected(units, typed: str) -> set[str]:
    """Independent: strip the marks by a table of Vietnamese vowels, then compare word starts."""
    table = str.maketrans("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
                          "a" * 17 + "e" * 11 + "i" * 5 + "o" * 17 + "u" * 11 + "y" * 5 + "d")
    words = typed.lower().translate(table).split()
    out = set()
    for code, name in zip(units["code"], units["name"]):
        plain = name.lower().translate(table).replace("-", " ").replace("(", " ").replace(")", " ").split()
        if all(any(w.startswith(x) for w in plain) for x in words):
            out.add(str(code))
    return out


@pytest.mark.parametrize("typed", ["kien thuy", "Kiến Thụy", "thuy", "do son", "Đồ", "khu vuc an"])
def test_find_matches_without_diacritics(demo_db, demo_data, typed):
    got = unitsearch.find(typed, limit=500)
    assert {u["code"] for u in got} == _expected(demo_data.units, typed)
    assert got, typed


def test_the_whole_name_comes_first_and_a_scope_hides_other_branches(demo_db, demo_data):
    units = demo_data.units
    zone = units[units["level"] == "district"].iloc[0]
    first = unitsearch.find(unitsearch.normalise(zone["name"]))[0]
    assert first["code"] == str(zone["code"]) and first["name"] == zone["name"]
    other = units[units["level"] == "district"].iloc[1]
    scope = Scope.of_units([str(zone["code"])])
    inside = {str(c) for c in units.loc[units["parent_code"] == zone["code"], "code"]} | {str(zone["code"])}
    found = unitsearch.find("x", scope=scope, limit=500) + unitsearch.find(zone["name"], scope=scope)
    assert found and {u["code"] for u in found} <= inside
    assert unitsearch.find(other["name"], scope=scope) == []
    assert unitsearch.find("", scope=None) == [] and unitsearch.find("   ") == []


def test_search_page_lists_matches_with_page_and_map_links(demo_db, demo_data):
    import dash

    try:
        import layouts.search as page
    except dash.exceptions.PageError:
        dash.Dash("search-tests", use_pages=True, pages_folder="")
        import layouts.search as page
    tree = json.dumps(page.layout(q="kien thuy").to_plotly_json(),
                      default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o))
    codes = _expected(demo_data.units, "kien thuy")
    assert any("@" in c for c in codes) and any("@" not in c for c in codes)  # old Kiến Thụy and today's
    for code in codes:
        assert f'"/unit/{code}"' in tree
        # A unit of today has its map link; an old unit (no outline of its own) has none, and is
        # labelled as old.
        assert (f'"/map?unit={quote(code, safe="")}"' in tree) == ("@" not in code), code
    assert json.dumps("(cũ, đến 06/2025)")[1:-1] in tree  # the label, as JSON writes it
    assert "search-none" not in tree
    assert "search-list-none" in json.dumps(page.layout(q="zzzz").to_plotly_json(), default=str)
    req = request.read("search", {"q": "a" * 500})
    assert req.problems  # too long: said, not a traceback


@pytest.mark.browser
def test_keyboard_search_from_any_page(live_server, page, demo_data):
    units = demo_data.units
    code = sorted(_expected(units, "kien thuy"))[0]
    page.goto(f"{live_server.url}/targets")
    page.wait_for_selector("#unit-search")
    page.locator("#unit-search").focus()
    page.keyboard.type("kien thuy")
    page.wait_for_selector("#unit-search-list li", timeout=15_000)
    assert page.locator(f"#unit-search-list-unit-{code}").count() == 1
    page.keyboard.press("Tab")  # from the box: the search button, then the first result
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.id")
    assert first.startswith("unit-search-list-unit-")
    page.keyboard.press("Enter")
    page.wait_for_function(f"location.pathname === '/unit/{first[len('unit-search-list-unit-'):]}'")
    # Enter in the box opens every match on /search
    page.locator("#unit-search").fill("do son")
    page.locator("#unit-search").press("Enter")
    page.wait_for_selector("#search-list li", timeout=15_000)
    assert "q=do+son" in page.url
