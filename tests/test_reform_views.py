"""The 2025 reform as the views show it (issue 13: "Every figure carries its basis", "Old units have
a home"), on SQLite and PostgreSQL, over a hand-made world written out below:

* tests/world.py's province, plus old units whose codes are reused (old commune 00009 until
  2025-06, key ``00009@2025-06``, and new commune 00009 from 2025-07), an old commune 00011 divided
  between 00008 (40 %) and a new 00012 (60 %), and the crosswalk between them;
* the figures the roll-up derives for the new communes' months before the reform are written
  into ``aggregates`` by hand (the sums of the predecessors' raw rows times their shares, with
  pandas here, and basis 1 exact / 2 estimated), so the views are tested on what they read
  whoever computes it.
"""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import exports, figures, openapi, reform_marks, request, store, table, unitsearch
from dashboard import scorecard as sc
from dashboard import unitview as uv
from dashboard.auth.scope import Scope
from tests.target_helpers import by_id, import_pages, text_of, walk
from tests.world import load_world

REFORM = date(2025, 7, 1)
OLD_END = date(2025, 6, 30)

UNITS = pd.DataFrame([
    ("00009@2025-06", "Xã Chín", "commune", "002", None, OLD_END),
    ("00009", "Xã Chín Mới", "commune", "002", REFORM, None),
    ("00011", "Xã Mười Một", "commune", "001", None, OLD_END),
    ("00012", "Xã Mười Hai", "commune", "001", REFORM, None),
], columns=["code", "name", "level", "parent_code", "valid_from", "valid_to"])

LINKS = pd.DataFrame([
    ("00007", "00008", REFORM, None, None),          # whole
    ("00009@2025-06", "00009", REFORM, 1.0, None),   # whole, code reused
    ("00011", "00008", REFORM, 0.4, "theo dân số"),  # divided
    ("00011", "00012", REFORM, 0.6, "theo dân số"),
], columns=["old_code", "new_code", "effective", "share", "basis"])

# The old units' own reports before the reform, the new units' after it.
VALUES = pd.DataFrame([
    ("stockind", "00009@2025-06", "2025-05", 20, 40), ("stockind", "00009@2025-06", "2025-06", 22, 40),
    ("stockind", "00011", "2025-05", 30, 100), ("stockind", "00011", "2025-06", 35, 100),
    ("stockind", "00009", "2025-07", 25, 40), ("stockind", "00009", "2025-08", 26, 40),
    ("stockind", "00009", "2025-09", 27, 40),
    ("stockind", "00012", "2025-07", 20, 60), ("stockind", "00012", "2025-09", 24, 60),
], columns=["indicator", "entity_code", "period", "numerator", "denominator"])

WORLD_OLD = pd.DataFrame([("stockind", "00007", "2025-05", 40, 60), ("stockind", "00007", "2025-06", 45, 60)],
                         columns=VALUES.columns)
PRE = ["2025-05", "2025-06"]


def derived() -> pd.DataFrame:
    """The new communes' months before the reform, by hand: predecessors' rows × share."""
    raw = pd.concat([WORLD_OLD, VALUES], ignore_index=True)
    links = LINKS.assign(share=LINKS["share"].fillna(1.0))
    rows = raw[raw["period"].isin(PRE)].merge(links, left_on="entity_code", right_on="old_code")
    rows["numerator"] = rows["numerator"] * rows["share"]
    rows["denominator"] = rows["denominator"] * rows["share"]
    rows["divided"] = rows["share"] < 1
    out = rows.groupby(["new_code", "period"]).agg(numerator=("numerator", "sum"),
                                                    denominator=("denominator", "sum"),
                                                    reported=("numerator", "size"), divided=("divided", "any"))
    out["value"] = 100 * out["numerator"] / out["denominator"]
    out["basis"] = out["divided"].map({False: 1, True: 2})
    return out.reset_index()


def load_reform_world(engine) -> None:
    load_world(engine)
    with store.write_transaction(engine) as conn:
        store.upsert_units(conn, UNITS)
        store.upsert_links(conn, LINKS)
        store.rebuild_hierarchy(conn)
        load_id = store.record_load(conn, kind="values", source_file="reform.csv", checksum="r")
        added, replaced = store.upsert_values(conn, VALUES, load_id)
        store.finish_load(conn, load_id, added, replaced)
    with store.write_transaction(engine) as conn:
        for r in derived().itertuples(index=False):
            key = {"indicator": "stockind", "period": r.period, "code": r.new_code}
            conn.execute(text("DELETE FROM aggregates WHERE indicator_code = :indicator AND period = :period "
                              "AND entity_code = :code"), key)
            conn.execute(text(
                "INSERT INTO aggregates (indicator_code, period, entity_code, level, kind, end_month, numerator, "
                "denominator, value, reported, expected, last_month, basis) VALUES (:indicator, :period, :code, "
                "'commune', 'month', :period, :num, :den, :value, :reported, :reported, :period, :basis)"),
                {**key, "num": float(r.numerator), "den": float(r.denominator), "value": float(r.value),
                 "reported": int(r.reported), "basis": int(r.basis)})


@pytest.fixture
def reform(use_engine):
    load_reform_world(use_engine)
    return use_engine


@pytest.fixture
def pages():
    return import_pages()


def _hrefs(tree) -> list[str]:
    return [c.href for c in walk(tree) if isinstance(getattr(c, "href", None), str)]


# --- basis carried through --------------------------------------------------------------------

def test_series_carry_each_months_basis(reform):
    want = derived().set_index(["new_code", "period"])
    s = figures.series("stockind", "00008", "2025-05", "2025-09").set_index("period")
    assert list(s["basis"]) == [2, 2, 0, 0, 0]
    for month in PRE:
        assert s.loc[month, "value"] == pytest.approx(want.loc[("00008", month), "value"])
    # 00008 = 00007 whole + 40 % of 00011: (45 + 0,4 × 35) / (60 + 40) in June.
    assert s.loc["2025-06", "value"] == pytest.approx(59.0)
    exact = figures.series("stockind", "00009", "2025-05", "2025-08")
    assert list(exact["basis"]) == [1, 1, 0, 0]
    assert list(exact["value"]) == pytest.approx([50.0, 55.0, 62.5, 65.0])
    old = figures.series("stockind", "00009@2025-06", "2025-05", "2025-06")
    assert list(old["basis"]) == [0, 0] and list(old["value"]) == pytest.approx([50.0, 55.0])


def test_figure_rows_of_today_and_then_with_their_basis(reform):
    want = derived().set_index(["new_code", "period"])
    req = request.read("export", {"indicator": "stockind", "period": "2025-06", "level": "commune", "units": "today"})
    rows = table.shown(table.figure_rows(req), "vi").set_index("code")
    assert set(rows.index) == {"00004", "00005", "00006", "00008", "00009", "00012"}  # today's communes
    for code in ("00008", "00009", "00012"):
        assert rows.loc[code, "basis"] == want.loc[(code, "2025-06"), "basis"]
        assert rows.loc[code, "value"] == pytest.approx(round(want.loc[(code, "2025-06"), "value"], 1))
    assert rows.loc["00009", "basis_text"] == "suy từ đơn vị cũ (chính xác)"
    assert rows.loc["00012", "basis_text"] == "ước tính"
    assert rows.loc["00006", "basis"] == 0 and rows.loc["00006", "basis_text"] == "báo cáo"
    then = request.read("export", {"indicator": "stockind", "period": "2025-06", "level": "commune", "units": "then"})
    old = table.shown(table.figure_rows(then), "en").set_index("code")
    assert set(old.index) == {"00004", "00005", "00006", "00007", "00009@2025-06", "00011"}
    assert (old["basis"] == 0).all() and set(old["basis_text"]) == {"reported"}
    assert old.loc["00011", "value"] == pytest.approx(35.0)
    # Without the switch, beneath a unit valid today (the province), a download lists today's
    # units, as the map does on today's boundaries.
    plain = table.figure_rows(request.read("export", {"indicator": "stockind", "period": "2025-06",
                                                      "level": "commune"}))
    assert set(plain["code"]) == set(rows.index)


def test_csv_xlsx_and_api_have_the_basis_columns(reform):
    params = {"indicator": "stockind", "period": "2025-06", "level": "commune", "units": "today"}
    body, _rows = exports.data_file(request.read("export", params), "csv")
    frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str)
    assert "Cơ sở số liệu" in frame.columns and "Cơ sở (mã)" in frame.columns
    by_code = frame.set_index(frame.columns[table.KEYS.index("code")])
    assert by_code.loc["00012", "Cơ sở (mã)"] == "2" and by_code.loc["00012", "Cơ sở số liệu"] == "ước tính"
    assert by_code.loc["00004", "Cơ sở (mã)"] == "0"
    schema = openapi.DOCUMENT["components"]["schemas"]["FigureRow"]["properties"]
    assert schema["basis"]["enum"] == [0, 1, 2] and "basis_text" in schema
    records = table.to_json(table.shown(table.figure_rows(request.read("export", params)), "en"))
    assert {r["code"]: r["basis"] for r in records}["00009"] == 1


# --- the request reader --------------------------------------------------------------------------

def test_unit_keys_are_resolved_by_the_reader(reform):
    assert request.read("unit", {"unit": "00009"}).unit == "00009"  # plain: the unit valid today
    assert request.read("unit", {"unit": "00009@2025-06"}).unit == "00009@2025-06"
    assert request.read("unit", {"unit": "00009@2024-03"}).unit == "00009@2025-06"  # any month it was valid
    # A period before the reform does not turn a code valid today into its old namesake.
    assert request.read("targets", {"unit": "00009", "period": "2025-05"}).unit == "00009"
    assert request.read("unit", {"unit": "00011"}).unit == "00011"  # only an old unit has that code
    assert request.read("unit", {"unit": "00009@2030-01"}).unit == "00009"  # the one valid then
    bad = request.read("unit", {"unit": "00012@2025-01"})  # 00012 began in July
    assert bad.status() == 404 and bad.unit is None
    api = request.read("api.completeness", {"indicator": "stockind", "code": "00009@2025-06", "period": "2025-06"})
    assert api.ok and api.unit == "00009@2025-06"


def test_scope_holds_for_old_keys(reform):
    zone_one = Scope.of_units(["001"])
    assert request.read("unit", {"unit": "00011"}, scope=zone_one).ok  # 00011 was in zone 001
    refused = request.read("unit", {"unit": "00009@2025-06"}, scope=zone_one)
    assert refused.forbidden and refused.unit != "00009@2025-06"
    api = request.read("api.values", {"indicator": "stockind", "code": "00009@2025-06"}, scope=zone_one)
    assert api.status() == 403


# --- charts ----------------------------------------------------------------------------------------

def test_reform_marks_by_hand():
    months = ["2025-05", "2025-06", "2025-07", "2025-08"]
    parts = reform_marks.split([1, 2, 3, 4], [2, 1, 0, 0])
    assert parts[0] == [None, None, 3, 4]
    assert parts[1] == [1, 2, 3, None]  # joined to the reported month after it
    assert parts[2] == [1, 2, None, None]
    traces = reform_marks.traces(months, [1, 2, 3, 4], [2, 1, 0, 0], "vi", mode="lines", line={"color": "#000"})
    assert [tr.line.dash for tr in traces] == [None, "dash", "dot"]
    assert [tr.name for tr in traces][1:] == ["suy từ đơn vị cũ (chính xác)", "ước tính"]
    assert len(reform_marks.traces(months, [1, 2, 3, 4], [0, 0, 0, 0], "vi")) == 1  # reported: one trace
    import plotly.graph_objects as go

    fig = reform_marks.add_reform_line(go.Figure(), months, "vi")
    assert fig.layout.shapes[0].x0 == "2025-07-01"
    assert fig.layout.annotations[0].text == "Sắp xếp ĐVHC 01/07/2025"
    en = reform_marks.add_reform_line(go.Figure(), months, "en")
    assert en.layout.annotations[0].text == "2025 reform"
    assert not reform_marks.add_reform_line(go.Figure(), months[2:], "vi").layout.shapes  # all after


def test_trend_figures_mark_the_derived_months(reform, pages):
    from dashboard import slides

    _targets, unit = pages
    up = uv.unit_progress("stockind", "2025-09", "00008")
    fig = unit.trend_figure(up, figures.indicator("stockind"), "vi")
    dashes = {tr.name: tr.line.dash for tr in fig.data if tr.mode == "lines+markers"}
    assert dashes.get("ước tính") == "dot"
    assert any(str(s.x0).startswith("2025-07") for s in fig.layout.shapes)
    slide = slides.trend_figure("stockind", "00009", "2025-09", "vi", months=6)
    assert {tr.line.dash for tr in slide.data if tr.mode == "lines+markers"} >= {"dash"}
    assert any(s.x0 == "07/2025" for s in slide.layout.shapes)
    card = slides.card("stockind", "2025-09", "00009", "vi")
    assert card.spark_basis[-5:] == [1, 1, 0, 0, 0]


# --- old units have a home ---------------------------------------------------------------------

def test_old_unit_page_has_its_history_and_successors(reform, pages):
    _targets, unit = pages
    tree = unit.layout(code="00011")
    ids = by_id(tree)
    assert "Đơn vị cũ, đến 30/06/2025" in text_of(ids["unit-old-note"])
    # Its own history to June: the latest month shown is its last.
    assert text_of(ids["unit-period-heading"]) == "06/2025"
    assert float(getattr(ids["unit-value-stockind"], "data-value")) == pytest.approx(35.0)
    successors = text_of(ids["unit-successors"])
    assert successors.startswith("→ nay thuộc") and "Xã Tám" in successors and "40,0\u00a0%" in successors
    assert "/unit/00012" in " ".join(_hrefs(ids["unit-successors"]))
    reused = by_id(unit.layout(code="00009@2025-06", period="2025-05"))
    assert text_of(reused["unit-name"]) == "Xã Chín"
    assert float(getattr(reused["unit-value-stockind"], "data-value")) == pytest.approx(50.0)
    assert _hrefs(reused["unit-successors"]) == ["/unit/00009"]


def test_new_unit_page_says_what_it_was_formed_from(reform, pages):
    _targets, unit = pages
    ids = by_id(unit.layout(code="00009", period="2025-06"))
    formed = text_of(ids["unit-predecessors"])
    assert formed.startswith("Hình thành từ") and formed.endswith("(01/07/2025)") and "Xã Chín" in formed
    assert _hrefs(ids["unit-predecessors"]) == ["/unit/00009@2025-06?period=2025-06"]
    # Its June figure is its predecessor's, marked as derived.
    assert float(getattr(ids["unit-value-stockind"], "data-value")) == pytest.approx(55.0)
    assert "suy từ đơn vị cũ (chính xác)" in text_of(tree_basis(ids))
    divided = by_id(unit.layout(code="00008", period="2025-09", lang="en"))
    assert "Formed from" in text_of(divided["unit-predecessors"]) and "40.0%" in text_of(divided["unit-predecessors"])


def tree_basis(ids: dict):
    return [c for c in walk(list(ids.values())) if getattr(c, "className", "") == "unit-basis"][:1]


def test_search_finds_old_units_labelled(reform):
    found = unitsearch.find("xa chin")
    assert {f["code"]: f["until"] for f in found} == {"00009": None, "00009@2025-06": "2025-06"}
    from layouts.common import search_results

    listing = search_results(found, "vi", "search-list", "xa chin")
    assert "Xã Chín (cũ, đến 06/2025)" in text_of(listing)
    assert "/unit/00009@2025-06" in " ".join(_hrefs(listing))


# --- the scorecard's switch --------------------------------------------------------------------------

def test_scorecard_today_by_default_then_on_request(reform, pages):
    targets, _unit = pages
    ids = by_id(targets.layout(period="2025-06", level="commune"))
    assert getattr(ids["sc-units-today"], "aria-current", None) == "true"
    assert "sc-basis-legend" in ids
    rows = {k[len("sc-table-row-"):] for k in ids if k.startswith("sc-table-row-")}
    assert rows == {"00004", "00005", "00006", "00008", "00009", "00012"}
    assert "↺" in text_of(ids["sc-table-00009-stockind"]) and "≈" in text_of(ids["sc-table-00012-stockind"])
    assert "↺" not in text_of(ids["sc-table-00006-stockind"])
    assert ids["sc-units-then"].href.endswith("units=then") or "units=then" in ids["sc-units-then"].href
    then = by_id(targets.layout(period="2025-06", level="commune", units="then"))
    rows = {k[len("sc-table-row-"):] for k in then if k.startswith("sc-table-row-")}
    assert rows == {"00004", "00005", "00006", "00007", "00009@2025-06", "00011"}
    assert getattr(then["sc-units-then"], "aria-current", None) == "true"
    assert "/unit/00009@2025-06?period=2025-06" in _hrefs(then["sc-table-row-00009@2025-06"])
    assert "↺" not in text_of(then["sc-table"]) and "≈" not in text_of(then["sc-table"])
    after = by_id(targets.layout(period="2025-09", level="commune"))
    assert "sc-units" not in after  # one set of units after the reform


def test_scorecard_controls_keep_then_only_before_the_reform(reform, pages):
    targets, _unit = pages
    data = {"lang": "vi", "sort": "name", "dir": "asc", "view": None, "units": "then"}
    assert targets.controls_query("sc-period", "commune", None, "2025-05", "stockind", [], data)["units"] == "then"
    assert "units" not in targets.controls_query("sc-period", "commune", None, "2025-09", "stockind", [], data)


def test_then_figures_cover_the_old_units_of_a_merged_root(reform):
    frame = sc.then_figures("stockind", "2025-06", "commune", "002").set_index("code")
    assert list(frame.index) == ["00006", "00007", "00009@2025-06"]
    assert pd.isna(frame.loc["00006", "value"])  # 00006 reports from July (tests/world.py)
    assert list(frame["value"].iloc[1:]) == pytest.approx([75.0, 55.0])  # 45/60, 22/40 by hand
    assert (frame["basis"] == 0).all()


# --- the API over HTTP ---------------------------------------------------------------------------

@pytest.fixture
def client(reform):
    from flask import Flask

    from dashboard import api, cache
    from dashboard.config import load_settings

    app = Flask("reform-api-test")
    cache.init_cache(app, load_settings())
    api.register(app)
    return app.test_client()


def test_api_takes_old_keys_and_answers_the_basis(client):
    import json

    resp = client.get("/api/v1/values", query_string={"indicator": "stockind", "period": "2025-06",
                                                      "level": "commune", "unit": "002"})
    body = json.loads(resp.get_data(as_text=True))
    assert resp.status_code == 200 and "basis" in body["columns"] and "basis_text" in body["columns"]
    rows = {r["code"]: r for r in body["rows"]}
    # Beneath a unit of today, today's units: new 00009 from its whole predecessor (exact).
    assert rows["00009"]["basis"] == 1 and rows["00009"]["value"] == pytest.approx(55.0)
    assert "00009@2025-06" not in rows
    resp = client.get("/api/v1/values", query_string={"indicator": "stockind", "period": "2025-06",
                                                      "level": "commune", "unit": "002", "units": "then"})
    rows = {r["code"]: r for r in json.loads(resp.get_data(as_text=True))["rows"]}
    assert rows["00009@2025-06"]["basis"] == 0 and rows["00009@2025-06"]["value"] == pytest.approx(55.0)
    resp = client.get("/api/v1/completeness", query_string={"indicator": "stockind", "period": "2025-06",
                                                            "code": "00009@2025-06"})
    body = json.loads(resp.get_data(as_text=True))
    assert resp.status_code == 200 and body["code"] == "00009@2025-06" and body["reported"] == 1
    units = json.loads(client.get("/api/v1/units", query_string={"unit": "00009@2025-06"}).get_data(as_text=True))
    assert units["unit"] == "00009@2025-06"
