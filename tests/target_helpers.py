"""Helpers for the target-page tests: the demo computed independently with pandas, the page
modules imported under a Dash app, and a walk over a rendered component tree."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd

# Who reports what, written out by hand from the plan catalogue (not read from the code under test).
REPORTERS = {
    "emr": {"hospital", "health_centre"},
    "cashless": {"hospital", "health_centre"},
    "hssk": "commune",
    "tthc_online": "province",
    "tyt_software": {"station"},
    "eprescription": {"hospital", "health_centre", "station"},
    "telehealth": {"hospital"},
    "work_online": "province",
}
STOCK = {"emr", "hssk", "tyt_software", "eprescription", "telehealth"}


def chains(demo) -> dict[str, dict[str, str]]:
    """entity code -> {level: code of its unit at that level} (itself included), from the demo frames."""
    parent = dict(zip(demo.units["code"], demo.units["parent_code"]))
    level = dict(zip(demo.units["code"], demo.units["level"]))

    def up(code):
        out = {}
        while code is not None and not (isinstance(code, float) and np.isnan(code)):
            out[level[code]] = code
            code = parent.get(code)
        return out

    result = {code: up(code) for code in demo.units["code"]}
    for code, unit in zip(demo.facilities["code"], demo.facilities["unit_code"]):
        result[code] = {"facility": code, **up(unit)}
    return result


def _month(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    return str(value)[:7]


def valid_units(demo, months: list[str] | None, persist: bool = False) -> set[str]:
    """The units valid at some month of `months` (all of them when None): old units end
    2025-06, the new ones start 2025-07. `persist`: ignore the start (what a facility under the
    unit sees: a facility persists across the reform, only its unit's end bounds it)."""
    if months is None:
        return set(demo.units["code"])
    start, end = min(months), max(months)
    return {code for code, vf, vt in zip(demo.units["code"], demo.units["valid_from"], demo.units["valid_to"])
            if (persist or _month(vf) is None or _month(vf) <= end) and (_month(vt) is None or _month(vt) >= start)}


def current_units(demo, level: str) -> set[str]:
    """The units of `level` valid today (no end date)."""
    u = demo.units
    return set(u.loc[(u["level"] == level) & u["valid_to"].isna(), "code"])


def beneath_root(demo, root: str) -> set[str]:
    """Every unit and facility whose hierarchy (not the crosswalk) leads up to `root`."""
    return {code for code, chain in chains(demo).items() if chain.get("province") == root}


def reporters(demo, indicator: str, months: list[str] | None = None) -> set[str]:
    """Who is expected to report `indicator` in `months`: the units of its level valid then, or
    the facilities of its kinds whose unit has not ended by then (facilities persist)."""
    who = REPORTERS[indicator]
    if isinstance(who, set):
        f = demo.facilities
        return set(f[f["type"].isin(who) & f["unit_code"].isin(valid_units(demo, months, persist=True))]["code"])
    return set(demo.units[demo.units["level"] == who]["code"]) & valid_units(demo, months)


def rollup(demo, indicator: str, months: list[str], level: str) -> pd.DataFrame:
    """Index: unit code at `level`; numerator, denominator, value, reported, expected.
    Only entities valid during `months` are expected (the hierarchy only: no crosswalk)."""
    chain = chains(demo)
    who = reporters(demo, indicator, months)
    expected = pd.Series({e: chain[e].get(level) for e in who}).dropna()
    rows = demo.values[(demo.values["indicator"] == indicator) & demo.values["period"].isin(months)
                       & demo.values["entity_code"].isin(who)]
    if indicator in STOCK:
        rows = rows.sort_values("period").groupby("entity_code").tail(1)
    per = rows.groupby("entity_code")[["numerator", "denominator"]].sum()
    per["unit"] = per.index.map(expected)
    out = per.groupby("unit").agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                  reported=("numerator", "size"))
    out = out.reindex(sorted(set(expected)))
    out["expected"] = expected.value_counts().reindex(out.index).astype(int)
    out["reported"] = out["reported"].fillna(0).astype(int)
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


def month_range(start: str, end: str) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def import_pages():
    """layouts.targets and layouts.unit, registered under a Dash app (created once per process)."""
    import dash

    if "layouts.targets" not in sys.modules or "layouts.unit" not in sys.modules:
        try:
            import layouts.targets
        except dash.exceptions.PageError:
            dash.Dash("target-tests", use_pages=True, pages_folder="")
    import layouts.targets
    import layouts.unit

    return layouts.targets, layouts.unit


def walk(node):
    """Every component in a rendered tree."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
            continue
        if item is None or isinstance(item, (str, int, float)):
            continue
        yield item
        children = getattr(item, "children", None)
        if children is not None:
            stack.append(children)


def by_id(tree, prefix: str = "") -> dict:
    return {c.id: c for c in walk(tree) if isinstance(getattr(c, "id", None), str) and c.id.startswith(prefix)}


def text_of(node) -> str:
    parts = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, (str, int, float)):
            parts.append(str(item))
        elif item is not None:
            children = getattr(item, "children", None)
            if children is not None:
                stack.append(children)
    return "".join(parts)


def vi_percent(value: float, target: float | None = None) -> str:
    """By hand: one decimal, comma, no-break space, %; two decimals (or more) when one would
    write a value short of its target like the target itself (94,99 % is not 95,0 %)."""
    places = 1
    if target is not None and value < target:
        while places < 4 and f"{value:.{places}f}" == f"{target:.{places}f}":
            places += 1
    return f"{value:.{places}f}".replace(".", ",") + "\u00a0%"
