"""Issue 15's remaining promises, each pinned on the demo: titles translated, the phone's
navigation collapsed, caveats on figures judged on incomplete reporting, exports that say what
the page shows, a period after the latest data, the same gap words everywhere."""
from __future__ import annotations

import pytest

# --- in Chromium --------------------------------------------------------------------------------

@pytest.mark.browser
def test_page_titles_follow_the_language(live_server, page):
    from dashboard.i18n import t

    for path in ("/", "/map", "/targets", "/unit/288", "/wall"):
        page.goto(live_server.url + path + "?lang=en")
        page.wait_for_function("document.title.indexOf('Executive dashboard') >= 0", timeout=30000)
        title = page.title()
        assert t("app_title", "en") in title and "Sở Y tế" not in title and " — " in title, (path, title)
        page.goto(live_server.url + path)
        page.wait_for_function("document.title.indexOf('Dashboard chỉ đạo') >= 0", timeout=30000)


@pytest.mark.browser
def test_phone_navigation_collapses(live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=3, bypass_csp=True)
    try:
        tab = context.new_page()
        for path in ("/", "/map", "/targets", "/unit/288"):
            tab.goto(live_server.url + path)
            tab.wait_for_selector("#nav-toggler", timeout=30000)
            tab.wait_for_selector("main", timeout=30000)
            tab.wait_for_timeout(500)
            height = tab.evaluate("() => document.querySelector('.navbar').getBoundingClientRect().bottom")
            assert height < 0.20 * 844, (path, height)
            tab.click("#nav-toggler")  # and the collapsed links open on a tap
            tab.wait_for_selector("#nav-collapse.show", timeout=10000)
    finally:
        context.close()


# --- a figure judged on incomplete reporting says so ------------------------------------------------

def _zones_judged_on_part(demo_data, indicator="hssk", month="2026-10"):
    from tests.target_helpers import rollup

    zones = rollup(demo_data, indicator, [month], "district")
    return zones[(zones["reported"] > 0) & (zones["reported"] < zones["expected"])]


def test_partial_reporting_rule():
    from dashboard import wording

    ind = {"reported_by": ("commune",)}
    row = {"status": "achieved", "reported": 3, "expected": 4}
    assert wording.partial_reporting(row)
    assert wording.partial_caveat(row, ind, "vi") == "chỉ 3/4 xã/phường báo cáo"
    assert wording.status_with_caveat(row, ind, "vi") == "Đạt (chỉ 3/4 xã/phường báo cáo)"
    assert not wording.partial_reporting({**row, "reported": 4})
    assert not wording.partial_reporting({"status": "no_data", "reported": 0, "expected": 4})
    assert not wording.partial_reporting({"status": "no_target", "reported": 3, "expected": 4})
    assert wording.partial_caveat({**row, "reported": 4}, ind, "vi") == ""


def test_zones_judged_on_part_of_their_communes_carry_the_caveat(demo_db, demo_data):
    from dashboard import figures, maps, scorecard, slides
    from tests.target_helpers import by_id, import_pages, text_of
    from tests.test_map_page import _walk, map_page, map_state

    part = _zones_judged_on_part(demo_data)
    assert len(part) >= 3  # the demo has zones 'Đạt' on 3 of 4 communes
    ind = figures.indicator("hssk")
    frame = figures.figures("hssk", "2026-10", "district", figures.root_code()).set_index("code")
    table = map_page().figures_table(frame.reset_index(), ind, map_state("hssk", "2026-10"))
    rows = {str(n.id)[len("map-row-"):]: n for n in _walk(table) if str(getattr(n, "id", "")).startswith("map-row-")}
    targets, unit = import_pages()
    cells = scorecard.cells("2026-10", "district", indicators=["hssk"]).set_index("code")
    for code, z in part.iterrows():
        caveat = f"chỉ {int(z['reported'])}/{int(z['expected'])} xã/phường báo cáo"
        assert caveat in text_of(rows[code])                                        # map table
        assert caveat in maps.hover_text(frame.loc[code].to_dict() | {"code": code}, ind, "vi")  # map hover
        ids = by_id(unit.layout(code=code, period="2026-10"))
        assert caveat in text_of(ids["unit-caveat-hssk"])                            # unit page
        cell = targets.status_cell(cells.loc[code].to_dict(), ind, "vi")
        assert caveat in text_of(cell) and caveat in cell.title                      # scorecard cell
    full = [c for c in frame.index if c not in part.index and frame.loc[c, "expected"] > 0]
    assert full and all("báo cáo" not in text_of(rows[c]).split("%")[-1] or "chỉ" not in text_of(rows[c])
                        for c in full)
    # the wall's and the briefing's cards: the province is judged on what reported too
    province = slides.card("hssk", "2026-10", figures.root_code(), "vi")
    row = figures.headline("hssk", "2026-10", figures.root_code()).row
    if 0 < int(row["reported"]) < int(row["expected"]):
        assert province.caveat == f"chỉ {int(row['reported'])}/{int(row['expected'])} xã/phường báo cáo"
    zone = slides.card("hssk", "2026-10", part.index[0], "vi")
    assert zone.caveat.startswith("chỉ ")
    from dashboard import request

    image, _name = slides.slide_for_export("unit", request.read("export", {"unit": part.index[0], "period": "2026-10"}))
    assert "⚠ C" + zone.caveat[1:] in _texts(image)  # the unit's image card says it too
    # the wall's and the briefing's lists of units behind
    block = slides.units_behind("hssk", "2026-10", figures.root_code(), "vi", level="district")
    for r in block["rows"]:
        if r["code"] in part.index:
            z = part.loc[r["code"]]
            assert r["caveat"] == f"chỉ {int(z['reported'])}/{int(z['expected'])} xã/phường báo cáo"
        else:
            assert r["caveat"] == ""
    assert any(r["caveat"] for r in block["rows"])
    import layouts.wall

    listed = text_of(layouts.wall._behind_block(block, "vi"))
    assert all(r["caveat"] in listed for r in block["rows"])
    fig = slides.units_behind_figure([block], figures.root_code(), "10/2026", "vi")
    cells = "\n".join(str(v) for tr in fig.data if tr.type == "table" for col in tr.cells.values for v in col)
    assert all(r["caveat"] in cells for r in block["rows"])


# --- images and exports say what the page shows, for the unit shown ---------------------------------

def _texts(fig) -> str:
    return "\n".join(str(a.text) for a in fig.layout.annotations or ())


def test_unit_page_image_is_the_units_own_cards(demo_db, demo_data):
    from dashboard import figures, request, slides
    from dashboard import formatting as fmt
    from dashboard.i18n import t
    from tests.target_helpers import by_id, import_pages, rollup, vi_percent

    _targets, unit = import_pages()
    zone = "288"
    ids = by_id(unit.layout(code=zone, period="2026-10"))
    link = ids["export-png-unit"].href
    assert link.startswith("/export/unit.png?") and f"unit={zone}" in link
    assert f"unit={zone}" in ids["export-csv-unit"].href
    shown = sorted(k[len("unit-ind-"):] for k in ids if k.startswith("unit-ind-"))
    fig, name = slides.slide_for_export("unit", request.read("export", {"unit": zone, "period": "2026-10"}))
    text = _texts(fig)
    names = [figures.name_of_indicator(c, "vi", short=True) for c in shown]
    assert all(f"<b>{n}</b>" in text for n in names), (names, text)
    assert text.count("</b>") >= len(shown)
    assert t("exp2_not_expected", "vi") not in text and zone in name
    # only what the page shows: the indicators nobody in the zone reports are not drawn
    hidden = [c for c in figures.indicators()["code"] if c not in shown]
    assert hidden and not any(f"<b>{figures.name_of_indicator(c, 'vi', short=True)}</b>" in text for c in hidden)
    # the zone's own values (independent roll-up), the off-track and overdue ones among them
    for code in shown:
        value = rollup(demo_data, code, ["2026-10"], "district").loc[zone, "value"]
        target = fmt.as_number(figures.figures(code, "2026-10", "district").set_index("code").loc[zone, "target"])
        assert f"<b>{vi_percent(value, target)}</b>" in text, code
    off = [c for c in shown if "unit-status-" + c in ids
           and ids["unit-status-" + c].className.split()[-1] in ("status-off_track", "status-overdue")]
    assert off, "zone 288 has indicators behind in the demo"


def test_zone_map_image_names_the_zones_value_as_the_zones(demo_db, demo_data):
    from dashboard import figures, request, slides
    from tests.target_helpers import rollup, vi_percent

    zone = next(iter(_zones_judged_on_part(demo_data).index))
    fig, _name = slides.slide_for_export("map", request.read("export", {"unit": zone, "period": "2026-10",
                                                                        "indicator": "hssk"}))
    text = _texts(fig)
    name = figures.entity(zone)["name"]
    value = rollup(demo_data, "hssk", ["2026-10"], "district").loc[zone, "value"]
    assert f"{name}: <b>" in text and "Toàn tỉnh/TP" not in text
    assert f"{name}: <b>{vi_percent(value, 95.0)}</b>" in text


def test_scorecard_export_keeps_not_applicable(demo_db):
    import csv
    import io

    import openpyxl

    from dashboard import figures
    from tests.app_helpers import web_app
    from tests.target_helpers import by_id, import_pages

    targets, _unit = import_pages()
    ids = by_id(targets.layout(period="2026-10"))
    client = web_app().server.test_client()
    grid = by_id(targets.layout(period="2026-10"), "sc-cell-") or {}
    for ext in ("csv", "xlsx"):
        link = ids[f"export-{ext}-scorecard"].href
        body = client.get(link).data
        if ext == "csv":
            rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
            values = list(sheet.iter_rows(values_only=True))
            head = next(i for i, r in enumerate(values) if r and "Tình trạng (chữ)" in r)
            rows = [dict(zip(values[head], r)) for r in values[head + 1:] if any(r)]
        na = [r for r in rows if str(r["Phải báo cáo"]) in ("0", "0.0")]
        assert na, ext
        assert all(r["Tình trạng (chữ)"] == "Không áp dụng" for r in na), ext
        assert not any(r["Tình trạng (chữ)"] == "Chưa báo cáo" and str(r["Phải báo cáo"]) in ("0", "0.0")
                       for r in rows)
        # the not-applicable pairs are those the scorecard leaves out (nobody reports there)
        zones = figures.figures("tthc_online", "2026-10", "district", figures.root_code())
        assert int(zones["expected"].sum()) == 0
        assert {r["Mã đơn vị"] for r in na if r["Mã chỉ tiêu"] == "tthc_online"} == set(zones["code"])
    assert grid is not None


# --- a period after the latest data: a warning and the latest month, everywhere ----------------------

def test_a_period_after_the_latest_data_warns_and_shows_the_latest_month(demo_db):
    import dash

    from dashboard import figures
    from tests.app_helpers import web_app
    from tests.target_helpers import import_pages, text_of, walk

    web_app()
    import_pages()
    import layouts.map
    import layouts.overview
    import layouts.wall

    latest = figures.latest_month()
    shown = f"{latest[5:]}/{latest[:4]}"
    future = "2030-01"
    pages = {"overview": (dash.page_registry["layouts.overview"]["layout"], {}),
             "map": (layouts.map.layout, {}), "targets": (dash.page_registry["layouts.targets"]["layout"], {}),
             "unit": (dash.page_registry["layouts.unit"]["layout"], {"code": "288"}),
             "wall": (layouts.wall.layout, {})}
    for name, (layout, extra) in pages.items():
        tree = layout(period=future, **extra)
        notes = [text_of(c) for c in walk(tree)
                 if {"param-warning", "wall-notes"} & set((getattr(c, "className", "") or "").split())]
        said = [n for n in notes if future in n and shown in n]
        assert said, (name, notes)
        assert "01/2030" not in text_of(tree), name
    client = web_app().server.test_client()
    for url in (f"/export/data.csv?period={future}", f"/export/data.xlsx?period={future}",
                f"/export/data.csv?unit=288&period={future}"):
        response = client.get(url)
        assert response.status_code == 200 and "after the latest month" in response.headers["X-Dashboard-Warning"]
        if ".csv?" in url:
            assert f",{latest}," in response.get_data(as_text=True).replace('"', "")
    from dashboard import request, slides

    for slide in ("map", "unit", "overview"):  # the images write the warning inside themselves
        fig, _name = slides.slide_for_export(slide, request.read("export", {"period": future, "unit": "288"}))
        assert any(future in n and shown in n for n in _texts(fig).split("\n")), slide
    # a past period on the wall is said to be ignored: the wall always shows the latest months
    tree = layouts.wall.layout(period="2025-01")
    assert "tháng có số liệu mới nhất" in text_of(next(c for c in walk(tree) if getattr(c, "id", "") == "wall-notes"))


# --- the gap: one sign and the same words on the wall, the briefing, the map and the pages -------------

def test_gap_has_one_sign_and_the_same_words_everywhere(demo_db, demo_data):
    import re

    from dashboard import figures, maps, slides
    from tests.target_helpers import by_id, import_pages, rollup, text_of, walk
    from tests.test_map_page import _walk, map_page, map_state

    _targets, unit = import_pages()  # a Dash app first, then the pages register
    import layouts.wall

    month = "2026-10"
    zones = rollup(demo_data, "hssk", [month], "district")
    behind = slides.units_behind("hssk", month, figures.root_code(), "vi", level="district")["rows"]
    assert behind
    frame = figures.figures("hssk", month, "district", figures.root_code()).set_index("code")
    table = map_page().figures_table(frame.reset_index(), figures.indicator("hssk"), map_state("hssk", month))
    cells = {str(n.id)[len("map-row-"):]: n for n in _walk(table) if str(getattr(n, "id", "")).startswith("map-row-")}
    briefing = "\n".join(str(v) for tr in slides.units_behind_figure([slides.units_behind(
        "hssk", month, figures.root_code(), "vi", level="district")], figures.root_code(), "10/2026", "vi").data
        if tr.type == "table" for col in tr.cells.values for v in col)
    for r in behind:
        z = zones.loc[r["code"]]
        short = round(0.95 * z["denominator"] - z["numerator"])  # people short of 95 %, by hand
        words = f"còn thiếu {short:,}".replace(",", ".") + " người để đạt 95\u00a0%"
        assert r["gap_text"] == words                                                  # the wall's list
        assert words in briefing                                                        # the briefing's table
        assert maps.gap_text(frame.loc[r["code"]].to_dict(), figures.indicator("hssk"), "vi").startswith(words)
        shortfall = next(n for n in _walk(cells[r["code"]]) if hasattr(n, "data-gap"))  # the map table
        assert float(getattr(shortfall, "data-gap")) > 0 and words in shortfall.title
        page = text_of(by_id(unit.layout(code=r["code"], period=month))["unit-gap-hssk"])
        assert page.lower().startswith(words)                                           # the unit page
    wall = text_of(layouts.wall.layout(indicators="hssk"))
    assert not re.search(r"(?<![\w/])[-−]\d", wall)  # no negative gap anywhere on the wall
    assert "còn thiếu" in wall
