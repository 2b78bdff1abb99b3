"""Two indicators a department adds itself, the way its statistics officer would, then every view.

Through the command (`dashboard import indicators`, then `values` and `targets`), in CSV and in
Excel: one indicator with only the required columns, one with every field (Vietnamese text
included). Then every face of the dashboard over HTTP — overview, map and a drill-down callback,
/targets, /unit/<code>, /wall?indicators=<code>, the briefing's slides, the JSON API and the
CSV/XLSX downloads — must show no error notice, no "nan"/"None"/"undefined", no empty label, and
figures equal to an independent computation: pandas over the very rows written into the files,
with the world's hierarchy written out by hand (tests/world.py).

Re-importing the indicators with new labels through the command (which clears no cache) while
the app keeps running changes every page on its next request and keeps values and targets.

The data part runs on SQLite and PostgreSQL; the page walk on SQLite (the pages read the same
frames). One headless-Chromium check at the end opens three pages of a live server.
"""
from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dashboard import cache, figures, request, slides
from dashboard.cli import main
from dashboard.database import make_engine, upgrade
from dashboard.i18n import catalog, t
from tests.app_helpers import web_app
from tests.conftest import _drop_schema, _pg_engine_in_new_schema, require_postgres
from tests.data_files import VALUE_HEADER, write_csv, write_xlsx
from tests.fault_helpers import component, router_body, text_of
from tests.world import FACILITIES, UNITS, load_world


# --- what the officer writes --------------------------------------------------------------------

REQUIRED = ["code", "name_vi", "name_en", "time", "higher_is_better"]
#: Only the required columns: a stock reported by communes (the default scope).
MINIMAL = {"code": "tiem_chung", "name_vi": "Tỷ lệ trẻ dưới 1 tuổi được tiêm chủng đầy đủ",
           "name_en": "Children under one fully immunised", "time": "stock", "higher_is_better": "có"}
#: Every field, in Vietnamese and English: a flow reported by hospitals, a headline card.
FULL = {
    "code": "kham_tu_xa", "name_vi": "Tỷ lệ lượt khám chữa bệnh từ xa tại bệnh viện",
    "name_en": "Share of hospital consultations held remotely", "time": "flow", "higher_is_better": "true",
    "short_vi": "Khám chữa bệnh từ xa", "short_en": "Telehealth",
    "numerator_vi": "Số lượt khám từ xa", "denominator_vi": "Tổng số lượt khám",
    "numerator_en": "Remote consultations", "denominator_en": "Consultations",
    "unit_vi": "lượt khám", "unit_en": "consultations",
    "gap_vi": "còn {gap} lượt khám chưa thực hiện từ xa", "gap_en": "{gap} consultations not yet held remotely",
    "decimals": "0", "display_unit": "%", "reported_by": "facility:hospital", "group": "telehealth",
    "headline": "5", "sort_order": "42",
}
#: What the minimal one must read as: the documented defaults, written out by hand.
MINIMAL_SHORT = {"vi": "Trẻ dưới 1 tuổi được tiêm chủng…", "en": "Children under one fully…"}

# indicator, unit_code, period, numerator, denominator: the rows of the values file.
VALUES = [
    ("tiem_chung", "00004", "2025-07", 80, 100), ("tiem_chung", "00004", "2025-08", 85, 100),
    ("tiem_chung", "00004", "2025-09", 91, 100),
    ("tiem_chung", "00005", "2025-07", 40, 60), ("tiem_chung", "00005", "2025-08", 47, 60),  # misses 09
    ("tiem_chung", "00006", "2025-09", 302, 400),
    ("tiem_chung", "00008", "2025-08", 21, 50),
    ("kham_tu_xa", "BV1", "2025-07", 12, 180), ("kham_tu_xa", "BV1", "2025-08", 10, 200),
    ("kham_tu_xa", "BV1", "2025-09", 32, 200),
    ("kham_tu_xa", "BV2", "2025-07", 8, 90), ("kham_tu_xa", "BV2", "2025-09", 5, 100),
]
# indicator, unit_code, value, deadline, source
TARGETS = [
    ("tiem_chung", "01", 95, "2025-12", "KH 12/KH-SYT ngày 3/1/2025"),
    ("tiem_chung", "002", 90, "2026-06", "KH khu vực Hai"),
    ("kham_tu_xa", "01", 20, "2025-12", "KH chuyển đổi số 2025"),
]
TARGET_HEADER = ["indicator", "unit_code", "value", "deadline", "source"]
CODES = ("tiem_chung", "kham_tu_xa")
MONTH, QUARTER = "2025-09", "2025-Q3"
QUARTER_MONTHS = ("2025-07", "2025-08", "2025-09")


# --- the independent computation ----------------------------------------------------------------

def _parents() -> dict[str, str]:
    parent = {r.code: r.parent_code for r in UNITS.itertuples()}
    parent.update({r.code: r.unit_code for r in FACILITIES.itertuples()})
    return parent


def _area(code: str, level: str) -> str | None:
    """The unit of `level` above (or at) an entity, by the world's hand-made hierarchy."""
    levels = dict(zip(UNITS["code"], UNITS["level"]))
    parent = _parents()
    while code is not None and levels.get(code) != level:
        code = parent.get(code)
    return code


def expected(indicator: str, months: tuple[str, ...], level: str) -> pd.DataFrame:
    """numerator, denominator, value by unit of `level`: a stock takes each entity's latest month
    in the period, a flow sums the months; the rate is sum/sum (never a mean of rates)."""
    raw = pd.DataFrame(VALUES, columns=["indicator", "entity", "period", "numerator", "denominator"])
    raw = raw[(raw["indicator"] == indicator) & raw["period"].isin(months)]
    if indicator == "tiem_chung":  # the stock
        raw = raw.sort_values("period").groupby("entity").tail(1)
    raw = raw.assign(area=raw["entity"].map(lambda c: _area(c, level)))
    out = raw.groupby("area")[["numerator", "denominator"]].sum().astype(float)
    out["value"] = 100 * out["numerator"] / out["denominator"]
    return out


def target_of(indicator: str, unit: str) -> float:
    """Its own target, else the nearest ancestor's (one target per scope here)."""
    own = {(i, u): v for i, u, v, _d, _s in TARGETS}
    parent = _parents()
    while unit is not None:
        if (indicator, unit) in own:
            return float(own[(indicator, unit)])
        unit = parent.get(unit)
    raise KeyError(unit)


def vi_percent(value: float, decimals: int, lang: str = "vi") -> str:
    """'84,4 %' as Vietnamese documents write a percentage, a no-break space before the sign
    (the page's own formatter not used)."""
    if lang == "en":
        return f"{value:.{decimals}f}%"
    return f"{value:.{decimals}f}".replace(".", ",") + "\u00a0%"


# --- loading as the officer does ----------------------------------------------------------------

def _write(kind: str, path: Path, header: list[str], rows: list[list], sheet: str) -> Path:
    if kind == "xlsx":
        return write_xlsx(path.with_suffix(".xlsx"), header, rows, sheet=sheet,
                          formats={c: "@" for c in ("code", "unit_code", "period", "deadline") if c in header})
    return write_csv(path.with_suffix(".csv"), header, rows)


def run(url: str, *args) -> object:
    result = CliRunner().invoke(main, ["--database", url, *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def load_department(engine, folder: Path, kind: str) -> None:
    load_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    minimal = _write(kind, folder / "chi_tieu_toi_thieu", REQUIRED, [[MINIMAL[c] for c in REQUIRED]], "indicators")
    full = _write(kind, folder / "chi_tieu_day_du", list(FULL), [list(FULL.values())], "indicators")
    run(url, "import", "indicators", minimal, full, "--user", "phong.khtc")
    run(url, "import", "values", _write(kind, folder / "so_lieu", VALUE_HEADER, [list(r) for r in VALUES], "values"))
    run(url, "import", "targets", _write(kind, folder / "muc_tieu", TARGET_HEADER, [list(r) for r in TARGETS],
                                         "targets"))
    figures.set_engine(engine)  # the command pointed the read side at its own engine


@pytest.fixture(scope="module", params=["sqlite-csv", "sqlite-xlsx", "postgresql-xlsx"])
def department(request, tmp_path_factory):
    """The world, plus the department's two indicators, their values and targets, loaded
    through the command from files of one kind."""
    dialect, kind = request.param.split("-")
    folder = tmp_path_factory.mktemp(request.param)
    if dialect == "sqlite":
        engine, cleanup = make_engine(f"sqlite:///{folder / 'so_y_te.db'}"), None
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        cleanup = (admin, schema)
    upgrade(engine)
    figures.set_engine(engine)
    cache.clear()
    load_department(engine, folder, kind)
    yield engine
    figures.set_engine(None)
    cache.clear()
    engine.dispose()
    if cleanup:
        _drop_schema(*cleanup)


@pytest.fixture
def db(department):
    figures.set_engine(department)  # another module's test may have pointed it elsewhere
    return department


#: The page walk reads the same frames as above: once, on SQLite, from the Excel files.
PAGES_ON = pytest.mark.parametrize("department", ["sqlite-xlsx"], indirect=True)


@pytest.fixture
def sqlite_db(db):
    return db


@pytest.fixture(scope="module")
def client():
    return web_app().server.test_client()


# --- what no page may show ----------------------------------------------------------------------

BAD_WORD = re.compile(r"(?<![\w.])(nan|none|null|undefined|NaT|inf)(?![\w])", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
ERROR_KEYS = ("error_generic", "api_error", "exp2_failed", "wall_db_error", "outage_showing", "outage_partial",
              "outage_retrying", "outage_starting", "sec_unavailable")
#: Props holding words a person reads (the rest hold code: ids, classes, styles, URLs).
WORD_KEYS = {"children", "label", "title", "placeholder", "aria-label", "alt", "name", "header", "content",
             "tooltip", "text"}


def error_notices() -> list[str]:
    words = catalog()
    out = []
    for key in ERROR_KEYS:
        for lang in ("vi", "en"):
            text = words[key][lang]
            out.append(text.split("{")[0].strip() or text)
    return out


def strings(node) -> list[str]:
    """Every human-readable string of a Dash layout tree: children, labels, titles, options."""
    out: list[str] = []

    def walk(item, words: bool) -> None:
        if isinstance(item, str):
            if words:
                out.append(item)
        elif isinstance(item, list):
            for x in item:
                walk(x, words)
        elif isinstance(item, dict):
            if "props" in item and "type" in item:  # a component: its props
                walk(item["props"], False)
            else:
                for key, value in item.items():
                    walk(value, key in WORD_KEYS)

    walk(node, True)
    return out


def all_strings(payload) -> list[str]:
    """Every string value of a JSON payload."""
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [s for v in payload.values() for s in all_strings(v)]
    if isinstance(payload, list):
        return [s for v in payload for s in all_strings(v)]
    return []


def assert_clean(texts: list[str], where: str) -> None:
    joined = " ¦ ".join(texts)
    for notice in error_notices():
        assert notice not in joined, f"{where}: error notice {notice!r}"
    for text in texts:
        assert not BAD_WORD.search(text), f"{where}: {text!r}"
        assert not PLACEHOLDER.search(text), f"{where}: unfilled placeholder in {text!r}"


def assert_labels(tree, where: str) -> None:
    """No empty label: every option of a dropdown/radio, every table column, every graph trace."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props") if isinstance(node.get("props"), dict) else None
            if props is None:
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
                continue
            for option in props.get("options") or []:
                label = option.get("label") if isinstance(option, dict) else option
                assert label not in (None, "") and (not isinstance(label, str) or label.strip()), (where, option)
                if isinstance(label, (dict, list)):
                    assert_clean(strings(label), where)
            if node.get("type") == "DataTable":
                for col in props.get("columns") or []:
                    names = col["name"] if isinstance(col["name"], list) else [col["name"]]
                    assert all(isinstance(n, str) and n.strip() for n in names), (where, col)
                    assert_clean(names, where)
                for row in props.get("data") or []:
                    assert_clean([v for v in row.values() if isinstance(v, str)], f"{where} table row")
            if node.get("type") == "Graph" and isinstance(props.get("figure"), dict):
                assert_clean(figure_texts(props["figure"]), f"{where} graph")
            stack.extend(v for v in props.values() if isinstance(v, (dict, list)))


def figure_texts(fig: dict) -> list[str]:
    """The words a plotly figure draws: titles, annotations, trace names, texts, hover texts,
    table cells (not the data: a JSON null there is a gap in a line, not a word)."""
    out: list[str] = []
    layout = fig.get("layout") or {}
    for key in ("title", "annotations", "xaxis", "yaxis", "legend"):
        out += _plotly_words(layout.get(key))
    for trace in fig.get("data") or []:
        for key in ("name", "text", "hovertext"):
            out += strings(trace.get(key))
        # customdata: codes and levels, and the hover sentence a click carries
        out += [s for s in strings(trace.get("customdata")) if " " in s]
        for key in ("header", "cells"):
            if isinstance(trace.get(key), dict):
                out += strings(trace[key].get("values"))
        if trace.get("hovertemplate"):
            out.append(re.sub(r"%\{[^}]*\}", "", trace["hovertemplate"]))
    return [s for s in out if isinstance(s, str)]


def _plotly_words(node) -> list[str]:
    """The "text" of titles and annotations, nested as plotly nests them."""
    out: list[str] = []
    if isinstance(node, list):
        for x in node:
            out += _plotly_words(x)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "ticktext") and isinstance(value, str):
                out.append(value)
            elif key == "ticktext" and isinstance(value, (list, tuple)):
                out += [v for v in value if isinstance(v, str)]
            elif isinstance(value, (dict, list)):
                out += _plotly_words(value)
    return out


def open_page(client, path: str, search: str = ""):
    resp = client.post("/_dash-update-component", json=router_body(path, search))
    assert resp.status_code == 200, (path, search, resp.status_code)
    tree = resp.get_json()["response"]["_pages_content"]["children"]
    where = f"{path}{search}"
    assert_clean(strings(tree), where)
    assert_labels(tree, where)
    return tree, " ".join([text_of(tree), *table_cells(tree)])


def table_cells(tree) -> list[str]:
    """The cells of every DataTable (they are data, not children)."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if node.get("type") == "DataTable":
                out += [str(v) for row in node["props"].get("data") or [] for v in row.values()]
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return out


# --- the figures: on both databases -------------------------------------------------------------

def test_every_field_the_views_read_comes_back_filled(db):
    table = figures.indicators()
    minimal, full = table.loc["tiem_chung"].to_dict(), table.loc["kham_tu_xa"].to_dict()
    assert (minimal["short_vi"], minimal["short_en"]) == (MINIMAL_SHORT["vi"], MINIMAL_SHORT["en"])
    assert minimal["reported_by"] == ("commune",) and minimal["time_agg"] == "stock"
    assert (minimal["decimals"], minimal["display_unit"], minimal["grp"]) == (1, "%", "other")
    for field in ("short", "numerator", "denominator", "unit", "gap"):
        for lang in ("vi", "en"):
            value = minimal[f"{field}_{lang}"]
            assert isinstance(value, str) and value.strip() and not BAD_WORD.search(value), (field, lang, value)
            assert full[f"{field}_{lang}"] == FULL[f"{field}_{lang}"]
    assert (full["reported_by"], full["time_agg"], int(full["decimals"]), full["grp"]) == \
        (("facility:hospital",), "flow", 0, "telehealth")
    assert "kham_tu_xa" in figures.headline_codes() and "tiem_chung" not in figures.headline_codes()


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("period, months", [(MONTH, (MONTH,)), (QUARTER, QUARTER_MONTHS)])
@pytest.mark.parametrize("level", ["province", "district"])
def test_figures_equal_pandas_over_the_rows_written_to_the_files(db, code, period, months, level):
    want = expected(code, months, level)
    got = figures.figures(code, period, level).set_index("code")
    for area, row in want.iterrows():
        assert got.loc[area, "numerator"] == row["numerator"], area
        assert got.loc[area, "denominator"] == row["denominator"], area
        assert got.loc[area, "value"] == pytest.approx(row["value"]), area
        target = target_of(code, area)
        assert got.loc[area, "target"] == target
        short = target / 100 * row["denominator"] - row["numerator"]
        if short > 0:
            assert got.loc[area, "gap_units"] == pytest.approx(short), area
    # An area where nobody reported shows nothing, never 0.
    for area in set(got.index) - set(want.index):
        assert math.isnan(got.loc[area, "value"]) and got.loc[area, "status"] == "no_data"


# --- every view over HTTP (SQLite) --------------------------------------------------------------

@PAGES_ON
def test_the_overview_shows_both_with_their_figures(sqlite_db, client):
    _tree, text = open_page(client, "/")
    province = {c: expected(c, (MONTH,), "province").loc["01"] for c in CODES}
    assert FULL["short_vi"] in text  # its headline card
    assert vi_percent(province["kham_tu_xa"]["value"], 0) in text
    assert MINIMAL["name_vi"] in text or MINIMAL_SHORT["vi"] in text  # the table of the others
    assert vi_percent(province["tiem_chung"]["value"], 1) in text
    # The gap in the indicator's own words: its denominator − numerator, formatted as on screen.
    rest = province["kham_tu_xa"]["denominator"] - province["kham_tu_xa"]["numerator"]
    assert FULL["gap_vi"].format(gap=f"{rest:,.0f}".replace(",", ".")).lower() in text.lower()
    _tree, text = open_page(client, "/", "?lang=en")
    assert FULL["short_en"] in text


def map_rows(tree) -> dict[str, dict]:
    """The map table's rows by unit code: the raw figures each row carries, its name and status."""
    out = {}
    stack = [{"props": component(tree, "map-table")}]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict) and isinstance(node.get("props"), dict):
            props = node["props"]
            if str(props.get("id", "")).startswith("map-row-"):
                cells = props["children"]
                name = cells[0]["props"]["children"]["props"]["children"]
                def num(key):
                    return float(props[key]) if props[key] else float("nan")  # "" = no figure

                out[props["id"][len("map-row-"):]] = {
                    "numerator": num("data-numerator"), "denominator": num("data-denominator"),
                    "value": num("data-value"), "name": name, "status": props["data-status"]}
            else:
                stack.extend(v for v in props.values() if isinstance(v, (dict, list)))
    return out


def assert_table_equals(got: dict[str, dict], want: pd.DataFrame) -> None:
    assert set(want.index) <= set(got)
    for code, row in want.iterrows():
        for key in ("numerator", "denominator", "value"):
            assert got[code][key] == pytest.approx(row[key], nan_ok=True), (code, key)
        assert got[code]["name"] and got[code]["status"].strip()


@PAGES_ON
@pytest.mark.parametrize("code", CODES)
def test_the_map_and_its_drill_down(sqlite_db, client, code):
    tree, _text = open_page(client, "/map", f"?indicator={code}&period={MONTH}")
    assert_table_equals(map_rows(tree), expected(code, (MONTH,), "district"))
    state = component(tree, "map-state")["data"]
    # A click on zone 001 (what the figure's customdata carries) asks for its communes.
    body = {"output": "map-location.search", "outputs": {"id": "map-location", "property": "search"},
            "inputs": [{"id": "map-indicator", "property": "value", "value": code},
                       {"id": "map-period", "property": "value", "value": MONTH},
                       {"id": "map-level", "property": "value", "value": state["level"]},
                       {"id": "map-colouring", "property": "value", "value": "status"},
                       {"id": "map-graph", "property": "clickData",
                        "value": {"points": [{"customdata": ["001", "Khu vực Một", "commune"]}]}}],
            "changedPropIds": ["map-graph.clickData"],
            "state": [{"id": "map-state", "property": "data", "value": state}]}
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    search = resp.get_json()["response"]["map-location"]["search"]
    assert "unit=001" in search and "level=commune" in search
    tree, text = open_page(client, "/map", search)
    communes = expected(code, (MONTH,), "commune")
    beneath = communes[communes.index.map(lambda c: _area(c, "district") == "001")]
    if code == "kham_tu_xa":  # hospitals report it: the zone's communes, each by its hospitals
        beneath = expected(code, (MONTH,), "commune").loc[["00004"]]
    assert_table_equals(map_rows(tree), beneath)
    assert "Phường Bốn" in text


@PAGES_ON
def test_targets_shows_both_columns_and_their_statuses(sqlite_db, client):
    _tree, text = open_page(client, "/targets", f"?period={MONTH}")
    assert MINIMAL_SHORT["vi"] in text and FULL["short_vi"] in text
    for code, decimals in (("tiem_chung", 1), ("kham_tu_xa", 0)):
        for zone, row in expected(code, (MONTH,), "district").iterrows():
            assert vi_percent(row["value"], decimals) in text, (code, zone)
    _tree, text = open_page(client, "/targets", f"?period={MONTH}&indicator=kham_tu_xa&lang=en")
    assert FULL["short_en"] in text and MINIMAL_SHORT["en"] in text


@PAGES_ON
@pytest.mark.parametrize("unit", ["01", "001", "002", "00004", "BV1"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_unit_pages(sqlite_db, client, unit, lang):
    _tree, text = open_page(client, f"/unit/{unit}", f"?period={MONTH}&lang={lang}")
    level = "facility" if unit.startswith("BV") else dict(zip(UNITS["code"], UNITS["level"]))[unit]
    for code, decimals in (("tiem_chung", 1), ("kham_tu_xa", 0)):
        if level == "facility":
            if code == "kham_tu_xa":
                row = [r for r in VALUES if r[0] == code and r[1] == unit and r[2] == MONTH][0]
                assert vi_percent(100 * row[3] / row[4], decimals, lang) in text
            continue
        want = expected(code, (MONTH,), level)
        if unit in want.index:
            assert vi_percent(want.loc[unit, "value"], decimals, lang) in text, code
    if unit == "001":
        # Two gaps of the minimal one, never contradicting: to its target (inherited 95 %) and to
        # 100 % (denominator − numerator, the default sentence), in the generic count word.
        row = expected("tiem_chung", (MONTH,), "district").loc["001"]
        to_target = round(0.95 * row["denominator"] - row["numerator"])
        rest = int(row["denominator"] - row["numerator"])
        if lang == "vi":
            assert f"Còn thiếu {to_target} trường hợp để đạt 95\u00a0%" in text
            assert f"Còn thiếu {rest} trường hợp để đạt 100\u00a0%" in text
        else:
            assert f"{to_target} cases short of 95%" in text and f"{rest} cases short of 100%" in text
        assert "mục tiêu (" not in text and "short of the target" not in text
    if lang == "en" and level != "facility":
        assert "Children under one fully immunised" in text and FULL["name_en"] in text


@PAGES_ON
@pytest.mark.parametrize("code", CODES)
def test_the_wall_with_only_that_indicator(sqlite_db, client, code):
    _tree, text = open_page(client, "/wall", f"?indicators={code}")
    province = expected(code, (MONTH,), "province").loc["01"]
    assert vi_percent(province["value"], 0 if code == "kham_tu_xa" else 1) in text
    assert (FULL["short_vi"] if code == "kham_tu_xa" else MINIMAL_SHORT["vi"]) in text


@PAGES_ON
def test_the_briefing_and_the_picture_exports(sqlite_db):
    """The monthly pack carries the headline one; each picture export can be asked for either
    (the figures are checked, the rendering itself is tests/test_briefing.py's)."""
    pack = slides.briefing_slides(MONTH, None, "vi")
    keys = [s.key for s in pack]
    assert "map-kham_tu_xa" in keys
    for slide in pack:
        assert_clean(figure_texts(slide.figure.to_plotly_json()), f"briefing {slide.key}")
    texts = " ".join(figure_texts(pack[keys.index("map-kham_tu_xa")].figure.to_plotly_json()))
    assert FULL["short_vi"] in texts or FULL["name_vi"] in texts
    for code in CODES:
        for slide in ("map", "chart", "units_behind", "scorecard"):
            req = request.read("export", {"indicator": code, "period": MONTH})
            fig, filename = slides.slide_for_export(slide, req)
            assert "nan" not in filename.lower()
            assert_clean(figure_texts(fig.to_plotly_json()), f"/export/{slide}.png?indicator={code}")


@PAGES_ON
def test_the_api(sqlite_db, client):
    resp = client.get("/api/v1/indicators")
    assert resp.status_code == 200
    catalogue = resp.get_json()["indicators"]
    assert_clean(all_strings([{k: v for k, v in i.items() if not k.startswith("gap_")} for i in catalogue]),
                 "/api/v1/indicators")
    assert all(i[f"gap_{lang}"].count("{gap}") == 1 for i in catalogue for lang in ("vi", "en"))
    listed = {i["code"]: i for i in resp.get_json()["indicators"]}
    for code in CODES:
        for key, value in listed[code].items():
            if key in ("headline", "latest_month"):
                continue
            assert value not in (None, "") and not (isinstance(value, str) and BAD_WORD.search(value)), (code, key)
    assert listed["tiem_chung"]["short_vi"] == MINIMAL_SHORT["vi"]
    for code, decimals in (("tiem_chung", 1), ("kham_tu_xa", 0)):
        resp = client.get(f"/api/v1/values?indicator={code}&period={QUARTER}&level=district")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert_clean(all_strings(resp.get_json()), f"/api/v1/values?indicator={code}")
        rows = {r["code"]: r for r in resp.get_json()["rows"]}
        for zone, want in expected(code, QUARTER_MONTHS, "district").iterrows():
            assert (rows[zone]["numerator"], rows[zone]["denominator"]) == (want["numerator"], want["denominator"])
            assert abs(rows[zone]["value"] - want["value"]) <= 0.5 * 10 ** -decimals + 1e-9
            assert rows[zone]["indicator_name"] and not BAD_WORD.search(rows[zone]["indicator_name"])
        resp = client.get(f"/api/v1/completeness?indicator={code}&period={MONTH}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert_clean(all_strings(resp.get_json()), f"/api/v1/completeness?indicator={code}")


@PAGES_ON
@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_the_downloads(sqlite_db, client, ext):
    header = {t(f"exp2_col_{k}", "vi"): k for k in ("code", "numerator", "denominator", "value", "indicator",
                                                    "indicator_name")}
    for code, decimals in (("tiem_chung", 1), ("kham_tu_xa", 0)):
        resp = client.get(f"/export/data.{ext}?indicator={code}&period={QUARTER}&level=district")
        assert resp.status_code == 200 and "X-Dashboard-Warning" not in resp.headers
        if ext == "csv":
            body = resp.get_data().decode("utf-8-sig")
            assert not BAD_WORD.search(body), body
            frame = pd.read_csv(io.StringIO(body), dtype={t("exp2_col_code", "vi"): str})
        else:
            book = load_workbook(io.BytesIO(resp.get_data()), read_only=True)
            cells = [c for ws in book.worksheets for r in ws.iter_rows(values_only=True) for c in r]
            assert not any(isinstance(c, str) and BAD_WORD.search(c) for c in cells)
            frame = pd.read_excel(io.BytesIO(resp.get_data()), sheet_name=0, dtype={t("exp2_col_code", "vi"): str})
        frame = frame.rename(columns=header).set_index("code")
        for zone, want in expected(code, QUARTER_MONTHS, "district").iterrows():
            assert frame.loc[zone, "numerator"] == want["numerator"]
            assert frame.loc[zone, "denominator"] == want["denominator"]
            assert abs(frame.loc[zone, "value"] - want["value"]) <= 0.5 * 10 ** -decimals + 1e-9
        assert frame["indicator_name"].notna().all() and (frame["indicator_name"].str.strip() != "").all()
    # The scorecard download: every indicator over the zones, the two new ones named.
    resp = client.get(f"/export/data.{ext}?period={MONTH}&level=district")
    assert resp.status_code == 200
    data = resp.get_data()
    text = data.decode("utf-8-sig") if ext == "csv" else json.dumps(
        [c for ws in load_workbook(io.BytesIO(data)).worksheets for r in ws.iter_rows(values_only=True) for c in r],
        ensure_ascii=False, default=str)
    assert MINIMAL["name_vi"] in text and FULL["name_vi"] in text


# --- editing: new labels everywhere without a restart, values and targets kept ------------------

RENAMED = {"code": "kham_tu_xa", "name_vi": "Tỷ lệ lượt khám bệnh từ xa", "name_en": "Remote consultations, share",
           "time": "flow", "higher_is_better": "true", "short_vi": "Khám từ xa (đổi tên)",
           "short_en": "Remote care (renamed)", "gap_vi": "còn {gap} lượt chưa khám từ xa"}
RENAMED_MINIMAL = {"code": "tiem_chung", "name_vi": "Tỷ lệ tiêm chủng mở rộng đầy đủ",
                   "name_en": "Expanded immunisation, full", "time": "stock", "higher_is_better": "true"}


def test_renaming_reaches_every_page_at_once_and_keeps_values_and_targets(tmp_path, client):
    engine = make_engine(f"sqlite:///{tmp_path / 'rename.db'}")
    upgrade(engine)
    figures.set_engine(engine)
    cache.clear()
    try:
        load_department(engine, tmp_path, "csv")
        before = {c: figures.figures(c, QUARTER, "district")[["code", "numerator", "denominator", "value",
                                                               "target"]].reset_index(drop=True) for c in CODES}
        pages = [("/", ""), ("/targets", f"?period={MONTH}"), ("/unit/001", f"?period={MONTH}"),
                 ("/wall", "?indicators=kham_tu_xa"), ("/map", "?indicator=kham_tu_xa")]
        for path, search in pages:  # warm every cache
            text = open_page(client, path, search)[1]
            assert FULL["short_vi"] in text or FULL["name_vi"] in text, path
        header = list(RENAMED)
        path = write_csv(tmp_path / "doi_ten.csv", header, [[RENAMED[c] for c in header],
                                                            [RENAMED_MINIMAL.get(c) for c in header]])
        # The command, with its own engine; it clears no cache and tells the app nothing: only
        # the data version it bumps does.
        version = figures.version()
        run(engine.url.render_as_string(hide_password=False), "import", "indicators", path)
        figures.set_engine(engine)
        assert figures.version() > version  # new cache keys for every view: nothing to flush
        for path_, search in pages:
            text = open_page(client, path_, search)[1]
            assert FULL["short_vi"] not in text and FULL["name_vi"] not in text, path_
            assert RENAMED["short_vi"] in text or RENAMED["name_vi"] in text, path_
        text = open_page(client, "/targets", f"?period={MONTH}")[1]
        assert "Tiêm chủng mở rộng đầy đủ" in text  # a default short name follows the new name
        assert MINIMAL_SHORT["vi"] not in text
        assert client.get("/api/v1/indicators").get_json()["indicators"][-1]  # still answers
        listed = {i["code"]: i for i in client.get("/api/v1/indicators").get_json()["indicators"]}
        assert listed["kham_tu_xa"]["short_en"] == RENAMED["short_en"]
        assert listed["kham_tu_xa"]["unit_vi"] == FULL["unit_vi"]  # not in the file: kept
        for code in CODES:
            after = figures.figures(code, QUARTER, "district")[["code", "numerator", "denominator", "value",
                                                                "target"]].reset_index(drop=True)
            pd.testing.assert_frame_equal(after, before[code])
    finally:
        figures.set_engine(None)
        cache.clear()
        engine.dispose()


# --- one look in a real browser -----------------------------------------------------------------

def test_in_chromium_the_new_indicators_read_whole(tmp_path, page):
    """A live server (python app.py) over a database the department loaded through the command:
    the overview card, the scorecard and the wall of the new indicators, drawn by Chromium, with
    no console error (the `page` fixture fails on one), no error notice and no "nan"."""
    from tests.browser_helpers import LiveServer

    db_path = tmp_path / "so_y_te.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    try:
        load_department(engine, tmp_path, "xlsx")
    finally:
        figures.set_engine(None)
        cache.clear()
        engine.dispose()
    server = LiveServer(tmp_path, env_extra={"DATABASE_URL": f"sqlite:///{db_path}", "LOAD_DEMO": "false",
                                             "ANONYMOUS_READ": "true", "SECRET_KEY": "k" * 48})
    try:
        province = {c: expected(c, (MONTH,), "province").loc["01"] for c in CODES}
        for path, proof, shown in [
            ("/", "#kpi-value-kham_tu_xa", [FULL["short_vi"], vi_percent(province["kham_tu_xa"]["value"], 0)]),
            (f"/targets?period={MONTH}", f"text={MINIMAL_SHORT['vi']}", [FULL["short_vi"]]),
            ("/wall?indicators=tiem_chung", f"text={MINIMAL_SHORT['vi']}",
             [vi_percent(province["tiem_chung"]["value"], 1)]),
        ]:
            response = page.goto(server.url + path)
            assert response.status == 200, path
            page.wait_for_selector(proof, timeout=30_000)
            page.wait_for_timeout(300)
            text = page.inner_text("body")
            for words in shown:
                assert words in text, (path, words)
            assert_clean([text], f"chromium {path}")
    finally:
        server.stop()
