"""``dashboard briefing``: the monthly briefing pack, rendered on the server.

    dashboard briefing --period 2026-10 [--unit CODE] [--lang vi|en] [--paper 16:9|a4] [--no-png] --out DIR

Writes one 1920×1080 PNG at scale 2 (3840×2160 pixels) per slide — the overview, a map per
headline indicator (the units behind named on it and listed beside it), the scorecard, every
unit behind target — and ``briefing_<unit>_<period>.pdf`` with every slide as one page. The
PDF is vector: each slide is rendered by kaleido to its own PDF (text stays text, so it can be
searched and copied, Vietnamese diacritics included) and the pages are merged with pypdf; on
A4 each slide is scaled onto a landscape A4 page. A line per slide on stderr says how far it
got. No browser session is needed: the figures come from the database (cached), kaleido
renders them with Debian's Chromium and the Be Vietnam Pro font shipped in assets/fonts/ttf,
offline.
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

import click

from . import pass_context

#: Page sizes in PDF points (1/72 inch), landscape.
PAPERS = {"16:9": None, "a4": (841.89, 595.28)}
#: Margin around a slide on a paper page, in points.
PAPER_MARGIN = 18.0


def merge_pdfs(pages: list[bytes], out: Path, paper: str = "16:9", title: str = "") -> None:
    """One PDF of the slides' PDFs (each one page, vector), as they are or scaled onto `paper`."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    writer = PdfWriter()
    size = PAPERS[paper]
    for body in pages:
        page = PdfReader(io.BytesIO(body)).pages[0]
        if size is None:
            writer.add_page(page)
            continue
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        scale = min((size[0] - 2 * PAPER_MARGIN) / width, (size[1] - 2 * PAPER_MARGIN) / height)
        sheet = PageObject.create_blank_page(width=size[0], height=size[1])
        dx, dy = (size[0] - width * scale) / 2, (size[1] - height * scale) / 2
        sheet.merge_transformed_page(page, Transformation().scale(scale, scale).translate(dx, dy))
        writer.add_page(sheet)
    if size is not None and hasattr(writer, "compress_identical_objects"):  # pypdf ≥ 4.3: fonts shared again
        writer.compress_identical_objects()
    writer.add_metadata({"/Title": title, "/Author": "Dashboard chỉ đạo điều hành", "/Creator": "sokyte-dashboard"})
    with open(out, "wb") as fh:
        writer.write(fh)


def write_briefing(period: str, unit: str | None, lang: str, out: Path, paper: str = "16:9", png: bool = True,
                   progress: TextIO | None = None,
                   say: Callable[[str], None] | None = None) -> tuple[list[Path], Path]:
    """Render the pack into `out`: the PNGs (unless png=False) and the PDF. A line per slide on
    `progress` (stderr by default): 'Trang 3/8 · map-cashless · 0,8 giây'."""
    from .. import figures, render, slides
    from ..captions import EXPORT_HEIGHT, EXPORT_SCALE, EXPORT_WIDTH, export_filename
    from ..formatting import number
    from ..i18n import t
    from ..periods import parse_period

    stream = progress if progress is not None else sys.stderr

    def line(text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the pack
            pass

    out.mkdir(parents=True, exist_ok=True)
    label = parse_period(period).label
    unit = unit or figures.root_code()
    started = time.perf_counter()
    line(t("exp2_cli_preparing", lang))
    plan = slides.briefing_plan(label, unit, lang)
    pngs: list[Path] = []
    pdfs: list[bytes] = []
    try:
        for number_, (key, filename, build) in enumerate(plan, start=1):
            began = time.perf_counter()
            figure = build()
            pdfs.append(render.render(figure, width=EXPORT_WIDTH, height=EXPORT_HEIGHT, scale=1, fmt="pdf"))
            if png:
                path = out / f"{number_:02d}_{filename}.png"
                path.write_bytes(render.render(figure, width=EXPORT_WIDTH, height=EXPORT_HEIGHT, scale=EXPORT_SCALE))
                pngs.append(path)
            line(t("exp2_cli_slide", lang, i=number_, n=len(plan), slide=key,
                   seconds=number(time.perf_counter() - began, 1, lang)))
    finally:
        render.stop()
    pdf = out / f"{export_filename('briefing', unit, label)}.pdf"
    merge_pdfs(pdfs, pdf, paper, title=f"{t('exp2_briefing_title', lang)} · {label}")
    line(t("exp2_cli_pdf", lang, pdf=pdf.name, paper=paper.upper(), n=len(pdfs),
           seconds=number(time.perf_counter() - started, 1, lang)))
    return pngs, pdf


def register(main: click.Group) -> None:
    @main.command("briefing")
    @click.option("--period", required=True, metavar="YYYY-MM",
                  help="Kỳ báo cáo / reporting period (YYYY-MM, YYYY-Qn or YYYY).")
    @click.option("--unit", default=None, metavar="CODE",
                  help="Đơn vị (mặc định toàn tỉnh) / unit code (default: the whole province).")
    @click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                  help="Ngôn ngữ / language.")
    @click.option("--paper", type=click.Choice(["16:9", "a4"], case_sensitive=False), default="16:9",
                  show_default=True, help="Khổ trang PDF / PDF page size (16:9 slides, or landscape A4).")
    @click.option("--png/--no-png", default=True, show_default=True,
                  help="Ghi cả ảnh PNG từng trang / also write a PNG per slide.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Thư mục ghi ảnh và PDF / folder for the PNGs and the PDF.")
    @pass_context
    def briefing(ctx, period: str, unit: str | None, lang: str, paper: str, png: bool, out_dir: Path) -> None:
        """Xuất bộ ảnh giao ban tháng (PNG + PDF) / render the monthly briefing pack (PNG + PDF)."""
        from .. import request
        from ..i18n import t
        from ..render import RenderError

        ctx.engine  # noqa: B018 - points dashboard.figures at the configured database
        req = request.read("briefing", {"period": period, "unit": unit, "lang": lang})
        for problem in req.problems:
            raise click.BadParameter(problem.bilingual(), param_hint=f"--{problem.parameter}")
        started = time.perf_counter()
        try:
            pngs, pdf = write_briefing(req.period_label, req.unit, req.lang, out_dir, paper=paper.lower(), png=png)
        except RenderError as exc:
            raise click.ClickException(str(exc)) from None
        seconds = time.perf_counter() - started
        from pypdf import PdfReader

        click.echo(t("exp2_cli_done", lang, n=len(PdfReader(pdf).pages), pdf=pdf.name, seconds=f"{seconds:.1f}",
                     out=out_dir))
        for path in pngs:
            click.echo(f"  {path.name}")
