"""``dashboard briefing``: the monthly briefing pack, rendered on the server.

    dashboard briefing --period 2026-10 [--unit CODE] [--lang vi|en] --out DIR

Writes one 1920×1080 PNG at scale 2 (3840×2160 pixels) per slide — the overview, a map per
headline indicator, the scorecard, the units behind target — and ``briefing_<unit>_<period>.pdf``
with every slide as one landscape page. No browser session is needed: the figures come from
the database (cached), kaleido renders them with Debian's Chromium and the Be Vietnam Pro
font shipped in assets/fonts/ttf, offline.
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from . import pass_context


def _pdf_from_pngs(pngs: list[Path], out: Path) -> None:
    """One page per PNG, 1920×1080 at 200 dpi-equivalent (the PNG's own pixels, not resampled)."""
    from PIL import Image

    pages = [Image.open(p).convert("RGB") for p in pngs]
    try:
        pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=288.0,
                      title=out.stem, author="Dashboard chỉ đạo điều hành")
    finally:
        for page in pages:
            page.close()


def write_briefing(period: str, unit: str | None, lang: str, out: Path) -> tuple[list[Path], Path]:
    from .. import figures, render, slides
    from ..captions import EXPORT_HEIGHT, EXPORT_SCALE, EXPORT_WIDTH, export_filename
    from ..periods import parse_period

    out.mkdir(parents=True, exist_ok=True)
    label = parse_period(period).label
    unit = unit or figures.root_code()
    pngs: list[Path] = []
    try:
        for number, slide in enumerate(slides.briefing_slides(label, unit, lang), start=1):
            body = render.render(slide.figure, width=EXPORT_WIDTH, height=EXPORT_HEIGHT, scale=EXPORT_SCALE)
            path = out / f"{number:02d}_{slide.filename}.png"
            path.write_bytes(body)
            pngs.append(path)
    finally:
        render.stop()
    pdf = out / f"{export_filename('briefing', unit, label)}.pdf"
    _pdf_from_pngs(pngs, pdf)
    return pngs, pdf


def register(main: click.Group) -> None:
    @main.command("briefing")
    @click.option("--period", required=True, metavar="YYYY-MM",
                  help="Kỳ báo cáo / reporting period (YYYY-MM, YYYY-Qn or YYYY).")
    @click.option("--unit", default=None, metavar="CODE",
                  help="Đơn vị (mặc định toàn tỉnh) / unit code (default: the whole province).")
    @click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                  help="Ngôn ngữ / language.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Thư mục ghi ảnh và PDF / folder for the PNGs and the PDF.")
    @pass_context
    def briefing(ctx, period: str, unit: str | None, lang: str, out_dir: Path) -> None:
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
            pngs, pdf = write_briefing(req.period_label, req.unit, req.lang, out_dir)
        except RenderError as exc:
            raise click.ClickException(str(exc)) from None
        seconds = time.perf_counter() - started
        click.echo(t("exp2_cli_done", lang, n=len(pngs), pdf=pdf.name, seconds=f"{seconds:.1f}", out=out_dir))
        for path in pngs:
            click.echo(f"  {path.name}")
