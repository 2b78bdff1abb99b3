"""`dashboard briefing`: the monthly pack rendered on the server (kaleido + Chromium), with no
browser session: valid PNGs of the right size that are not blank, and a PDF of every slide."""
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
SLIDES = 1 + len(HEADLINES) + 1 + 1  # overview, maps, scorecard, units behind


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


def test_briefing_writes_pngs_and_a_pdf(demo_db, tmp_path):
    need_chromium()
    from pypdf import PdfReader

    pngs, pdf_path = write_pack("2026-10", None, "vi", tmp_path)
    assert pngs == sorted(tmp_path.glob("*.png"))
    assert len(pngs) == SLIDES
    root = figures.root_code()
    names = [p.name for p in pngs]
    assert names[0] == f"01_overview_{root}_2026-10.png"
    for code in HEADLINES:
        assert any(n.endswith(f"_{code}_{root}_2026-10.png") for n in names), names
    for path in pngs:
        assert_real_picture(path)
    pdf = tmp_path / f"briefing_{root}_2026-10.pdf"
    assert pdf_path == pdf
    reader = PdfReader(pdf)
    assert len(reader.pages) == SLIDES
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) / float(box.height) == pytest.approx(16 / 9, rel=0.01)


def test_briefing_for_one_zone(demo_db, tmp_path):
    need_chromium()
    from pypdf import PdfReader

    zone = figures.units().query("level == 'district'")["code"].iloc[0]
    write_pack("2026-10", zone, "en", tmp_path)
    assert len(PdfReader(tmp_path / f"briefing_{zone}_2026-10.pdf").pages) == SLIDES
    assert all(f"_{zone}_2026-10" in p.name for p in tmp_path.glob("*.png"))


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
    out = subprocess.run([sys.executable, "-m", "dashboard", "briefing", "--period", "2026-10", "--out",
                          str(tmp_path / "pack")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "pack").glob("*.png"))) == SLIDES
    assert len(list((tmp_path / "pack").glob("*.pdf"))) == 1
