"""The scorecard (/targets): frames, movers, URL state, and its numbers against figures(),
an independent pandas computation over the demo rows, and the export."""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest

from dashboard.theme import BEHIND

from dashboard import figures, progress
from dashboard import scorecard as sc
from tests.target_helpers import (
    REPORTERS,
    beneath_root,
    by_id,
    current_units,
    import_pages,
    month_range,
    rollup,
    text_of,
    vi_percent,
)

INDICATORS = list(REPORTERS)


# --- pure frames --------------------------------------------------------------------------------

def _fig(rows):
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "value", "numerator", "denominator",
                                       "target", "deadline", "status", "reported", "expected", "gap_points",
                                       "gap_units"])


def test_cells_mark_units_nobody_reports_for_as_not_expected_not_missing():
    a = _fig([("1", "Một", "commune", "Z", 50.0, 5, 10, 80, "2025-12", "off_track", 1, 1, 30, 3),
              ("2", "Hai", "commune", "Z", np.nan, np.nan, np.nan, 80, "2025-12", "no_data", 0, 1, None, None)])
    b = _fig([("1", "Một", "commune", "Z", np.nan, np.nan, np.nan, np.nan, None, "no_data", 0, 0, None, None),
              ("2", "Hai", "commune", "Z", np.nan, np.nan, np.nan, np.nan, None, "no_data", 0, 0, None, None)])
    cells = sc.build_cells({"a": a, "b": b})
    got = cells.set_index(["code", "indicator"])["status"]
    assert got[("2", "a")] == "no_data"            # expected and silent: not reported
    assert got[("1", "b")] == sc.NOT_EXPECTED      # nobody expected: not applicable
    assert sc.applicable(cells) == ["a"]
    table = sc.build_table(cells, ["a"])
    assert list(table.columns) == ["code", "name", "level", "parent_code", "a", "a__status"]


def test_sort_puts_missing_last_both_ways_and_names_in_vietnamese_order():
    table = pd.DataFrame({"code": ["1", "2", "3", "4"], "name": ["Đông", "Dương", "An", "Bắc"],
                          "x": [10.0, np.nan, 30.0, 20.0]})
    assert list(sc.sort_table(table, "x", False)["code"]) == ["1", "4", "3", "2"]
    assert list(sc.sort_table(table, "x", True)["code"]) == ["3", "4", "1", "2"]
    # Đ sorts with D (Đông before Dương: "dong" < "duong"), not after Z.
    assert list(sc.sort_table(table, "name", False)["name"]) == ["An", "Bắc", "Đông", "Dương"]


def test_behind_filter_keeps_at_risk_and_off_track_only():
    table = pd.DataFrame({"code": ["1", "2", "3", "4"], "name": list("abcd"),
                          "a__status": ["achieved", "at_risk", "on_track", "no_data"],
                          "b__status": ["on_track", "achieved", "off_track", "no_data"]})
    assert list(sc.filter_behind(table, ["a", "b"])["code"]) == ["2", "3"]
    assert list(sc.filter_behind(table, ["a"])["code"]) == ["2"]


def test_movers_top_and_bottom_never_overlap_and_follow_direction():
    now = pd.DataFrame({"code": list("abcdefg"), "name": list("ABCDEFG"),
                        "value": [50, 60, 70, 40, 30, np.nan, 20.0]})
    before = pd.DataFrame({"code": list("abcdefg"), "value": [40, 59, 75, 40, 10, 5, np.nan]})
    # changes: a +10, b +1, c -5, d 0, e +20; f and g lack one end.
    top, bottom = sc.rank_movers(now, before, True, n=2)
    assert list(top["code"]) == ["e", "a"] and list(bottom["code"]) == ["c", "d"]
    assert list(top["change"]) == [20, 10]
    top, bottom = sc.rank_movers(now, before, False, n=2)  # lower is better: a fall improves
    assert list(top["code"]) == ["c", "d"] and list(bottom["code"]) == ["e", "a"]
    top, bottom = sc.rank_movers(now, before, True, n=5)
    assert len(top) == 5 and bottom.empty  # five units: all in the top list, none twice


def test_group_by_zone_orders_zones_and_puts_the_province_last():
    groups = sc.group_by_zone(["b", "a", "P", "c"], {"a": "Z2", "b": "Z1", "c": "Z2", "P": None},
                              {"a": "A", "b": "B", "c": "C", "P": "Sở", "Z1": "Khu 1", "Z2": "Khu 2"})
    assert groups == [
        {"zone_code": "Z1", "zone_name": "Khu 1", "entities": [{"code": "b", "name": "B"}]},
        {"zone_code": "Z2", "zone_name": "Khu 2", "entities": [{"code": "a", "name": "A"}, {"code": "c", "name": "C"}]},
        {"zone_code": None, "zone_name": None, "entities": [{"code": "P", "name": "Sở"}]},
    ]


def test_peer_rank_ties_share_the_better_rank():
    frame = pd.DataFrame({"code": list("abcd"), "value": [80.0, 90.0, 80.0, np.nan]})
    assert sc.peer_rank(frame, "b") == (1, 3)
    assert sc.peer_rank(frame, "a") == (2, 3) and sc.peer_rank(frame, "c") == (2, 3)
    assert sc.peer_rank(frame, "a", higher_is_better=False) == (1, 3)
    assert sc.peer_rank(frame, "d") is None


# --- against the demo -------------------------------------------------------------------------------

@pytest.mark.parametrize("period,months", [("2026-10", ["2026-10"]),
                                           ("2026-Q3", ["2026-07", "2026-08", "2026-09"]),
                                           ("2025", month_range("2025-01", "2025-12"))])
@pytest.mark.parametrize("level", ["province", "district", "commune", "facility"])
def test_scorecard_numbers_match_figures_and_pandas(demo_db, demo_data, period, months, level):
    cells = sc.cells(period, level)
    for ind in INDICATORS:
        mine = cells[cells["indicator"] == ind].set_index("code")
        fig = figures.figures(ind, period, level).set_index("code")
        assert list(mine.index) == list(fig.index)
        for col in ("value", "numerator", "denominator", "reported", "expected", "target", "gap_units"):
            pd.testing.assert_series_equal(mine[col].astype("float64"), fig[col].astype("float64"),
                                           check_names=False)
        want = rollup(demo_data, ind, months, level)
        # Listed: the units beneath today's city (old units are not in its tree; a year that
        # spans the 2025 reform lists today's units, which report from 2025-07).
        want = want[want.index.isin(beneath_root(demo_data, "31"))]
        applies = mine[mine["expected"] > 0]
        assert set(applies.index) == set(want.index), (ind, level)
        for code, row in applies.iterrows():
            w = want.loc[code]
            assert row["expected"] == w["expected"] and row["reported"] == w["reported"], (ind, code)
            if w["reported"]:
                assert row["numerator"] == pytest.approx(w["numerator"]), (ind, code)
                assert row["denominator"] == pytest.approx(w["denominator"]), (ind, code)
                assert row["value"] == pytest.approx(w["value"]), (ind, code)
            else:
                assert math.isnan(row["value"]) and row["status"] == "no_data"
        # Nobody expected here: "not applicable", never "not reported".
        assert (mine.loc[mine["expected"] == 0, "status"] == sc.NOT_EXPECTED).all()


def _pick_target(demo, indicator: str, as_of: str):
    own = demo.targets[demo.targets["indicator"] == indicator].sort_values("deadline")
    if own.empty:
        return None
    upcoming = own[own["deadline"] >= as_of]
    row = upcoming.iloc[0] if not upcoming.empty else own.iloc[-1]
    return progress.Target(float(row["value"]), str(row["deadline"]))


@pytest.mark.parametrize("indicator", ["hssk", "cashless", "eprescription"])
@pytest.mark.parametrize("period,months", [("2026-10", ["2026-10"]), ("2025-Q3", ["2025-07", "2025-08", "2025-09"]),
                                           ("2025-11", ["2025-11"])])
def test_zone_statuses_match_progress_on_independent_monthly_series(demo_db, demo_data, indicator, period, months):
    """Each zone's status = progress.evaluate on its 24 months rolled up by pandas, the period's
    own figure standing for its last month, against the province's target picked by hand."""
    end = months[-1]
    history = {m: rollup(demo_data, indicator, [m], "district") for m in month_range(
        str(pd.Period(end, "M") - 24), end)}
    now = rollup(demo_data, indicator, months, "district")
    target = _pick_target(demo_data, indicator, end)
    got = sc.cells(period, "district", indicators=[indicator]).set_index("code")
    for zone in now.index:
        obs = [progress.Observation(m, f.loc[zone, "numerator"], f.loc[zone, "denominator"])
               for m, f in history.items() if m != end and zone in f.index and f.loc[zone, "reported"] > 0]
        obs.append(progress.Observation(end, now.loc[zone, "numerator"], now.loc[zone, "denominator"]))
        want = progress.evaluate(obs, target, end)
        assert got.loc[zone, "status"] == want.status, zone
        assert got.loc[zone, "gap_points"] == pytest.approx(want.gap_points), zone


def test_overview_cards_and_scorecard_share_the_status(demo_db):
    root = figures.root_code()
    cells = sc.cells("2026-10", "province").set_index("indicator")
    for code in figures.headline_codes():
        card = figures.headline(code, "2026-10", root)
        assert card.row["status"] == cells.loc[code, "status"] == card.progress.status


def test_movers_against_pandas(demo_db, demo_data):
    result = sc.movers("hssk", "2026-10", "district")
    assert (result["start"], result["end"]) == ("2026-07", "2026-10")
    now = rollup(demo_data, "hssk", ["2026-10"], "district")["value"]
    before = rollup(demo_data, "hssk", ["2026-07"], "district")["value"]
    change = (now - before).dropna().sort_values(ascending=False, kind="mergesort")
    assert list(result["top"]["code"]) == list(change.index[:5])
    assert list(result["top"]["change"]) == pytest.approx(list(change.iloc[:5]))
    rest = change.iloc[5:].sort_values(kind="mergesort")
    assert list(result["bottom"]["code"]) == list(rest.index[:5])


def test_movers_within_a_zone_rank_its_communes(demo_db, demo_data):
    zone = "288"
    communes = set(demo_data.units[demo_data.units["parent_code"] == zone]["code"])
    result = sc.movers("hssk", "2026-Q3", "commune", zone)
    assert result["end"] == "2026-09"
    assert set(result["top"]["code"]) | set(result["bottom"]["code"]) <= communes


# --- against the export -------------------------------------------------------------------------

def _export_rows(indicator, period, level):
    from dashboard import exports, request, table

    body, _rows = exports.data_file(request.read("export", {"indicator": indicator, "period": period,
                                                            "level": level}), "csv")
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig")))
    next(reader)  # translated headers; the columns are table.KEYS
    rows = (dict(zip(table.KEYS, line)) for line in reader)
    return {row["code"]: row for row in rows}


def _num(text: str) -> float:
    return float(text) if text != "" else float("nan")


@pytest.mark.parametrize("indicator,period,level", [("hssk", "2026-10", "commune"), ("cashless", "2026-Q3", "district"),
                                                    ("eprescription", "2025", "facility"),
                                                    ("tthc_online", "2026-10", "province")])
def test_scorecard_matches_the_export(demo_db, indicator, period, level):
    exported = _export_rows(indicator, period, level)
    cells = sc.cells(period, level, indicators=[indicator]).set_index("code")
    assert set(exported) == set(cells.index)
    for code, row in cells.iterrows():
        e = exported[code]
        for col in ("numerator", "denominator", "target"):
            a, b = _num(e[col]), float(row[col])
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=0.005), (code, col)
        a, b = _num(e["value"]), float(row["value"])
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=0.05), code  # as on screen
        assert int(e["reported"]) == row["reported"]
        assert e["status"] == row["status"], code  # "không áp dụng" stays itself in the file


def test_scorecard_matches_the_export_command(demo_db, tmp_path):
    """`dashboard export values` itself, given the test database's URL."""
    from click.testing import CliRunner

    from dashboard.cli import main

    out = tmp_path / "hssk.csv"
    url = demo_db.url.render_as_string(hide_password=False)
    try:
        result = CliRunner().invoke(main, ["--database", url, "export", "values", "--indicator", "hssk",
                                           "--period", "2026-10", "--level", "district", "--out", str(out)])
    finally:
        figures.set_engine(demo_db)
    assert result.exit_code == 0, result.output
    from dashboard import table

    reader = csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))
    next(reader)
    rows = {r["code"]: r for r in (dict(zip(table.KEYS, line)) for line in reader)}
    cells = sc.cells("2026-10", "district", indicators=["hssk"]).set_index("code")
    assert set(rows) == set(cells.index)
    for code, row in cells.iterrows():
        assert float(rows[code]["value"]) == pytest.approx(row["value"], abs=0.05)
        assert rows[code]["status"] == row["status"]


# --- the page --------------------------------------------------------------------------------------

@pytest.fixture
def targets_page(demo_db):
    targets, _unit = import_pages()
    return targets


def _rows(tree, table_id="sc-table"):
    prefix = f"{table_id}-row-"
    return [c.id[len(prefix):] for c in (x for x in _walk_ordered(tree)) if isinstance(getattr(c, "id", None), str)
            and c.id.startswith(prefix)]


def _walk_ordered(node):
    from tests.target_helpers import walk

    return list(walk(node))


def _warnings(tree):
    return [text_of(c) for c in _walk_ordered(tree) if "param-warning" in (getattr(c, "className", "") or "")]


def test_page_default_is_the_zones_with_each_cell_from_figures(targets_page, demo_data):
    tree = targets_page.layout()
    assert not _warnings(tree)
    zones = sorted(current_units(demo_data, "district"))
    assert sorted(_rows(tree)) == zones
    cells = by_id(tree, "sc-table-")
    latest = figures.latest_month()
    want = rollup(demo_data, "hssk", [latest], "district")
    for zone in zones:
        cell = cells[f"sc-table-{zone}-hssk"]
        assert float(getattr(cell, "data-value")) == pytest.approx(want.loc[zone, "value"])
        target = figures.resolve_target("hssk", zone, latest).value
        assert text_of(cell).startswith(vi_percent(want.loc[zone, "value"], target))
    # Department-only indicators have no column among the zones, and say so.
    assert "sc-table-288-tthc_online" not in cells
    assert "TTHC" in text_of(by_id(tree)["sc-hidden"])


def test_page_filters_sorts_and_keeps_state_in_links(targets_page, demo_data):
    zone = "288"
    tree = targets_page.layout(level="commune", zone=zone, sort="hssk", dir="desc", period="2026-10")
    communes = set(demo_data.units[demo_data.units["parent_code"] == zone]["code"])
    rows = _rows(tree)
    assert set(rows) == communes
    values = rollup(demo_data, "hssk", ["2026-10"], "commune")["value"].reindex(rows)
    present = values.dropna()
    assert list(present) == sorted(present, reverse=True)       # descending by the column
    assert values.iloc[len(present):].isna().all()               # not reported: last
    behind = targets_page.layout(level="commune", behind="1", period="2026-10")
    cells = by_id(behind, "sc-table-")
    for code in _rows(behind):
        statuses = [getattr(c, "data-status") for k, c in cells.items() if k.startswith(f"sc-table-{code}-")]
        assert set(statuses) & set(BEHIND), code
    all_cells = sc.cells("2026-10", "commune")
    n_behind = all_cells[all_cells["status"].isin(sc.BEHIND)]["code"].nunique()
    assert len(_rows(behind)) == n_behind
    # A heading's link keeps the other parameters and flips the direction of the current sort.
    heading_links = [c.href for c in _walk_ordered(tree) if getattr(c, "className", None) == "sc-sort"]
    assert any("sort=hssk" in h and "dir=desc" not in h and f"unit={zone}" in h and "level=commune" in h
               for h in heading_links)


def test_bad_parameters_warn_and_fall_back(targets_page):
    tree = targets_page.layout(level="tinh", zone="999", period="2026-13", sort="xyz", ind="nope", dir="up",
                               behind="maybe")
    warnings = _warnings(tree)
    # level, zone, period, sort, indicator, dir and behind: each named, each replaced by its default
    assert len(warnings) == 7, warnings
    for value in ("tinh", "999", "2026-13", "xyz", "nope", "up", "maybe"):
        assert any(value in w for w in warnings), value
    assert len(_rows(tree)) == 27  # the default: zones
    en = targets_page.layout(level="tinh", lang="en")
    assert any("invalid level “tinh”" in w for w in _warnings(en))


def test_completeness_view_lists_the_silent_by_zone(targets_page, demo_data):
    latest = figures.latest_month()
    tree = targets_page.layout(view="completeness", ind="hssk", period=latest)
    ids = by_id(tree)
    silent = current_units(demo_data, "commune") - set(
        demo_data.values[(demo_data.values["indicator"] == "hssk") & (demo_data.values["period"] == latest)]["entity_code"])
    assert silent, "the demo leaves a few communes unreported in its last month"
    assert ids["sc-missing-details-hssk"].open is True
    listed = text_of(ids["sc-missing-hssk"])
    for code in silent:
        assert f"({code})" in listed
    assert text_of(ids["sc-comp-reported-hssk"]) == str(114 - len(silent))
    # The list comes before the grid when asked for.
    order = [getattr(c, "id", None) for c in _walk_ordered(tree)]
    assert order.index("sc-completeness") < order.index("sc-table")


def test_overview_cards_link_to_the_list_of_who_has_not_reported(targets_page):
    from layouts import overview

    from dashboard import request

    req = request.read("overview", {"period": "2026-10"})
    hssk = by_id(overview.headline_card("hssk", req))
    assert hssk["kpi-missing-hssk"].href == "/targets?indicator=hssk&period=2026-10&view=completeness"
    complete = by_id(overview.headline_card("tthc_online", req))
    assert "kpi-missing-tthc_online" not in complete  # the department reported: nothing to list


def test_cells_show_target_gap_and_change_and_say_them_in_full_on_hover(targets_page, demo_data):
    tree = targets_page.layout(period="2026-10")
    cell = by_id(tree, "sc-table-")["sc-table-288-hssk"]
    now = rollup(demo_data, "hssk", ["2026-10"], "district").loc["288", "value"]
    before = rollup(demo_data, "hssk", ["2026-09"], "district").loc["288", "value"]
    target = figures.resolve_target("hssk", "288", "2026-10").value
    goal = f"{target:.0f}\u00a0%" if float(target).is_integer() else f"{target:.1f}".replace(".", ",") + "\u00a0%"
    gap = target - now
    gap_words = (f"còn thiếu {gap:.1f}".replace(".", ",") if gap > 0.05 else f"vượt {max(0.0, -gap):.1f}"
                 .replace(".", ",")) + "\u00a0điểm\u00a0%"
    change = now - before
    size = f"{abs(change):.1f}".replace(".", ",")
    change_words = ("Không đổi" if size == "0,0" else ("Tăng" if change > 0 else "Giảm") + f" {size}\u00a0điểm\u00a0%")
    text = text_of(cell)
    assert f"Mục tiêu {goal} · {gap_words}" in text
    title = cell.title
    assert title.startswith("Giá trị: ") and f"Mục tiêu {goal} trước" in title
    assert "so với tháng trước" in title and "so với cùng kỳ năm trước" in title
    assert change_words.lower() in title.lower() or "không đổi" in title


def test_ranking_by_an_indicator_sorts_the_table_best_first(targets_page, demo_data):
    query = targets_page.controls_query("sc-ind", "district", None, "2026-10", "hssk", [],
                                        {"lang": "vi", "sort": "name", "dir": "asc"})
    assert (query["sort"], query["dir"], query["indicator"]) == ("hssk", "desc", "hssk")
    tree = targets_page.layout(**query)
    values = rollup(demo_data, "hssk", ["2026-10"], "district")["value"].reindex(_rows(tree)).dropna()
    assert len(values) == 27 and list(values) == sorted(values, reverse=True)
    # the other controls keep the sort chosen
    kept = targets_page.controls_query("sc-period", "district", None, "2026-09", "hssk", [],
                                       {"lang": "vi", "sort": "emr", "dir": "asc"})
    assert (kept["sort"], kept.get("dir")) == ("emr", None)
