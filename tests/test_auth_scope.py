"""The scope model: a unit head sees their unit and everything beneath it; ancestors are context.

First on a hand-written closure (pure), then on the demo's stored hierarchy (entity_ancestors,
both databases), compared with a walk up the demo's own parent codes.
"""
from __future__ import annotations

import pandas as pd
import pytest

from dashboard import figures
from dashboard.auth.scope import Scope

# province P > zones Z1, Z2 > communes C1 (Z1), C2 (Z1), C3 (Z2) > facility F1 (C1)
CLOSURE = {
    "P": [("P", "province")],
    "Z1": [("Z1", "district"), ("P", "province")],
    "Z2": [("Z2", "district"), ("P", "province")],
    "C1": [("C1", "commune"), ("Z1", "district"), ("P", "province")],
    "C2": [("C2", "commune"), ("Z1", "district"), ("P", "province")],
    "C3": [("C3", "commune"), ("Z2", "district"), ("P", "province")],
    "F1": [("F1", "facility"), ("C1", "commune"), ("Z1", "district"), ("P", "province")],
}


def zone(*codes: str) -> Scope:
    return Scope.of_units(codes, closure=lambda: CLOSURE)


def test_a_zone_sees_itself_and_everything_beneath_it_only():
    scope = zone("Z1")
    assert [c for c in CLOSURE if scope.allows(c)] == ["Z1", "C1", "C2", "F1"]
    assert not scope.allows("Z2") and not scope.allows("C3") and not scope.allows("P")
    assert not scope.allows("nowhere") and not scope.allows(None) and not scope.allows("")
    assert scope.home == "Z1" and not scope.is_everything


def test_ancestors_are_context_and_other_branches_are_not():
    scope = zone("C1")
    assert scope.is_context("Z1") and scope.is_context("P")
    assert not scope.is_context("C1")  # its own unit is allowed, not context
    assert not scope.is_context("Z2") and not scope.is_context("C2") and not scope.is_context("F1")
    assert [c for c in CLOSURE if scope.visible(c)] == ["P", "Z1", "C1", "F1"]


def test_filter_keeps_allowed_rows_and_optionally_the_context_rows():
    frame = pd.DataFrame({"code": list(CLOSURE), "value": range(len(CLOSURE))})
    assert list(zone("Z1").filter(frame)["code"]) == ["Z1", "C1", "C2", "F1"]
    assert list(zone("Z1").filter(frame, context=True)["code"]) == ["P", "Z1", "C1", "C2", "F1"]
    assert list(zone("Z1", "C3").filter(frame)["code"]) == ["Z1", "C1", "C2", "C3", "F1"]
    assert zone("C3").filter(frame.iloc[0:0]).empty


def test_everything_and_nothing():
    frame = pd.DataFrame({"code": list(CLOSURE)})
    assert Scope.everything().allows("anything") and Scope.everything().filter(frame) is frame
    assert not Scope.everything().is_context("P") and Scope.everything().home is None
    nothing = Scope.nothing()
    assert not any(nothing.allows(c) for c in CLOSURE) and nothing.filter(frame).empty
    assert zone("Z1", "Z2").home is None  # two roots: no single home unit


def test_scope_on_the_stored_hierarchy_matches_the_demo_parents(demo_db, demo_data):
    units = demo_data.units.set_index("code")
    facilities = demo_data.facilities.set_index("code")

    def chain(code):  # walk up the demo's own parent codes, independently of entity_ancestors
        out = []
        if code in facilities.index:
            out.append(code)
            code = facilities.loc[code, "unit_code"]
        while code is not None and not (isinstance(code, float) and pd.isna(code)):
            out.append(code)
            code = units.loc[code, "parent_code"]
        return out

    zone_code = "288"
    scope = Scope.of_units([zone_code])  # reads figures.ancestry(): the stored closure
    everything = list(units.index) + list(facilities.index)
    expected = {c for c in everything if zone_code in chain(c)}
    assert {c for c in everything if scope.allows(c)} == expected
    assert len([c for c in expected if c in units.index and units.loc[c, "level"] == "commune"]) > 0
    assert scope.is_context(figures.root_code()) and not scope.is_context("303")
    table = figures.figures("hssk", "2026-10", "commune")
    mine = scope.filter(table)
    assert set(mine["code"]) == {c for c in table["code"] if zone_code in chain(c)}
    assert set(mine["code"]) and set(mine["code"]) < set(table["code"])


@pytest.mark.parametrize("role, unit, everything", [("admin", None, True), ("viewer", None, True),
                                                   ("unit", "288", False)])
def test_the_scope_of_each_role(role, unit, everything):
    from dashboard.auth.accounts import User

    scope = User(id=1, username="x", role=role, unit_code=unit).scope
    assert scope.is_everything is everything
    if unit:
        assert scope.roots == frozenset({unit})
