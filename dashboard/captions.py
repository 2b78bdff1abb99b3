"""Pictures that stand on their own: the title, unit, period, target, source, "Số liệu đến
tháng …" and the demo label drawn into a figure, and the names and sizes of exported images.

Every chart a page shows can be downloaded as a 1920×1080 PNG at scale 2 (3840×2160 pixels),
named ``<indicator>_<unit>_<period>.png``, so a picture pasted into the monthly briefing needs no
caption. Pages, slides and the server-side renderer all caption through here.
"""
from __future__ import annotations

import re
from datetime import datetime

import plotly.graph_objects as go

from . import figures
from . import formatting as fmt
from .i18n import lang_or_default, t
from .theme import FONT as FONT_FAMILY

EXPORT_WIDTH = 1920
EXPORT_HEIGHT = 1080
EXPORT_SCALE = 2


def safe_name(part: str | None) -> str:
    """A file-name-safe piece: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(part or "")).strip("-") or "x"


def export_filename(indicator: str, unit: str | None, period: str | None, ext: str = "") -> str:
    """'<indicator>_<unit>_<period>' (plus '.ext'): hssk_31_2026-10.png."""
    stem = "_".join(safe_name(p) for p in (indicator, unit, period))
    return f"{stem}.{ext}" if ext else stem


def graph_config(filename: str, **extra) -> dict:
    """dcc.Graph config whose camera button saves a 1920×1080 PNG at scale 2 named `filename`."""
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "width": EXPORT_WIDTH,
                                 "height": EXPORT_HEIGHT, "scale": EXPORT_SCALE},
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    }
    config.update(extra)
    return config


def data_until_text(lang: str, month: str | None = None) -> str:
    month = month if month is not None else _safe(figures.latest_month)
    return t("data_until", lang, month=fmt.month(month)) if month else t("no_data_yet", lang)


def _safe(fn, *args, default=None):
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - labels must never break an export
        return default


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def annotate_for_export(fig: go.Figure, *, title: str, subtitle: str = "", source: str | None = None,
                        data_until: str | None = None, lang: str = "vi", demo: bool | None = None,
                        notes: list[str] | None = None, dark: bool = False) -> go.Figure:
    """Draw the title, the subtitle (unit · period · target), the source, "Số liệu đến" and
    the demo label into the figure, so the PNG stands on its own. The figure gets the export
    size (1920×1080 unless it has one); the texts sit in the top and bottom margins, placed in
    pixels from the image's edges. Returns the figure."""
    lang = lang_or_default(lang)
    ink = "#f0f3f6" if dark else "#1f2328"
    muted = "#b7bdc8" if dark else "#57606a"
    demo = _safe(figures.is_demo, default=False) if demo is None else demo
    data_until = data_until if data_until is not None else data_until_text(lang)
    province = _safe(lambda: figures.entity(figures.root_code())["name"], default="")
    notes = list(notes or [])
    height = fig.layout.height or EXPORT_HEIGHT
    width = fig.layout.width or EXPORT_WIDTH
    margin = fig.layout.margin
    top = max(margin.t or 0, 150)
    bottom = max(margin.b or 0, 100 + 28 * len(notes))
    fig.update_layout(
        width=width, height=height,
        font={"family": FONT_FAMILY, "color": ink},
        title={"text": f"<b>{_clip(title, 90)}</b>", "x": 0.02, "xanchor": "left", "xref": "container",
               "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 26},
               "font": {"size": 38, "color": ink}},
        margin={"t": top, "b": bottom, "l": margin.l if margin.l is not None else 80,
                "r": margin.r if margin.r is not None else 80},
    )
    plot_h = max(height - top - bottom, 1)

    def below(px_from_bottom: float) -> float:  # paper y of a point px above the image's bottom edge
        return -(bottom - px_from_bottom) / plot_h

    def above(px_from_top: float) -> float:  # paper y of a point px below the image's top edge
        return 1 + (top - px_from_top) / plot_h

    def note(text, y, anchor="left", size=18, color=muted):
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0 if anchor == "left" else 1, y=y,
                           xanchor=anchor, yanchor="bottom", showarrow=False, align=anchor,
                           font={"size": size, "color": color})

    if subtitle:
        note(subtitle, above(130), size=24)
    footer = " · ".join(p for p in [data_until, f"{t('source', lang)}: {_clip(source, 150)}" if source else ""] if p)
    note(footer, below(44))
    stamp = t("exp2_made_by", lang, dept=t("department_of", lang, name=province) if province else "",
              when=datetime.now().strftime("%d/%m/%Y %H:%M"))
    note(stamp, below(14), size=16)
    for i, text in enumerate(notes):
        note(f"⚠ {_clip(text, 160)}", below(74 + 28 * i), color="#9a6700")
    if demo:
        fig.add_annotation(text=f"<b>{t('demo_banner', lang)}</b>", xref="paper", yref="paper", x=1,
                           y=above(78), xanchor="right", yanchor="bottom", showarrow=False,
                           font={"size": 20, "color": "#4d2d00"}, bgcolor="#fff3a3", bordercolor="#d4a72c",
                           borderwidth=1, borderpad=6)
    return fig


def caption_for_page(fig: go.Figure, *, title: str, subtitle: str = "", source: str | None = None,
                     lang: str = "vi", data_until: str | None = None, demo: bool | None = None) -> go.Figure:
    """annotate_for_export's compact form for a chart shown on a page: a small title and
    subtitle above the plot and one footer line (source · "Số liệu đến" · demo label) below
    it, placed in pixels from the plot area so it fits any height. With graph_config()'s
    download button the 1920×1080 PNG then carries its own caption. Returns the figure."""
    lang = lang_or_default(lang)
    demo = _safe(figures.is_demo, default=False) if demo is None else demo
    data_until = data_until if data_until is not None else data_until_text(lang)
    margin = fig.layout.margin
    t0 = margin.t if margin.t is not None else 30
    b0 = margin.b if margin.b is not None else 40
    fig.update_layout(margin={"t": t0 + (46 if subtitle else 28), "b": b0 + 22}, title=None)
    muted = "#57606a"

    def line(text, y, shift, anchor, size, colour=muted, bold=False):
        fig.add_annotation(text=f"<b>{text}</b>" if bold else text, xref="paper", yref="paper", x=0, y=y,
                           yshift=shift, xanchor="left", yanchor=anchor, showarrow=False, align="left",
                           font={"size": size, "color": colour})

    line(_clip(title, 110), 1, t0 + (18 if subtitle else 2), "bottom", 16, "#1f2328", bold=True)
    if subtitle:
        line(_clip(subtitle, 140), 1, t0 + 2, "bottom", 12)
    footer = " · ".join(p for p in [f"{t('source', lang)}: {_clip(source, 70)}" if source else "", data_until,
                                    t("demo_banner", lang).split(" — ")[0] if demo else ""] if p)
    line(footer, 0, -(b0 + 2), "top", 11)
    return fig
