"""Briefing exports: pictures that stand on their own, and the figures behind them.

Every chart a page shows can be downloaded as a 1920×1080 PNG at scale 2 (3840×2160
pixels), named ``<indicator>_<unit>_<period>.png``, with its title, unit, period,
legend, target, source and "Số liệu đến tháng …" drawn inside the image, so a picture
pasted into the monthly briefing needs no caption.

Helpers for pages:

* :func:`graph_config` — the ``dcc.Graph(config=...)`` of the download button.
* :func:`annotate_for_export` — title, subtitle and footer drawn into a figure.
* :func:`export_links` — the "Xuất ảnh" / "Xuất dữ liệu" links every page carries.

Server routes (registered by :func:`register`, rendered server-side with kaleido, so no
browser session is needed and nothing times out in a user's browser):

* ``/export/<slide>.png`` with slide ∈ overview, map, scorecard, units_behind,
  completeness, chart — query ``period``, ``unit``, ``indicator``, ``level``, ``lang``;
* ``/export/data.csv`` and ``/export/data.xlsx`` — query ``indicator`` (or none for all
  indicators of one unit), ``period``, ``level``, ``parent``/``unit``, ``lang``. The rows
  come from ``dashboard.figures.figures()``: the same numbers as every page.

A bad parameter never gives a traceback: the default is used and the image says so.
"""
from __future__ import annotations

import io
import logging
import re
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from . import figures
from . import formatting as fmt
from .i18n import lang_or_default, t
from .render import FONT_FAMILY

log = logging.getLogger(__name__)

EXPORT_WIDTH = 1920
EXPORT_HEIGHT = 1080
EXPORT_SCALE = 2
SLIDES = ("overview", "map", "scorecard", "units_behind", "completeness", "chart")


# --- helpers for pages -------------------------------------------------------------------

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


def export_href(slide: str, **params) -> str:
    from urllib.parse import urlencode

    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/export/{slide}.png" + (f"?{urlencode(query)}" if query else "")


def data_href(fmt_ext: str = "csv", **params) -> str:
    from urllib.parse import urlencode

    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/export/data.{fmt_ext}" + (f"?{urlencode(query)}" if query else "")


def export_links(slide: str, lang: str, *, data: dict | None = None, **params):
    """'Xuất ảnh' (PNG of the page's slide) and 'Xuất dữ liệu' (CSV, XLSX) links for a page."""
    from dash import html

    lang = lang_or_default(lang)
    data = data if data is not None else {k: v for k, v in params.items() if k != "indicator" or v}
    image = html.A(t("exp2_image", lang), href=export_href(slide, lang=lang, **params), download="",
                   className="btn btn-outline-primary btn-sm export-link", id=f"export-png-{slide}",
                   title=t("exp2_image_title", lang))
    csv = html.A(t("exp2_data", lang) + " (CSV)", href=data_href("csv", lang=lang, **data), download="",
                 className="btn btn-outline-secondary btn-sm export-link", id=f"export-csv-{slide}")
    xlsx = html.A("XLSX", href=data_href("xlsx", lang=lang, **data), download="",
                  className="btn btn-outline-secondary btn-sm export-link", id=f"export-xlsx-{slide}")
    return html.Div([image, csv, xlsx], className="export-links no-print", role="group",
                    **{"aria-label": t("exp2_group", lang)})


# --- the figures behind a page, as a table -----------------------------------------------

DATA_COLUMNS = ["indicator", "code", "name", "level", "period", "numerator", "denominator", "value",
                "target", "deadline", "status", "gap_points", "gap_units", "reported", "expected",
                "completeness", "target_source"]


def data_table(indicator: str | None, period: str | None, level: str | None, parent: str | None,
               lang: str = "vi") -> tuple[pd.DataFrame, list[str]]:
    """The rows a page shows: one indicator over the units of `level` under `parent`, or (no
    indicator) every indicator for the unit `parent` (default the province). Returns the
    frame with translated headers and a list of warnings about parameters replaced by defaults."""
    from .periods import PeriodError, parse_period

    lang = lang_or_default(lang)
    warnings: list[str] = []
    known = list(figures.indicators()["code"])
    if indicator and indicator not in known:
        warnings.append(t("exp2_bad_indicator", lang, value=indicator, known=", ".join(known)))
        indicator = None
    try:
        label = parse_period(period).label if period else figures.resolve_period(None, indicator).label
    except PeriodError as exc:
        warnings.append(t("bad_param", lang, detail=str(exc)))
        label = figures.resolve_period(None, indicator).label
    root = figures.root_code()
    if parent:
        try:
            figures.entity(parent)
        except LookupError:
            warnings.append(t("exp2_bad_unit", lang, value=parent))
            parent = None
    rows = []
    if level and level not in figures.LEVELS:
        warnings.append(t("exp2_bad_level", lang, value=level))
        level = None
    if indicator:
        frame = figures.figures(indicator, label, level or "district", parent or None)
        rows.append(frame.assign(indicator=indicator, period=label))
    elif level:  # the scorecard: every indicator for every unit of `level` under `parent`
        for code in known:
            frame = figures.figures(code, label, level, parent or None)
            rows.append(frame.assign(indicator=code, period=label))
    else:
        unit = parent or root
        unit_level = figures.entity(unit)["level"]
        for code in known:
            frame = figures.figures(code, label, unit_level)
            rows.append(frame[frame["code"] == unit].assign(indicator=code, period=label))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=DATA_COLUMNS)
    table = table[DATA_COLUMNS].copy()
    table.insert(1, "indicator_name", table["indicator"].map(lambda c: figures.name_of_indicator(c, lang)))
    table["status"] = table["status"].map(lambda s: t(f"status_{s}", lang))
    table["completeness"] = (100.0 * table["completeness"]).round(1)
    table["value"] = table["value"].round(2)
    table["gap_points"] = table["gap_points"].round(2)
    table["gap_units"] = table["gap_units"].round(0)
    table.columns = [t(f"exp2_col_{c}", lang) for c in ["indicator", "indicator_name"] + DATA_COLUMNS[1:]]
    return table, warnings


def table_bytes(table: pd.DataFrame, ext: str, meta: list[tuple[str, str]]) -> bytes:
    """CSV (UTF-8 with BOM so Excel shows the diacritics) or XLSX with a second sheet of notes."""
    if ext == "csv":
        return table.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        table.to_excel(xl, index=False, sheet_name="data")
        pd.DataFrame(meta, columns=["", " "]).to_excel(xl, index=False, sheet_name="notes")
    return buf.getvalue()


def indicator_export(indicator: str, period: str | None, level: str | None, parent: str | None, ext: str,
                     lang: str) -> tuple[bytes, str, list[str]] | None:
    """One indicator over units: dashboard.exporter's files (the CLI's format), after replacing bad
    parameters by defaults. None when that module is not there."""
    try:
        from . import exporter
    except ImportError:
        return None
    from .periods import PeriodError, parse_period

    warnings: list[str] = []
    try:
        label = parse_period(period).label if period else figures.resolve_period(None, indicator).label
    except PeriodError as exc:
        warnings.append(t("bad_param", lang, detail=str(exc)))
        label = figures.resolve_period(None, indicator).label
    if level not in figures.LEVELS:
        if level:
            warnings.append(t("exp2_bad_level", lang, value=level))
        level = "district"
    if parent:
        try:
            exporter.check_request(indicator, label, level, parent)
        except exporter.ExportError as exc:
            warnings.append(str(exc))
            parent = None
    buf = io.BytesIO()
    exporter.export_values(indicator, label, level, parent, fmt=ext, out=buf)
    return buf.getvalue(), export_filename(indicator, parent or figures.root_code(), label, ext), warnings


# --- Flask routes ------------------------------------------------------------------------

def register(server) -> None:
    """Add the /export routes to the Flask server (idempotent)."""
    from flask import Blueprint

    if "exports" in server.blueprints:
        return
    bp = Blueprint("exports", __name__, url_prefix="/export")
    bp.add_url_rule("/data.<ext>", "data", _data_route)
    bp.add_url_rule("/<slide>.png", "image", _image_route)
    server.register_blueprint(bp)


def _text_response(message: str, status: int):
    from flask import Response

    return Response(message + "\n", status=status, mimetype="text/plain; charset=utf-8")


def _attachment(body: bytes, mimetype: str, filename: str, warnings: list[str] | None = None):
    from flask import Response

    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    if warnings:
        # HTTP headers are Latin-1: keep the English half of the bilingual message.
        import unicodedata

        text = " | ".join(warnings).replace("đ", "d").replace("Đ", "D")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        resp.headers["X-Dashboard-Warning"] = text[:500]
    return resp


def _data_route(ext: str):
    from flask import request

    lang = lang_or_default(request.args.get("lang"))
    if ext not in ("csv", "xlsx"):
        return _text_response(t("exp2_bad_format", lang, value=ext), 404)
    indicator = request.args.get("indicator")
    mimetype = "text/csv; charset=utf-8" if ext == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if indicator and indicator in _safe(lambda: list(figures.indicators()["code"]), default=[]):
        try:
            done = indicator_export(indicator, request.args.get("period"), request.args.get("level"),
                                    request.args.get("parent") or request.args.get("unit"), ext, lang)
        except Exception:  # noqa: BLE001
            log.exception("data export failed")
            return _text_response(t("exp2_failed", lang), 503)
        if done is not None:
            body, name, warnings = done
            return _attachment(body, mimetype, name, warnings)
    try:
        table, warnings = data_table(request.args.get("indicator"), request.args.get("period"),
                                     request.args.get("level"),
                                     request.args.get("parent") or request.args.get("unit"), lang)
    except Exception:  # noqa: BLE001 - a download never shows a traceback
        log.exception("data export failed")
        return _text_response(t("exp2_failed", lang), 503)
    period_col = t("exp2_col_period", lang)
    period = str(table[period_col].iloc[0]) if len(table) else "none"
    indicator = None  # here: every indicator of one unit (a bad code was replaced, see warnings)
    unit = request.args.get("parent") or request.args.get("unit") or _safe(figures.root_code, default="all")
    name = export_filename(indicator or "all", unit, period, ext)
    meta = [(t("exp2_meta_made", lang), datetime.now().strftime("%d/%m/%Y %H:%M")),
            (t("exp2_meta_until", lang), data_until_text(lang))]
    if _safe(figures.is_demo, default=False):
        meta.append((t("exp2_meta_demo", lang), t("demo_banner", lang)))
    meta += [(t("exp2_meta_warning", lang), w) for w in warnings]
    body = table_bytes(table, ext, meta)
    return _attachment(body, mimetype, name, warnings)


def _image_route(slide: str):
    from flask import request

    from . import slides
    from .render import RenderError, render

    lang = lang_or_default(request.args.get("lang"))
    if slide not in SLIDES:
        return _text_response(t("exp2_bad_slide", lang, value=slide, known=", ".join(SLIDES)), 404)
    try:
        fig, filename = slides.slide_for_export(slide, dict(request.args), lang)
        body = render(fig, width=EXPORT_WIDTH, height=EXPORT_HEIGHT, scale=EXPORT_SCALE)
    except RenderError as exc:
        log.warning("image export: %s", exc)
        return _text_response(str(exc), 503)
    except Exception:  # noqa: BLE001
        log.exception("image export failed")
        return _text_response(t("exp2_failed", lang), 503)
    return _attachment(body, "image/png", filename + ".png")
