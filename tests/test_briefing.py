"""`dashboard briefing`: the monthly pack rendered on the server (kaleido + Chromium), with no
browser session: valid PNGs of the right size that are not blank, and a vector PDF of every
slide (16:9 or A4) whose text can be extracted with its Vietnamese diacritics, listing every
unit behind target with its gap in real units, and a progress line per slide."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard import figures

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HEADLINES = ["emr", "cashless", "hssk", "tthc_online"]  # written out: the pack has one map each
FIXED = 1 + len(HEADLINES) + 1  # overview, maps, scorecard; then the units behind, on as many slides as needed
SQLITE_ONLY = pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def need_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")


def assert_real_picture(path: Path, size=(3840, 2160)):
    from PIL import Image, ImageStat

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size == size
        rgb = im.convert("RGB")
        small = rgb.resize((480, 270))
        colours = small.getcolors(maxcolors=480 * 270)
        assert len(colours) > 200, f"{path.name}: only {len(colours)} colours"
        assert max(ImageStat.Stat(rgb).stddev) > 20, f"{path.name} looks blank"
        # not a frame around nothing: the middle of the slide has ink too
        middle = rgb.crop((960, 540, 2880, 1620)).resize((240, 135))
        assert max(ImageStat.Stat(middle).stddev) > 10, f"{path.name}: empty middle"


def run_briefing(args, engine=None):
    from dashboard.cli import main

    database = ["--database", engine.url.render_as_string(hide_password=False)] if engine is not None else []
    return CliRunner().invoke(main, [*database, "briefing", *args], catch_exceptions=False)


def write_pack(period, unit, lang, out):
    """The command's work, in this process, on the test database (SQLite or PostgreSQL schema)."""
    from dashboard.cli.briefing import write_briefing

    return write_briefing(period, unit, lang, out)


@SQLITE_ONLY
def test_briefing_writes_pngs_and_a_pdf(demo_db, tmp_path):
    need_chromium()
    from pypdf import PdfReader

    pngs, pdf_path = write_pack("2026-10", None, "vi", tmp_path)
    assert pngs == sorted(tmp_path.glob("*.png"))
    n = len(pngs)
    assert n > FIXED  # at least one slide of units behind
    root = figures.root_code()
    names = [p.name for p in pngs]
    assert names[0] == f"01_overview_{root}_2026-10.png"
    for code in HEADLINES:
        assert any(n_.endswith(f"_{code}_{root}_2026-10.png") for n_ in names), names
    for path in pngs:
        assert_real_picture(path)
    pdf = tmp_path / f"briefing_{root}_2026-10.pdf"
    assert pdf_path == pdf
    reader = PdfReader(pdf)
    assert len(reader.pages) == n
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) / float(box.height) == pytest.approx(16 / 9, rel=0.01)
    assert pdf.stat().st_size < 3_000_000  # vector pages, not 3840×2160 pictures
    text = pdf_text(pdf)
    for words in ("Tổng quan chỉ tiêu chuyển đổi số y tế", "Hồ sơ sức khỏe điện tử", "Đơn vị chậm nhất so với mục tiêu",
                  "Quá hạn – chưa đạt", "Ngoài khung bản đồ (xem bảng)"):
        assert words in text, words


def test_every_unit_behind_is_in_the_pack_with_its_gap_in_people(demo_db, demo_data, tmp_path):
    """No cap: every zone behind on every headline indicator is listed on the units-behind
    slides, and hssk's gaps are in people, equal to target × D − N from the raw values."""
    import math

    from dashboard import slides

    plan = slides.briefing_plan("2026-10", None, "vi")
    behind_slides = [(k, b) for k, _, b in plan if k.startswith("units_behind")]
    listed: dict[str, list[tuple[str, str]]] = {}
    for _, build in behind_slides:
        table = build().data[0]
        indicator = None
        for ind_cell, unit_cell, gap_cell in zip(table.cells.values[0], table.cells.values[1],
                                                 table.cells.values[4]):
            if ind_cell:
                indicator = ind_cell.split("<br>")[0].replace("<b>", "").replace("</b>", "").split(" (")[0]
            if gap_cell:
                listed.setdefault(indicator, []).append((unit_cell, gap_cell))
    for code in HEADLINES:
        name = figures.name_of_indicator(code, "vi", short=True)
        frame = figures.figures(code, "2026-10", "district", figures.root_code())
        behind = set(frame[frame["status"].isin(("overdue", "off_track", "at_risk"))]["name"])
        assert {u for u, _ in listed.get(name, [])} == behind, code
        assert not any(u.startswith("+") for u, _ in listed.get(name, []))  # nothing left off
    # hssk: people short of 95 %, from the demo's raw values (sum over the zone's communes)
    units, values = demo_data.units, demo_data.values
    zone_of = dict(zip(units["code"], units["parent_code"]))
    zone_name = dict(zip(units["code"], units["name"]))
    rows = values[(values["indicator"] == "hssk") & (values["period"] == "2026-10")]
    rows = rows[rows["entity_code"].map(lambda c: c in zone_of)].copy()
    rows["zone"] = rows["entity_code"].map(zone_of)
    sums = rows.groupby("zone")[["numerator", "denominator"]].sum()
    hssk = dict(listed[figures.name_of_indicator("hssk", "vi", short=True)])
    assert len(hssk) >= 5
    for zone, gap in hssk.items():
        code = next(c for c, n in zone_name.items() if n == zone)
        short = 0.95 * sums.loc[code, "denominator"] - sums.loc[code, "numerator"]
        assert gap.startswith("còn thiếu ") and " người để đạt 95" in gap, gap
        said = int(gap.split("còn thiếu ")[1].split(" người")[0].replace(".", ""))
        assert abs(said - short) <= 1, (zone, said, short)


@SQLITE_ONLY
def test_a4_pack_has_a4_pages_with_real_text_and_says_how_far_it_got(demo_db, tmp_path):
    need_chromium()
    import io

    from pypdf import PdfReader

    from dashboard.cli.briefing import write_briefing

    log = io.StringIO()
    pngs, pdf = write_briefing("2026-10", None, "en", tmp_path, paper="a4", png=False, progress=log)
    assert pngs == [] and not list(tmp_path.glob("*.png"))
    reader = PdfReader(pdf)
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((841.89, 595.28), abs=0.5)
    text = pdf_text(pdf)
    assert "Electronic health records" in text or "health record" in text.lower()
    assert "Thành phố Hải Phòng" in text and "Khu vực Thanh Miện" in text  # names keep their diacritics
    lines = [ln for ln in log.getvalue().splitlines() if ln.startswith("Slide ")]
    assert [ln.split(" · ")[0] for ln in lines] == [f"Slide {i}/{len(reader.pages)}" for i in
                                                     range(1, len(reader.pages) + 1)]


@SQLITE_ONLY
def test_briefing_for_one_zone(demo_db, tmp_path):
    need_chromium()
    from pypdf import PdfReader

    from dashboard.cli.briefing import write_briefing

    zone = figures.units().query("level == 'district'")["code"].iloc[0]
    write_briefing("2026-10", zone, "en", tmp_path, png=False)
    assert len(PdfReader(tmp_path / f"briefing_{zone}_2026-10.pdf").pages) > FIXED


@pytest.mark.parametrize("args,word", [(["--period", "2026-13"], "--period"), (["--period", "2026-10", "--unit", "nope"], "--unit")])
def test_bad_arguments_are_named(demo_engine, tmp_path, args, word):
    result = run_briefing([*args, "--out", str(tmp_path)], demo_engine)
    assert result.exit_code == 2
    assert word in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*"))


def test_the_shipped_font_has_vietnamese_and_reaches_chromium():
    """The TTFs in assets/ carry the Vietnamese glyphs, and the fontconfig file we hand to the
    renderer's Chromium resolves 'Be Vietnam Pro' to them."""
    from PIL import ImageFont

    from dashboard.render import FONT_DIR, fontconfig_file

    ttf = FONT_DIR / "BeVietnamPro_400Regular.ttf"
    font = ImageFont.truetype(str(ttf), 48)
    missing = font.getmask("\U0010fffd").getbbox()  # a private-use code point: the .notdef box
    for char in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐơưƠƯ":
        assert font.getmask(char).getbbox() != missing, f"no glyph for {char!r}"
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file())}
    out = subprocess.run(["fc-match", "-f", "%{file}", "Be Vietnam Pro:weight=bold"], env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0 and "No such file" in out.stderr:
        pytest.skip("fc-match not installed")
    assert out.stdout.startswith(str(FONT_DIR)), out.stdout


def test_briefing_runs_as_a_command(tmp_path):
    """`python -m dashboard briefing` in a fresh process on its own SQLite file (first start loads the demo)."""
    need_chromium()
    db = tmp_path / "b.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    prep = subprocess.run([sys.executable, "-c", "from dashboard.database import make_engine;"
                           "from dashboard.bootstrap import prepare_database;"
                           f"prepare_database(make_engine('sqlite:///{db}'), load_demo=True)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert prep.returncode == 0, prep.stderr
    out = subprocess.run([sys.executable, "-m", "dashboard", "briefing", "--period", "2026-10", "--no-png",
                          "--paper", "a4", "--out", str(tmp_path / "pack")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert not list((tmp_path / "pack").glob("*.png"))
    pdfs = list((tmp_path / "pack").glob("*.pdf"))
    assert len(pdfs) == 1
    pages = len(__import__("pypdf").PdfReader(pdfs[0]).pages)
    assert pages > FIXED
    # a line per slide on stderr, as it goes
    assert [ln.split(" · ")[0] for ln in out.stderr.splitlines() if ln.startswith("Trang ")] == \
        [f"Trang {i}/{pages}" for i in range(1, pages + 1)]
