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


def successors(demo, entity: str) -> list[tuple[str, float]]:
    """Where an old entity's figures went at the reform: its own links in demo.links, else those of
    its nearest ancestor that has links (a station follows its commune), with the shares not
    given split in equal parts of what the given ones leave. Written from issue 13, not the code."""
    links = getattr(demo, "links", None)
    if links is None or links.empty:
        return []
    parent = dict(zip(demo.units["code"], demo.units["parent_code"]))
    unit_of = dict(zip(demo.facilities["code"], demo.facilities["unit_code"]))
    code = unit_of.get(entity, entity) if entity not in set(links["old_code"]) else entity
    while isinstance(code, str):
        own = links[links["old_code"] == code]
        if not own.empty:
            given = own["share"].dropna().astype(float)
            rest = max(0.0, 1.0 - given.sum()) / max(1, own["share"].isna().sum())
            return [(n, rest if pd.isna(sh) else float(sh)) for n, sh in zip(own["new_code"], own["share"])]
        code = parent.get(code)
    return []


def rollup(demo, indicator: str, months: list[str], level: str) -> pd.DataFrame:
    """Index: unit code at `level`; numerator, denominator, value, reported, expected.

    Expected: the entities valid during `months` (a stock: valid in its last month), under their
    unit in the hierarchy, and, for an old entity, also under each unit its successors lie in,
    times its share (shares reaching one unit add up)."""
    chain = chains(demo)
    stock = indicator in STOCK
    who = reporters(demo, indicator, months[-1:] if stock else months)
    rows = demo.values[(demo.values["indicator"] == indicator) & demo.values["period"].isin(months)
                       & demo.values["entity_code"].isin(who)]
    if stock:
        rows = rows.sort_values("period").groupby("entity_code").tail(1)
    per = rows.groupby("entity_code")[["numerator", "denominator"]].sum()
    places: dict[tuple[str, str], float] = {}
    for e in who:
        own = chain[e].get(level)
        if own is not None:
            places[(e, own)] = 1.0
        for new, share in successors(demo, e):
            unit = chain.get(new, {}).get(level)
            if unit is not None and unit != own:
                places[(e, unit)] = min(1.0, places.get((e, unit), 0.0) + share)
    if not places:
        return pd.DataFrame(columns=["numerator", "denominator", "reported", "expected", "value"])
    pairs = pd.DataFrame([(e, u, sh) for (e, u), sh in places.items()], columns=["entity_code", "unit", "share"])
    pairs = pairs.merge(per, left_on="entity_code", right_index=True, how="left")
    pairs["numerator"] *= pairs["share"]
    pairs["denominator"] *= pairs["share"]
    out = pairs.groupby("unit").agg(numerator=("numerator", lambda x: x.sum(min_count=1)),
                                    denominator=("denominator", lambda x: x.sum(min_count=1)),
                                    reported=("numerator", "count"), expected=("entity_code", "size"))
    out = out.sort_index()
    out.index.name = None
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
