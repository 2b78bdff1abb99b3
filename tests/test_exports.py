"""Briefing exports: the download button's settings, pictures that stand on their own, and the
/export routes (PNG rendered on the server, CSV/XLSX with the same figures as the pages)."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from dashboard import cache, captions, exports, figures, table
from dashboard.config import load_settings
from dashboard.i18n import t
from dashboard.database import make_engine

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def need_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")


@pytest.fixture
def client(demo_db):
    app = Flask("exports-test")
    cache.init_cache(app, load_settings())
    exports.register(app)
    return app.test_client()


def independent(demo, indicator: str, month: str, reporters) -> tuple[float, float]:
    """sum(N), sum(D) over the entities expected to report `indicator` in `month` (one month:
    stock and flow agree). `reporters` is a unit level or a tuple of facility types."""
    if isinstance(reporters, tuple):
        allowed = set(demo.facilities[demo.facilities["type"].isin(reporters)]["code"])
    else:
        allowed = set(demo.units[demo.units["level"] == reporters]["code"])
    rows = demo.values[(demo.values["indicator"] == indicator) & (demo.values["period"] == month)
                       & demo.values["entity_code"].isin(allowed)]
    return rows["numerator"].sum(), rows["denominator"].sum()


# --- helpers for pages ---------------------------------------------------------------------

def test_download_button_gives_a_named_1920x1080_png_at_scale_2():
    config = captions.graph_config("hssk_31_2026-10")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "hssk_31_2026-10", "width": 1920,
                                              "height": 1080, "scale": 2}


@pytest.mark.parametrize("parts,expected", [
    (("hssk", "31", "2026-10"), "hssk_31_2026-10.png"),
    (("tthc_online", "288", "2026-Q3"), "tthc_online_288_2026-Q3.png"),
    (("a/b", "../x", "2026 10"), "a-b_x_2026-10.png"),
])
def test_export_file_names(parts, expected):
    assert captions.export_filename(*parts, ext="png") == expected


def test_a_picture_carries_its_own_caption(demo_db):
    import plotly.graph_objects as go

    fig = captions.annotate_for_export(go.Figure(go.Bar(x=[1], y=[2])), title="Hồ sơ sức khỏe điện tử",
                                      subtitle="Thành phố Hải Phòng · 10/2026", source="KH 215/KH-UBND",
                                      lang="vi", notes=["tham số sai"])
    texts = [fig.layout.title.text] + [a.text for a in fig.layout.annotations]
    joined = " | ".join(texts)
    for expected in ("Hồ sơ sức khỏe điện tử", "Thành phố Hải Phòng · 10/2026", "Nguồn: KH 215/KH-UBND",
                     "Số liệu đến tháng 10/2026", "Dữ liệu minh họa", "tham số sai"):
        assert expected in joined, expected
    assert (fig.layout.width, fig.layout.height) == (1920, 1080)
    assert "Be Vietnam Pro" in fig.layout.font.family


# --- data downloads ------------------------------------------------------------------------

def test_page_data_csv_has_the_same_figures(client, demo_data):
    resp = client.get("/export/data.csv", query_string={"period": "2026-10"})
    assert resp.status_code == 200
    root = figures.root_code()
    assert f'filename="all_{root}_2026-10.csv"' in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads the diacritics
    frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype={"Mã đơn vị": str})
    assert len(frame) == len(figures.indicators())
    assert set(frame["Mã đơn vị"]) == {root}
    for code, reporters in (("hssk", "commune"), ("emr", ("hospital", "health_centre"))):
        num, den = independent(demo_data, code, "2026-10", reporters)
        row = frame[frame["Mã chỉ tiêu"] == code].iloc[0]
        assert row["Tử số"] == pytest.approx(num)
        assert row["Mẫu số"] == pytest.approx(den)
        assert row["Giá trị (%)"] == pytest.approx(round(100 * num / den, 1), abs=1e-9)  # as on screen


def test_one_indicator_by_zone_has_the_same_columns_as_every_download(client, demo_data):
    resp = client.get("/export/data.csv", query_string={"indicator": "hssk", "period": "2026-10", "level": "district"})
    assert resp.status_code == 200
    frame = pd.read_csv(io.BytesIO(resp.get_data()), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == [c.header("vi") for c in table.COLUMNS]
    frame.columns = list(table.KEYS)
    zones = demo_data.units[(demo_data.units["level"] == "district") & demo_data.units["valid_to"].isna()]
    assert set(frame["code"]) == set(zones["code"].astype(str))  # today's zones: old districts ended 2025-06
    # the zones add up to the province: a rate over places is sum/sum, never a mean of rates
    num, den = independent(demo_data, "hssk", "2026-10", "commune")
    assert frame["numerator"].astype(float).sum() == pytest.approx(num)
    assert frame["denominator"].astype(float).sum() == pytest.approx(den)
    assert set(frame["demo"]) == {t("word_yes", "vi")}


def test_scorecard_data_is_every_indicator_for_every_unit(client, demo_data):
    resp = client.get("/export/data.csv", query_string={"period": "2026-10", "level": "district", "lang": "en"})
    assert resp.status_code == 200
    frame = pd.read_csv(io.BytesIO(resp.get_data()), encoding="utf-8-sig", dtype={"Unit code": str})
    zones = set(demo_data.units[(demo_data.units["level"] == "district") & demo_data.units["valid_to"].isna()]
                ["code"].astype(str))
    assert set(frame["Unit code"]) == zones
    assert len(frame) == len(zones) * len(figures.indicators())
    hssk = frame[frame["Indicator code"] == "hssk"]
    num, den = independent(demo_data, "hssk", "2026-10", "commune")
    assert hssk["Numerator"].sum() == pytest.approx(num) and hssk["Denominator"].sum() == pytest.approx(den)


def test_xlsx_download(client):
    from openpyxl import load_workbook

    resp = client.get("/export/data.xlsx", query_string={"period": "2026-10", "lang": "en"})
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.get_data()))
    sheet = book[t("exp2_sheet_data", "en")]
    header = [c.value for c in sheet[1]]
    assert header == [c.header("en") for c in table.COLUMNS]
    assert sheet.max_row == 1 + len(figures.indicators())
    notes = [r[1].value for r in book[t("exp2_sheet_notes", "en")].iter_rows(min_row=1)]
    assert any("Illustrative" in str(v) for v in notes)


@pytest.mark.parametrize("query", [{"indicator": "nope"}, {"period": "2026-13"}, {"parent": "99999"},
                                   {"indicator": "hssk", "level": "planet"}, {"indicator": "\n"},
                                   {"level": "\x00"}, {"unit": ["288", "290"]}])
def test_bad_parameters_give_the_default_and_say_so(client, query):
    for ext in ("csv", "xlsx"):
        resp = client.get(f"/export/data.{ext}", query_string=query)
        assert resp.status_code == 200
        warning = resp.headers.get("X-Dashboard-Warning")
        assert warning and warning.isascii() and "\n" not in warning and "\x00" not in warning
        assert b"Traceback" not in resp.get_data()


def test_vietnamese_is_written_without_diacritics_in_ascii():
    assert exports._ascii("Đường đến Hải Phòng “Quá hạn – chưa đạt” … Ưu tiên: ờ ở ỡ ợ ×2") == \
        'Duong den Hai Phong "Qua han - chua dat" ... Uu tien: o o o o x2'


def test_the_warning_header_reads_in_vietnamese_and_english_without_the_users_text(client):
    resp = client.get("/export/data.csv", query_string={"indicator": "hssk", "level": "hành tinh", "period": "2099-01"})
    assert resp.status_code == 200
    warning = resp.headers["X-Dashboard-Warning"]
    assert warning.isascii()
    period, level = warning.split(" | ")
    allowed = "province, district, commune, facility"  # the demo's levels, top down, and its facilities
    assert level == f'cap "?" khong hop le (chi nhan: {allowed}) / invalid level "?" (allowed: {allowed})'
    latest = figures.latest_month("hssk")
    shown = f"{latest[5:]}/{latest[:4]}"
    assert period == (f'ky bao cao "?" sau thang co so lieu moi nhat ({shown}), dang hien thi thang {shown} / '
                      f'period "?" is after the latest month with data ({shown}); showing {shown}')
    assert "hanh" not in warning and "2099" not in warning  # what the user typed is never echoed


@pytest.mark.parametrize("path", ["/export/data.pdf", "/export/nothing.png"])
def test_unknown_exports_are_a_plain_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.mimetype == "text/plain" and b"Traceback" not in resp.get_data()


def test_a_database_failure_is_a_friendly_503(client, tmp_path):
    figures.set_engine(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))  # no tables at all
    cache.clear()
    resp = client.get("/export/data.csv")
    assert resp.status_code == 503
    text = resp.get_data(as_text=True)
    assert "thử lại" in text and "try again" in text and "Traceback" not in text


# --- pictures rendered on the server -----------------------------------------------------------

def assert_png(body: bytes):
    from PIL import Image, ImageStat

    im = Image.open(io.BytesIO(body))
    assert im.format == "PNG" and im.size == (3840, 2160)
    assert max(ImageStat.Stat(im.convert("RGB")).stddev) > 20
    assert len(im.convert("RGB").resize((480, 270)).getcolors(480 * 270)) > 100


@pytest.mark.parametrize("slide,query,name", [
    ("chart", {"indicator": "hssk", "period": "2026-10"}, "hssk_{root}_2026-10.png"),
    ("overview", {"period": "2026-10", "lang": "en"}, "overview_{root}_2026-10.png"),
    ("map", {"indicator": "emr", "period": "2026-10"}, "emr_{root}_2026-10.png"),
    ("completeness", {"period": "2026-10"}, "completeness_{root}_2026-10.png"),
    ("scorecard", {"period": "2026-10", "level": "commune"}, "scorecard-commune_{root}_2026-10.png"),
    ("units_behind", {"period": "2026-10"}, "units-behind_{root}_2026-10.png"),
    ("chart", {"indicator": "bogus", "period": "1999-99"}, "hssk_{root}_2026-10.png"),  # defaults, noted in the image
])
def test_png_routes(client, slide, query, name):
    need_chromium()
    resp = client.get(f"/export/{slide}.png", query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    root = figures.root_code()
    expected = name.format(root=root) if "bogus" not in query.get("indicator", "") else \
        f"{figures.headline_codes()[0]}_{root}_2026-10.png"
    assert f'filename="{expected}"' in resp.headers["Content-Disposition"]
    assert_png(resp.get_data())


@pytest.mark.browser
def test_every_page_offers_image_and_data_exports(live_server, page):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#kpi-export-hssk", timeout=30_000)
    href = page.get_attribute("#kpi-export-hssk", "href")
    assert href.startswith("/export/chart.png?") and "indicator=hssk" in href
    for selector in ("#export-png-overview", "#export-csv-overview", "#export-xlsx-overview"):
        assert page.is_visible(selector)
    csv = page.request.get(live_server.url + page.get_attribute("#export-csv-overview", "href"))
    assert csv.ok and csv.body().startswith(b"\xef\xbb\xbf")
    png = page.request.get(live_server.url + href)
    assert png.ok and png.headers["content-type"] == "image/png"
    assert_png(png.body())
    # the browser's Print: A4 landscape, controls hidden
    page.emulate_media(media="print")
    assert not page.is_visible("#export-png-overview")
    assert not page.is_visible(".navbar")
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    from pypdf import PdfReader

    first = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert float(first.width) > float(first.height)


@pytest.mark.browser
def test_image_export_shows_that_it_is_working(live_server, page):
    """'Xuất ảnh' goes disabled with a spinner and 'Đang tạo ảnh…' while the server renders the
    PNG (seconds for the first one), then saves it under the server's name and comes back."""
    page.goto(live_server.url + "/")
    page.wait_for_selector("#export-png-overview", timeout=30_000)
    page.evaluate("""() => { const a = document.querySelector('#export-png-overview'); window.__seen = [];
        new MutationObserver(() => window.__seen.push({busy: a.classList.contains('is-busy'),
            aria: a.getAttribute('aria-busy'), text: a.textContent, spinner: !!a.querySelector('.spinner-border')}))
            .observe(a, {attributes: true, childList: true, subtree: true}); }""")
    with page.expect_download(timeout=60_000) as download:
        page.click("#export-png-overview")
    assert download.value.suggested_filename.startswith("overview_") and \
        download.value.suggested_filename.endswith(".png")
    page.wait_for_selector("#export-png-overview:not(.is-busy)", timeout=10_000)
    seen = page.evaluate("window.__seen")
    assert any(s["busy"] and s["aria"] == "true" and s["spinner"] and "Đang tạo ảnh" in s["text"] for s in seen), seen
    assert page.text_content("#export-png-overview") == "Xuất ảnh"
    assert page.get_attribute("#export-png-overview", "aria-busy") is None
