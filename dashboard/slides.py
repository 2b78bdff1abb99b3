"""The slides of the wall screen and of the monthly briefing: their data, and plotly figures.

One set of data functions feeds both the wall screen (HTML, ``layouts/wall.py``) and the
images (plotly figures rendered by kaleido for ``/export/*.png`` and ``dashboard briefing``),
so the screen and the pack always agree. Every number comes from ``dashboard.figures``.

Staleness rule (a figure "older than its reporting cycle" is greyed, with a note). Data of
month M is due by day :data:`REPORT_DUE_DAY` of month M+1. An indicator's latest month is
stale when it is

* older than the newest month of any indicator (it lags the others), or
* older than the month that should be in by today: the previous month from the 16th of
  a month on, the month before that until the 15th.

When no period is asked for (the wall screen), each indicator is shown at its own latest
month, so a lagging indicator still shows its last figure, greyed, with the month it is
from; with an explicit period (the briefing) that period is shown exactly.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from . import figures, hierarchy, reform_marks, theme
from . import formatting as fmt
from .captions import annotate_for_export, export_filename
from .formatting import as_number
from .i18n import lang_or_default, t
from .periods import add_months, parse_period, period_label
from .progress import status_sort_key
from .request import Request
from .theme import FONT as FONT_FAMILY
from .theme import STATUS_COLORS, STATUS_TEXT_COLORS, THEMES
from . import wording
from .wording import completeness_text as completeness_line
from .wording import gap_points_text, gap_sentence, reporter_word, status_word

log = logging.getLogger(__name__)

REPORT_DUE_DAY = 15
BEHIND_STATUSES = theme.BEHIND


# --- periods and staleness ---------------------------------------------------------------

def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def expected_month(today: date | None = None) -> str:
    """The newest month whose data should be in by `today`."""
    today = today or date.today()
    this = f"{today.year:04d}-{today.month:02d}"
    return add_months(this, -1 if today.day > REPORT_DUE_DAY else -2)


def stale_reason(latest: str | None, newest: str | None, today: date | None = None) -> str | None:
    """None when `latest` is current; else 'behind_others' or 'overdue' (see module docstring)."""
    if not latest:
        return None
    if newest and latest < newest:
        return "behind_others"
    if latest < expected_month(today):
        return "overdue"
    return None


def stale_note(reason: str | None, latest: str | None, lang: str) -> str:
    if not reason:
        return ""
    return t(f"wall_stale_{reason}", lang, month=fmt.month(latest))


def child_level(unit: str) -> str:
    """Who stands below `unit` in lists of units behind or not reporting."""
    return hierarchy.report_child(figures.entity(unit)["level"])


# --- data --------------------------------------------------------------------------------

@dataclass
class Card:
    code: str
    name: str
    period: str
    value: float | None
    value_text: str
    status: str
    status_text: str
    target_text: str
    gap_text: str
    completeness_text: str
    completeness: float | None
    source: str
    latest: str | None
    stale: str | None
    stale_text: str
    spark_x: list = field(default_factory=list)
    spark_y: list = field(default_factory=list)
    spark_basis: list = field(default_factory=list)  # 0 reported, 1 exact, 2 estimated (reform_marks)
    target: float | None = None
    caveat: str = ""  # 'chỉ 3/4 xã/phường báo cáo' when the status is judged on incomplete reporting


def card(code: str, period: str | None, unit: str, lang: str, today: date | None = None,
         newest: str | None = None) -> Card:
    """One headline figure of `unit`: at `period`, or (None) at the indicator's latest month."""
    lang = lang_or_default(lang)
    ind = figures.indicator(code)
    latest = figures.latest_month(code)
    newest = newest if newest is not None else figures.latest_month()
    label = period or latest or newest
    head = figures.headline(code, label, unit)
    row = head.row
    status = row.get("status") or "no_data"
    target = as_number(row.get("target"))
    target_text = (t("target_by", lang, value=fmt.target_value(target, ind, lang),
                     deadline=fmt.month(row.get("deadline"))) if target is not None else t("no_target_set", lang))
    expected = int(row.get("expected") or 0)  # 0: nobody under `unit` reports it (not "missing")
    reason = stale_reason(latest, newest, today) if period is None else (
        "behind_others" if latest and latest < parse_period(label).end else None)
    spark = head.sparkline
    return Card(
        code=code, name=figures.name_of_indicator(code, lang, short=True), period=label,
        value=as_number(row.get("value")), value_text=fmt.value(row.get("value"), ind, lang, target=target),
        status=status if expected else "not_applicable",
        status_text=status_word(status, lang) if expected else t("exp2_not_expected", lang), target_text=target_text,
        gap_text=_cap(gap_sentence(row, ind, lang)), completeness_text=completeness_line(row, ind, lang),
        completeness=as_number(row.get("completeness")), source=str(row.get("target_source") or ""),
        latest=latest, stale=reason, stale_text=stale_note(reason, latest, lang),
        spark_x=[str(p) for p in spark["period"]], spark_y=[as_number(v) for v in spark["value"]],
        spark_basis=[int(b) for b in spark["basis"]] if "basis" in spark else [], target=target,
        caveat=wording.partial_caveat(row, ind, lang) if expected else "",
    )


def units_behind(code: str, period: str | None, unit: str, lang: str, n: int | None = None,
                 level: str | None = None) -> dict:
    """The units one level below `unit` (or of `level`) furthest behind target: worst status
    first, then the largest gap. Only overdue, off-track and at-risk units are listed: all of
    them (n=None) or the first `n`, and ``more`` says how many were left off, so a list never
    hides a unit without saying "+N". Gaps in real units (people, facilities…) as the pages
    word them (dashboard.wording), and in points."""
    from .maps import gap_text as full_gap_text

    label = period or figures.latest_month(code) or figures.latest_month()
    level = level or child_level(unit)
    frame = figures.figures(code, label, level, unit)
    total = len(frame)
    behind = frame[frame["status"].isin(BEHIND_STATUSES)].copy()
    behind["_rank"] = behind["status"].map(status_sort_key)
    behind = behind.sort_values(["_rank", "gap_points", "name"], ascending=[True, False, True])
    ind = figures.indicator(code)
    rows = []
    for r in (behind if n is None else behind.head(max(int(n), 0))).itertuples(index=False):
        d = r._asdict()
        rows.append({
            "code": r.code, "name": r.name, "status": r.status, "status_text": status_word(r.status, lang),
            "value": as_number(r.value), "value_text": fmt.value(r.value, ind, lang, target=r.target),
            "target_text": fmt.target_value(r.target, ind, lang),
            "gap_points": as_number(r.gap_points),
            "gap_text": gap_sentence(d, ind, lang),
            "gap_points_text": gap_points_text(d, ind, lang),
            "gap_full": full_gap_text(d, ind, lang),
            "gap_sentence": gap_sentence(d, ind, lang),
            "caveat": wording.partial_caveat(d, ind, lang),
            "last_month": r.last_month if isinstance(r.last_month, str) else None,
            "stale_text": (t("wall_unit_old", lang, month=fmt.month(r.last_month))
                           if isinstance(r.last_month, str) and r.last_month < parse_period(label).end else ""),
        })
    return {"code": code, "name": figures.name_of_indicator(code, lang, short=True), "period": label,
            "level": level, "rows": rows, "count_behind": int(len(behind)), "count": int(total),
            "more": int(len(behind)) - len(rows), "applicable": bool((frame["expected"] > 0).any())}


def more_text(more: int, level: str, lang: str) -> str:
    """'+1 khu vực khác' for the units behind left off a list ('' when none was)."""
    return t("wall_more_behind", lang, n=more, kind=hierarchy.kind_word(level, lang)) if more > 0 else ""


def off_track_codes(codes, unit: str, period: str | None = None, newest: str | None = None) -> list[str]:
    """Of `codes`, the indicators of `unit` that are overdue, off track or at risk (worst first)."""
    out = []
    for code in codes:
        label = period or figures.latest_month(code) or newest or figures.latest_month()
        status = figures.headline(code, label, unit).row.get("status")
        if status in BEHIND_STATUSES:
            out.append((status_sort_key(status), code))
    return [c for _, c in sorted(out, key=lambda x: x[0])]


def completeness(code: str, period: str | None, unit: str, lang: str, n: int = 4) -> dict:
    """Reporting completeness of `unit` and the units below it reporting least."""
    label = period or figures.latest_month(code) or figures.latest_month()
    ind = figures.indicator(code)
    level = entity_level = figures.entity(unit)["level"]
    own = figures.figures(code, label, entity_level)
    own = own[own["code"] == unit]
    row = own.iloc[0].to_dict() if not own.empty else {"reported": 0, "expected": 0, "completeness": None}
    level = child_level(unit)
    below = figures.figures(code, label, level, unit)
    below = below[below["expected"] > 0].copy()
    below = below.sort_values(["completeness", "name"]).head(n)
    worst = [{"code": r.code, "name": r.name, "reported": int(r.reported), "expected": int(r.expected),
              "pct_text": fmt.percent(100.0 * r.completeness, 0, lang)}
             for r in below.itertuples(index=False) if r.completeness < 1]
    expected = int(row.get("expected") or 0)
    reported = int(row.get("reported") or 0)
    pct = 100.0 * reported / expected if expected else None
    return {"code": code, "name": figures.name_of_indicator(code, lang, short=True), "period": label,
            "reported": reported, "expected": expected, "pct": pct, "pct_text": fmt.percent(pct, 1, lang),
            "kind": reporter_word(ind, lang), "worst": worst}


def scorecard(period: str | None, unit: str, lang: str, today: date | None = None) -> list[Card]:
    newest = figures.latest_month()
    return [card(code, period, unit, lang, today, newest) for code in figures.indicators()["code"]]


# --- plotly figures (1920×1080, for kaleido and the download button) ---------------------

def _base(theme: str = "light") -> go.Figure:
    th = THEMES.get(theme, THEMES["light"])
    fig = go.Figure()
    fig.update_layout(width=1920, height=1080, paper_bgcolor=th["paper"], plot_bgcolor=th["paper"],
                      font={"family": FONT_FAMILY, "size": 22, "color": th["ink"]}, showlegend=False,
                      margin={"l": 80, "r": 80, "t": 150, "b": 110})
    return fig




def _unit_name(unit: str) -> str:
    return figures.entity(unit)["name"]


def overview_figure(cards: list[Card], unit: str, period_text: str, lang: str, theme: str = "light",
                    notes: list[str] | None = None) -> go.Figure:
    """The headline cards in a 2×2 (up to 4) or 3×2 grid, each with its 12-month trend."""
    th = THEMES.get(theme, THEMES["light"])
    fig = _base(theme)
    top, bottom = 150, 100 + 28 * len(notes or [])
    fig.update_layout(margin={"t": top, "b": bottom})
    plot_h = 1080 - top - bottom
    cols = 2 if len(cards) <= 4 else 3
    rows = max(1, -(-len(cards) // cols))
    gap = 0.025
    w = (1 - gap * (cols - 1)) / cols
    h = (1 - gap * (rows - 1)) / rows
    card_px = h * plot_h
    big = 84 if rows <= 2 and cols == 2 else 60  # three abreast: room for the value and the pill
    sources = []
    for i, c in enumerate(cards):
        r, k = divmod(i, cols)
        x0 = k * (w + gap)
        y1 = 1 - r * (h + gap)
        y0 = y1 - h

        def py(px: float) -> float:  # paper y of a point px below the card's top edge
            return y1 - px / plot_h

        color = STATUS_COLORS.get(c.status, "#57606a")
        accent = th["stale"] if c.stale else color
        ink = th["stale"] if c.stale else th["ink"]
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=x0, x1=x0 + w, y0=y0, y1=y1,
                      fillcolor=th["card"], line={"color": th["grid"], "width": 1}, layer="below")
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=x0, x1=x0 + w, y0=py(8), y1=y1,
                      fillcolor=accent, line={"width": 0})
        pad = 0.015

        def text(s, px, size, bold=False, colour=None, x=x0 + pad, anchor="left"):
            fig.add_annotation(text=f"<b>{s}</b>" if bold else s, xref="paper", yref="paper", x=x, y=py(px),
                               xanchor=anchor, yanchor="top", showarrow=False, align=anchor,
                               font={"size": size, "color": colour or ink})

        text(c.name, 18, 30, bold=True)
        text(c.value_text, 58, big, bold=True)
        fig.add_annotation(text=f"<b> {c.status_text} </b>", xref="paper", yref="paper", x=x0 + w - pad,
                           y=py(80), xanchor="right", yanchor="top", showarrow=False,
                           font={"size": 26, "color": STATUS_TEXT_COLORS.get(c.status, "#ffffff")},
                           bgcolor=accent, borderpad=8)
        text(c.target_text, 58 + big * 1.25, 22, colour=th["muted"])
        text(c.gap_text, 58 + big * 1.25 + 32, 22, bold=True)
        spark_top = 58 + big * 1.25 + 32 + 40
        spark_bottom = card_px - 50
        if c.caveat:  # the status is judged on part of the reporters: said in amber, in place of the count
            text("⚠ " + _cap(c.caveat), card_px - 38, 20, colour="#9a6700")
        else:
            text(c.completeness_text, card_px - 38, 20, colour=th["muted"])
        if c.stale_text:
            text("⚠ " + c.stale_text, 18, 20, colour="#9a6700", x=x0 + w - pad, anchor="right")
        if c.source and c.source not in sources:
            sources.append(c.source)
        if spark_bottom - spark_top < 40:
            continue
        ax = i + 1
        suffix = "" if ax == 1 else str(ax)
        reform_marks.add_series(fig, c.spark_x, c.spark_y, c.spark_basis, lang, mode="lines+markers",
                                xaxis=f"x{suffix}", yaxis=f"y{suffix}", line={"color": accent, "width": 4},
                                marker={"size": 7}, connectgaps=False, hoverinfo="skip")
        reform_marks.add_reform_line(fig, c.spark_x, lang, xref=f"x{suffix}", yref=f"y{suffix}", label=False)
        if c.target is not None and c.spark_x:
            fig.add_trace(go.Scatter(x=[c.spark_x[0], c.spark_x[-1]], y=[c.target, c.target],
                                     mode="lines", xaxis=f"x{suffix}", yaxis=f"y{suffix}", hoverinfo="skip",
                                     line={"color": th["muted"], "dash": "dash", "width": 2}))
        fig.update_layout(**{
            f"xaxis{suffix}": {"domain": [x0 + pad, x0 + w - pad], "visible": False, "anchor": f"y{suffix}"},
            f"yaxis{suffix}": {"domain": [py(spark_bottom), py(spark_top + 24)], "visible": False,
                               "anchor": f"x{suffix}"},
        })
        text(t("trend_12m", lang) + (" · " + t("wall_dashed_target", lang) if c.target is not None else ""),
             spark_top, 16, colour=th["muted"])
    title = t("exp2_overview_title", lang)
    subtitle = f"{_unit_name(unit)} · {period_text}"
    return annotate_for_export(fig, title=title, subtitle=subtitle, source="; ".join(sources[:2]) or None,
                               lang=lang, notes=notes, dark=theme == "dark")


def map_figure(code: str, period: str, unit: str, lang: str, level: str | None = None) -> go.Figure:
    """The choropleth of `code` over the units of `level` (default: the map's level below `unit`)
    under `unit`; the units as bars coloured by status if the map cannot be drawn."""
    from . import maps

    unit_level = figures.entity(unit)["level"]
    level = level or hierarchy.map_child(unit_level)
    parent = None if unit_level == hierarchy.root_level() else unit
    try:
        return maps.map_figure(code, period, level, parent, "status", lang, title="", height=1080)
    except Exception:  # noqa: BLE001 - a slide must still be drawn
        log.warning("maps.map_figure failed; drawing bars instead", exc_info=True)
        return units_chart(code, period, level, parent or unit, lang, framed=False)


def restyle_map(fig: go.Figure, size: int = 24, ink: str = "#1f2328", legend_bg: str = "rgba(255,255,255,0.85)",
                x: tuple[float, float] = (0.0, 1.0), legend_rows: int = 1, plot_height: int = 800) -> go.Figure:
    """Large-screen legibility for dashboard.maps' figure (made for a page): the legend in big
    type in a band above the map and the notes in a band below it, both outside the map's
    domain (`x`), so neither ever covers land."""
    notes = [a for a in (fig.layout.annotations or ()) if a.yref == "paper" and (a.y or 0) <= 0]
    note_px = (size + 8) * len(notes)
    legend_px = (size + 18) * legend_rows + 10
    bottom = min(0.3, note_px / plot_height)
    top = max(0.5, 1 - legend_px / plot_height)
    fig.update_layout(geo={"domain": {"x": list(x), "y": [bottom, top]}},
                      legend={"orientation": "h", "x": x[0], "xanchor": "left", "y": 1, "yanchor": "top",
                              "font": {"size": size, "color": ink}, "bgcolor": legend_bg},
                      margin={"l": 60, "r": 60})
    for i, ann in enumerate(notes):
        ann.update(x=x[0], xanchor="left", y=0, yshift=(size + 8) * (len(notes) - 1 - i), yanchor="bottom",
                   font={"size": max(size - 4, 16), "color": ink})
    return fig


def short_name(name: str, level: str, lang: str) -> str:
    """'Thanh Miện' for 'Khu vực Thanh Miện' on a map whose legend already says the level."""
    prefix = hierarchy.label(level, lang) + " "
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else name


def label_units(fig: go.Figure, rows: list[dict], level: str, lang: str, size: int = 18) -> list[str]:
    """Write the names of `rows` (units behind) on the map at a point inside each unit, in the
    text colour of the unit's own status fill (theme.STATUS_TEXT_COLORS: readable on it; no
    halo, which a PDF would keep as extra copies of the text). Returns the codes labelled (those drawn in
    the frame; the others are in the table or the note)."""
    from shapely.geometry import shape

    features = {}
    for trace in fig.data:
        if trace.type == "choropleth" and trace.geojson:
            for feat in trace.geojson.get("features", []):
                features[str(feat.get("id"))] = feat
    outside = set((fig.layout.meta or {}).get("outside", []) if isinstance(fig.layout.meta, dict) else [])
    lon, lat, text, codes, colours = [], [], [], [], []
    for r in rows:
        feat = features.get(str(r["code"]))
        if feat is None or r["code"] in outside:
            continue
        try:
            point = shape(feat["geometry"]).representative_point()
        except Exception:  # noqa: BLE001 - a broken shape: no label rather than no slide
            continue
        lon.append(point.x)
        lat.append(point.y)
        text.append(short_name(r["name"], level, lang))
        codes.append(r["code"])
        colours.append(STATUS_TEXT_COLORS.get(r.get("status"), theme.INK))
    if codes:
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, text=text, mode="text", hoverinfo="skip", showlegend=False,
                                    name="labels", customdata=codes,
                                    textfont={"size": size, "color": colours, "family": FONT_FAMILY,
                                              "weight": "bold"}))
    return codes


#: Units behind listed in the table beside a briefing map before "+N".
MAP_TABLE_ROWS = 14


def map_slide_figure(code: str, period: str, unit: str, lang: str, notes: list[str] | None = None,
                     level: str | None = None) -> go.Figure:
    """A map slide of the briefing and of /export/map.png: the map on the left with the units
    behind named on it, and beside it the table of those units (every one, or "+N"), which also
    lists the units drawn outside the map's frame (the map's note says "xem bảng")."""
    base = map_figure(code, period, unit, lang, level)  # a new figure each call: no copy needed
    is_map = any(tr.type == "choropleth" for tr in base.data)
    notes = list(notes or [])
    if not is_map:
        fig = restyle_map(base)
    else:
        plot_h = 1080 - 150 - max(100, 100 + 28 * len(notes))
        fig = restyle_map(base, size=20, x=(0.0, 0.57), legend_rows=2, plot_height=plot_h)
        try:
            map_level = level or hierarchy.map_child(figures.entity(unit)["level"])
            behind = units_behind(code, period, unit, lang, level=map_level)
            label_units(fig, behind["rows"], map_level, lang, size=17)
            _behind_table(fig, behind, base, lang)
        except Exception:  # noqa: BLE001 - a slide must still be drawn (the map alone)
            log.warning("map slide: units behind not added", exc_info=True)
    fig.update_layout(width=1920, height=1080, font={"family": FONT_FAMILY, "size": 20})
    head = figures.headline(code, period, unit)
    row = head.row
    ind = head.indicator
    target = as_number(row.get("target"))
    value = fmt.value(row.get("value"), ind, lang, target=target)
    target_text = (t("target_by", lang, value=fmt.target_value(target, ind, lang),
                     deadline=fmt.month(row.get("deadline")))
                   if target is not None else t("no_target_set", lang))
    # the unit's own value: "Toàn tỉnh/TP" only when the unit is the province
    whose = t("wall_overall", lang) if unit == figures.root_code() else _unit_name(unit)
    subtitle = f"{_unit_name(unit)} · {period_label(parse_period(period), lang)} · " \
               f"{whose}: <b>{value}</b> · {target_text}"
    return annotate_for_export(fig, title=figures.name_of_indicator(code, lang), subtitle=subtitle,
                               source=str(row.get("target_source") or "") or None, lang=lang, notes=notes)


def _blank_row(cols: list[list], fills: list, fonts: list) -> None:
    for col in cols:
        col.append("")
    fills.append("#ffffff")
    fonts.append("#1f2328")


def _behind_table(fig: go.Figure, behind: dict, base: go.Figure, lang: str) -> None:
    """The table beside a map: the units behind (worst first; "+N" past MAP_TABLE_ROWS), then
    any unit drawn outside the map's frame with its value and status."""
    from .wording import row_status

    rows = behind["rows"]
    shown = rows[:MAP_TABLE_ROWS]
    more = behind["count_behind"] - len(shown)
    meta = base.layout.meta if isinstance(base.layout.meta, dict) else {}
    outside = [c for c in meta.get("outside", []) if c not in {r["code"] for r in shown}]
    names, values, gaps, statuses, fills, fonts = [], [], [], [], [], []
    for r in shown:
        names.append(r["name"] + (f" <i>({r['stale_text']})</i>" if r["stale_text"] else ""))
        values.append(r["value_text"])
        gaps.append(r["gap_text"])
        statuses.append(f"<b>{r['status_text']}</b>" + (f"<br>⚠ {r['caveat']}" if r.get("caveat") else ""))
        fills.append(STATUS_COLORS[r["status"]])
        fonts.append(STATUS_TEXT_COLORS.get(r["status"], "#ffffff"))
    if more:
        names.append(f"<b>{more_text(more, behind['level'], lang)}</b>")
        _blank_row([values, gaps, statuses], fills, fonts)
    if not shown:
        names.append(t("wall_none_behind", lang) if behind["applicable"] else
                     t("wall_not_broken_down", lang, level=hierarchy.label(behind["level"], lang).lower()))
        _blank_row([values, gaps, statuses], fills, fonts)
    if outside:
        ind = figures.indicator(behind["code"])
        frame = figures.figures(behind["code"], behind["period"], behind["level"], None).set_index("code")
        for c in outside:
            if c not in frame.index:
                continue
            r = frame.loc[c].to_dict()
            status = row_status(r)
            names.append(f"{r['name']} <i>({t('wall_behind_outside', lang)})</i>")
            values.append(fmt.value(r.get("value"), ind, lang, target=r.get("target"))
                          if as_number(r.get("value")) is not None else status_word("no_data", lang))
            gaps.append(gap_sentence(r, ind, lang) if status not in ("not_applicable", "no_data") else "—")
            statuses.append(f"<b>{status_word(status, lang)}</b>")
            fills.append(STATUS_COLORS.get(status, "#ffffff"))
            fonts.append(STATUS_TEXT_COLORS.get(status, "#ffffff"))
    n = len(names)
    zebra = ["#ffffff" if i % 2 == 0 else "#f6f8fa" for i in range(n)]
    kind = hierarchy.kind_word(behind["level"], lang)
    fig.add_trace(go.Table(
        name="units-behind", domain={"x": [0.6, 1.0], "y": [0.0, 0.94]}, columnwidth=[2.2, 1.0, 3.3, 1.8],
        header={"values": [f"<b>{t('wall_col_unit', lang)}</b>", f"<b>{t('col_value', lang)}</b>",
                           f"<b>{t('exp2_short_by', lang)}</b>", f"<b>{t('col_status', lang)}</b>"],
                "fill_color": "#0b5394", "align": "left", "height": 40,
                "font": {"color": "#ffffff", "size": 17, "family": FONT_FAMILY}},
        cells={"values": [names, values, gaps, statuses], "align": "left", "height": 34,
               "fill_color": [zebra, zebra, zebra, fills],
               "font": {"size": 16, "family": FONT_FAMILY, "color": ["#1f2328", "#1f2328", "#1f2328", fonts]}},
    ))
    fig.add_annotation(text=t("wall_behind_table", lang, n=behind["count_behind"], total=behind["count"], kind=kind),
                       xref="paper", yref="paper", x=0.6, y=1.0, xanchor="left", yanchor="top", showarrow=False,
                       font={"size": 20})


def units_chart(code: str, period: str, level: str, parent: str | None, lang: str, framed: bool = True,
                notes: list[str] | None = None) -> go.Figure:
    """Every unit of `level` under `parent`, as horizontal bars coloured by status, target marked."""
    frame = figures.figures(code, period, level, parent)
    frame = frame.sort_values(["value", "name"], ascending=[True, True], na_position="first")
    fig = _base()
    ind = figures.indicator(code)
    for status in theme.STATUS_ORDER:
        part = frame[frame["status"] == status]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            y=part["name"], x=part["value"].fillna(0), orientation="h",
            name=f"{theme.status_icon(status)} {status_word(status, lang)}",
            marker={"color": STATUS_COLORS[status], "line": {"color": theme.INK, "width": 1}},
            text=[fmt.value(v, ind, lang, target=g) if pd.notna(v) else status_word("no_data", lang)
                  for v, g in zip(part["value"], part["target"])],
            textposition="outside", cliponaxis=False))
    targets = frame["target"].dropna().unique()
    if len(targets) == 1:
        fig.add_vline(x=float(targets[0]), line={"color": "#1f2328", "dash": "dash", "width": 2},
                      annotation_text=f"{t('target', lang)} {fmt.target_value(float(targets[0]), ind, lang)}",
                      annotation_position="bottom right", annotation_font_size=20)
    rows = max(len(frame), 1)
    fig.update_layout(showlegend=True, barmode="overlay", bargap=0.25,
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right",
                              "font": {"size": 20}},
                      xaxis={"range": [0, 112], "ticksuffix": " %" if lang == "vi" else "%", "gridcolor": "#d0d7de"},
                      yaxis={"categoryorder": "array", "categoryarray": list(frame["name"]),
                             "tickfont": {"size": max(12, min(22, int(760 / rows)))}, "automargin": True})
    if not framed:
        return fig
    parent_name = _unit_name(parent) if parent else _unit_name(figures.root_code())
    subtitle = f"{parent_name} · {hierarchy.label(level, lang)} · {period_label(parse_period(period), lang)}"
    src = frame["target_source"].dropna()
    return annotate_for_export(fig, title=figures.name_of_indicator(code, lang), subtitle=subtitle,
                               source=str(src.iloc[0]) if len(src) else None, lang=lang, notes=notes)


def trend_figure(code: str, unit: str, period: str, lang: str, months: int = 24, theme: str = "light") -> go.Figure:
    """The monthly value of `code` for `unit` over `months` months to `period`, with the target
    (and its deadline) as a dashed line and the latest value labelled. No title: see indicator_chart."""
    th = THEMES.get(theme, THEMES["light"])
    end = parse_period(period).end
    frame = figures.series(code, unit, add_months(end, -(months - 1)), end)
    ind = figures.indicator(code)
    target = figures.resolve_target(code, unit, end)
    fig = _base(theme)
    x = [fmt.month(str(p)) for p in frame["period"]]
    reform_marks.add_series(fig, x, frame["value"], frame["basis"], lang, mode="lines+markers",
                            name=t("exp2_value", lang),
                            line={"color": "#1f6feb" if theme == "light" else "#58a6ff", "width": 5},
                            marker={"size": 10}, connectgaps=False)
    reform_marks.add_reform_line(fig, list(frame["period"]), lang, x_of=fmt.month, font_size=20)
    if target is not None:
        fig.add_trace(go.Scatter(x=[x[0], x[-1]] if x else [], y=[target.value, target.value], mode="lines",
                                 name=t("target_by", lang, value=fmt.target_value(target.value, ind, lang),
                                        deadline=fmt.month(target.deadline)),
                                 line={"color": "#cf222e" if theme == "light" else "#ff7b72", "dash": "dash",
                                       "width": 3}))
    values = frame.dropna(subset=["value"])
    if not values.empty:
        last = values.iloc[-1]
        fig.add_annotation(x=fmt.month(str(last["period"])), y=last["value"],
                           text=f"<b>{fmt.value(last['value'], ind, lang)}</b>",
                           showarrow=True, arrowhead=0, ax=0, ay=-50, font={"size": 30, "color": th["ink"]})
    lo = min([v for v in frame["value"].dropna()] + ([target.value] if target else []) + [100]) if len(frame) else 0
    fig.update_layout(showlegend=True,
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right",
                              "font": {"size": 22}},
                      margin={"b": 190},
                      xaxis={"type": "category", "gridcolor": th["grid"], "tickangle": -45, "automargin": False},
                      yaxis={"ticksuffix": " %" if lang == "vi" else "%", "gridcolor": th["grid"],
                             "range": [max(0, lo - 10), 102]})
    return fig


def indicator_chart(code: str, unit: str, period: str, lang: str, months: int = 24,
                    notes: list[str] | None = None) -> go.Figure:
    """The chart behind an overview card, full size, standing on its own (title, unit,
    completeness, target source, data stamp)."""
    fig = trend_figure(code, unit, period, lang, months)
    ind = figures.indicator(code)
    target = figures.resolve_target(code, unit, parse_period(period).end)
    head = figures.headline(code, period, unit)
    subtitle = f"{_unit_name(unit)} · {t('exp2_months', lang, n=months)} · " \
               f"{completeness_line(head.row, ind, lang)}"
    return annotate_for_export(fig, title=figures.name_of_indicator(code, lang), subtitle=subtitle,
                               source=target.source if target and target.source else None, lang=lang, notes=notes)


def has_map(code: str, unit: str) -> bool:
    """A map needs reports below `unit`: an indicator only the province reports has none (its
    slide shows the trend instead)."""
    kinds = tuple(figures.indicator(code).get("reported_by") or ())
    level = figures.entity(unit)["level"]
    return any(hierarchy.is_above(level, k.split(":")[0]) for k in kinds)


def _table_figure(header: list[str], columns: list[list], fills: list[list] | None, widths: list[float],
                  font_colors: list[list] | None = None, row_height: int = 52) -> go.Figure:
    fig = _base()
    n = len(columns[0]) if columns else 0
    fig.add_trace(go.Table(
        columnwidth=widths,
        header={"values": [f"<b>{h}</b>" for h in header], "fill_color": "#0b5394", "align": "left",
                "font": {"color": "#ffffff", "size": 22, "family": FONT_FAMILY}, "height": 54},
        cells={"values": columns, "align": "left", "height": row_height,
               "fill_color": fills or [["#ffffff" if i % 2 == 0 else "#f6f8fa" for i in range(n)]],
               "font": {"size": 21, "family": FONT_FAMILY, "color": font_colors or "#1f2328"}},
    ))
    fig.update_layout(margin={"l": 60, "r": 60})
    return fig


def scorecard_figure(cards: list[Card], unit: str, period_text: str, lang: str,
                     notes: list[str] | None = None) -> go.Figure:
    n = len(cards)
    zebra = ["#ffffff" if i % 2 == 0 else "#f6f8fa" for i in range(n)]
    status_fill = [STATUS_COLORS.get(c.status, "#57606a") for c in cards]
    status_font = [STATUS_TEXT_COLORS.get(c.status, "#ffffff") for c in cards]
    ink = ["#8c959f" if c.stale else "#1f2328" for c in cards]
    columns = [
        [c.name + (f"<br><i>{c.stale_text}</i>" if c.stale_text else "") for c in cards],
        [f"<b>{c.value_text}</b>" for c in cards],
        [c.target_text for c in cards],
        [f"<b>{c.status_text}</b>" for c in cards],
        [c.gap_text or "—" for c in cards],
        [c.completeness_text for c in cards],
    ]
    header = [t(k, lang) for k in ("col_indicator", "col_value", "col_target", "col_status")] + \
             [t("exp2_col_gap", lang), t("col_reporting", lang)]
    fig = _table_figure(header, columns, [zebra, zebra, zebra, status_fill, zebra, zebra],
                        [3.2, 1.2, 2.4, 1.6, 3.4, 3.0],
                        font_colors=[ink, ink, ink, status_font, ink, ink], row_height=max(48, min(96, 800 // max(n, 1))))
    return annotate_for_export(fig, title=t("exp2_scorecard_title", lang),
                               subtitle=f"{_unit_name(unit)} · {period_text}", lang=lang, notes=notes)


def matrix_figure(period: str, level: str, parent: str | None, lang: str, notes: list[str] | None = None,
                  max_rows: int = 22) -> go.Figure:
    """The scorecard page as a picture: units of `level` under `parent` × every indicator, each
    cell the value on its status colour. More units than fit: the ones with most indicators
    off track first (noted in the image)."""
    codes = list(figures.indicators()["code"])
    frames = {c: figures.figures(c, period, level, parent).set_index("code") for c in codes}
    units = frames[codes[0]][["name"]].copy()
    units["_bad"] = sum(frames[c]["status"].reindex(units.index).isin(("overdue", "off_track")).astype(int)
                        for c in codes)
    units["_risk"] = sum((frames[c]["status"].reindex(units.index) == "at_risk").astype(int) for c in codes)
    total = len(units)
    notes = list(notes or [])
    if total > max_rows:
        units = units.sort_values(["_bad", "_risk", "name"], ascending=[False, False, True]).head(max_rows)
        notes.append(t("exp2_matrix_cut", lang, shown=max_rows, total=total))
    units = units.sort_values("name")
    columns = [list(units["name"])]
    fills = [["#ffffff"] * len(units)]
    fonts = [["#1f2328"] * len(units)]
    for c in codes:
        f = frames[c].reindex(units.index)
        ind = figures.indicator(c)
        expected = f["expected"].fillna(0) > 0  # not expected to report: not applicable, not "missing"
        columns.append([(f"{theme.status_icon(s)} " + (fmt.value(v, ind, lang, target=g) if pd.notna(v)
                                                          else status_word("no_data", lang))) if e else "–"
                        for v, g, s, e in zip(f["value"], f["target"], f["status"], expected)])
        fills.append([STATUS_COLORS.get(s, "#ffffff") if e else "#eef1f4" for s, e in zip(f["status"], expected)])
        fonts.append([STATUS_TEXT_COLORS.get(s, "#ffffff") if e else "#57606a" for s, e in zip(f["status"], expected)])
    header = [t("wall_col_unit", lang)] + [figures.name_of_indicator(c, lang, short=True) for c in codes]
    n = len(units)
    fig = _table_figure(header, columns, fills, [2.2] + [1.0] * len(codes), font_colors=fonts,
                        row_height=max(26, min(48, (760 - 28 * len(notes)) // max(n, 1))))
    fig.data[0].header.font.size = 16
    fig.data[0].cells.font.size = 16 if n > 20 else 19
    legend = " · ".join(f"<span style='color:{STATUS_COLORS[s]}'>■</span> {theme.status_icon(s)} {status_word(s, lang)}"
                        for s in ("achieved", "on_track", "at_risk", "off_track", "overdue", "no_data")) + \
        f" · – {t('exp2_not_expected', lang)}"
    where = _unit_name(parent) if parent else _unit_name(figures.root_code())
    return annotate_for_export(fig, title=t("exp2_scorecard_title", lang),
                               subtitle=f"{where} · {hierarchy.label(level, lang)} · "
                                        f"{period_label(parse_period(period), lang)} · {legend}",
                               lang=lang, notes=notes)


#: Rows of a "units behind" table on one slide (a longer list goes on to the next slide).
BEHIND_TABLE_ROWS = 16


def units_behind_figure(blocks: list[dict], unit: str, period_text: str, lang: str,
                        notes: list[str] | None = None, page: tuple[int, int] | None = None) -> go.Figure:
    """The units behind of each indicator in one table: every row of `blocks` is listed, and a
    block whose list was cut (``more``) ends with "+N"; `page` (i, n) when the list goes on
    over several slides."""
    names, units, values, targets, gaps, statuses, fills, fonts = [], [], [], [], [], [], [], []

    def plain(name_cell, unit_cell):
        names.append(name_cell)
        units.append(unit_cell)
        for col in (values, targets, gaps, statuses):
            col.append("")
        fills.append("#ffffff")
        fonts.append("#1f2328")

    for b in blocks:
        kind = hierarchy.kind_word(b["level"], lang)
        title = f"<b>{b['name']}</b>" + ("" if b.get("continued") else
                                          f"<br>{t('wall_behind_of', lang, n=b['count_behind'], total=b['count'], kind=kind)}"
                                          if b.get("applicable", True) and b["rows"] else "")
        if b.get("continued"):
            title = f"<b>{b['name']}</b> ({t('exp2_continued', lang)})"
        if not b["rows"]:
            plain(title, t("wall_none_behind", lang) if b.get("applicable", True)
                  else t("wall_not_broken_down", lang, level=hierarchy.label(b["level"], lang).lower()))
            continue
        for i, r in enumerate(b["rows"]):
            names.append(title if i == 0 else "")
            units.append(r["name"] + (f" <i>({r['stale_text']})</i>" if r["stale_text"] else ""))
            values.append(r["value_text"])
            targets.append(r["target_text"])
            gaps.append(r.get("gap_full") or r["gap_text"])
            statuses.append(f"<b>{r['status_text']}</b>" + (f"<br>⚠ {r['caveat']}" if r.get("caveat") else ""))
            fills.append(STATUS_COLORS[r["status"]])
            fonts.append(STATUS_TEXT_COLORS.get(r["status"], "#ffffff"))
        if b.get("more"):
            plain("", f"<b>{more_text(b['more'], b['level'], lang)}</b>")
    n = len(names)
    white = ["#ffffff"] * n
    header = [t("col_indicator", lang), t("wall_col_unit", lang), t("col_value", lang), t("col_target", lang),
              t("exp2_short_by", lang), t("col_status", lang)]
    fig = _table_figure(header, [names, units, values, targets, gaps, statuses],
                        [white, white, white, white, white, fills], [2.3, 2.3, 1.0, 0.9, 4.0, 1.8],
                        font_colors=["#1f2328", "#1f2328", "#1f2328", "#1f2328", "#1f2328", fonts],
                        row_height=max(36, min(60, 820 // max(n, 1))))
    fig.data[0].cells.font.size = 19
    level = blocks[0]["level"] if blocks else hierarchy.middle_level()
    title = t("wall_behind_title", lang) + (f" ({page[0]}/{page[1]})" if page and page[1] > 1 else "")
    return annotate_for_export(fig, title=title,
                               subtitle=f"{_unit_name(unit)} · {hierarchy.label(level, lang)} · {period_text} · "
                                        f"{t('wall_behind_rule', lang)}", lang=lang, notes=notes)


def behind_pages(blocks: list[dict], rows_per_page: int = BEHIND_TABLE_ROWS) -> list[list[dict]]:
    """`blocks` (units_behind() of several indicators, every row) cut into slides of at most
    `rows_per_page` rows; an indicator's list goes on to the next slide ("tiếp theo")."""
    pages: list[list[dict]] = [[]]
    used = 0
    for b in blocks:
        rows = b["rows"]
        start = 0
        while True:
            room = rows_per_page - used
            if room <= 0 or (not rows and room < 1):
                pages.append([])
                used, room = 0, rows_per_page
            part = rows[start:start + room]
            last = start + len(part) >= len(rows)
            pages[-1].append({**b, "rows": part, "continued": start > 0, "more": b.get("more", 0) if last else 0})
            used += max(len(part), 1) + (1 if last and b.get("more") else 0)
            start += len(part)
            if last:
                break
    return [p for p in pages if p]


def fit_behind(blocks: list[dict], rows: int = BEHIND_TABLE_ROWS) -> list[dict]:
    """For one image: each indicator keeps its share of `rows`, the rest said as "+N"."""
    share = max(2, rows // max(len(blocks), 1) - 1)
    out = []
    for b in blocks:
        keep = b["rows"][:share]
        out.append({**b, "rows": keep, "more": b.get("more", 0) + len(b["rows"]) - len(keep)})
    return out


def completeness_figure(blocks: list[dict], unit: str, period_text: str, lang: str,
                        notes: list[str] | None = None) -> go.Figure:
    fig = _base()
    names = [b["name"] for b in blocks][::-1]
    pcts = [b["pct"] or 0 for b in blocks][::-1]
    fig.add_trace(go.Bar(y=names, x=pcts, orientation="h", marker={"color": "#1f6feb"},
                         text=[f"{b['pct_text']} ({b['reported']}/{b['expected']} {b['kind']})" if b["expected"]
                               else t("exp2_not_expected", lang) for b in blocks][::-1],
                         textposition="outside", cliponaxis=False))
    fig.update_layout(xaxis={"range": [0, 135], "visible": False}, yaxis={"tickfont": {"size": 24}, "automargin": True},
                      bargap=0.35)
    worst = [f"<b>{b['name']}</b>: " + ", ".join(f"{w['name']} {w['pct_text']}" for w in b["worst"])
             for b in blocks if b["worst"]]
    if worst:
        fig.add_annotation(text=t("wall_least_reporting", lang) + "<br>" + "<br>".join(worst), xref="paper",
                           yref="paper", x=0, y=-0.02, xanchor="left", yanchor="top", showarrow=False,
                           align="left", font={"size": 18})
        fig.update_layout(yaxis={"domain": [0.3, 1]})
    return annotate_for_export(fig, title=t("wall_completeness_title", lang),
                               subtitle=f"{_unit_name(unit)} · {period_text}", lang=lang, notes=notes)


# --- assembling -------------------------------------------------------------------------

@dataclass
class Slide:
    key: str
    filename: str
    figure: go.Figure


def briefing_plan(period: str, unit: str | None, lang: str, today: date | None = None) -> list[tuple]:
    """The monthly pack as (key, filename, build) with `build()` making the figure, so the
    briefing command can say how far it got slide by slide: the overview, one map per headline
    indicator (the units behind named on it and listed beside it), the scorecard, then every
    unit behind target (over as many slides as it takes)."""
    lang = lang_or_default(lang)
    root = figures.root_code()
    unit = unit or root
    label = parse_period(period).label
    period_text = period_label(parse_period(label), lang)
    heads = figures.headline_codes()
    newest = figures.latest_month()
    plan = [("overview", export_filename("overview", unit, label),
             lambda: overview_figure([card(c, label, unit, lang, today, newest) for c in heads], unit, period_text,
                                     lang))]

    def map_builder(code):
        if has_map(code, unit):
            return lambda: map_slide_figure(code, label, unit, lang)
        if unit != root and not has_map(code, root) and figures.entity(root)["level"] in \
                figures.indicator(code)["reported_by"]:
            # the province alone reports it: the pack of a zone shows the province's trend, said so
            return lambda: indicator_chart(code, root, label, lang, notes=[t("exp2_province_only", lang)])
        return lambda: indicator_chart(code, unit, label, lang)

    for code in heads:
        plan.append((f"map-{code}", export_filename(code, unit, label), map_builder(code)))
    plan.append(("scorecard", export_filename("scorecard", unit, label),
                 lambda: scorecard_figure(scorecard(label, unit, lang, today), unit, period_text, lang)))
    pages = behind_pages([units_behind(c, label, unit, lang) for c in heads])
    for i, blocks in enumerate(pages, start=1):
        suffix = "" if i == 1 else f"-{i}"
        plan.append((f"units_behind{suffix}", export_filename(f"units-behind{suffix}", unit, label),
                     lambda blocks=blocks, i=i: units_behind_figure(blocks, unit, period_text, lang,
                                                                    page=(i, len(pages)))))
    return plan


def briefing_slides(period: str, unit: str | None, lang: str, today: date | None = None) -> list[Slide]:
    """The monthly pack, every figure built (see briefing_plan)."""
    return [Slide(key, filename, build()) for key, filename, build in briefing_plan(period, unit, lang, today)]


def slide_for_export(slide: str, req: Request) -> tuple[go.Figure, str]:
    """The figure and file name (without .png) of /export/<slide>.png for a request read by
    dashboard.request ("export" view). Its problems (a bad parameter replaced by its default) are
    written inside the image."""
    lang = req.lang
    notes = [p.text(lang) for p in req.problems]
    heads = figures.headline_codes() or list(figures.indicators()["code"])
    code = req.indicator or heads[0]
    unit = req.unit or figures.root_code()
    label = req.period_label
    period_text = period_label(req.period, lang)
    top = figures.entity(unit)["level"] == hierarchy.root_level()
    parent = None if top else unit
    if slide == "overview":
        cards = [card(c, label, unit, lang) for c in heads]
        return overview_figure(cards, unit, period_text, lang, notes=notes), export_filename("overview", unit, label)
    if slide == "unit":  # the unit page's own cards: every indicator reported beneath the unit
        cards = [c for c in (card(i, label, unit, lang) for i in figures.indicators()["code"])
                 if c.status != "not_applicable"] or [card(c, label, unit, lang) for c in heads]
        return overview_figure(cards, unit, period_text, lang, notes=notes), export_filename("unit", unit, label)
    if slide == "map":
        level = req.level if req.level in hierarchy.map_levels() else None
        return map_slide_figure(code, label, unit, lang, notes, level), export_filename(code, unit, label)
    if slide == "scorecard" and req.level:
        return matrix_figure(label, req.level, parent, lang, notes), \
            export_filename(f"scorecard-{req.level}", unit, label)
    if slide == "scorecard":
        return scorecard_figure(scorecard(label, unit, lang), unit, period_text, lang, notes), \
            export_filename("scorecard", unit, label)
    if slide == "units_behind":
        codes = [req.indicator] if req.indicator else heads
        return units_behind_figure(fit_behind([units_behind(c, label, unit, lang) for c in codes]), unit,
                                   period_text, lang, notes), export_filename("units-behind", unit, label)
    if slide == "completeness":
        return completeness_figure([completeness(c, label, unit, lang) for c in heads], unit, period_text, lang,
                                   notes), export_filename("completeness", unit, label)
    # "chart": the trend behind an overview card, or by-unit bars with level=
    if req.level and req.level != hierarchy.root_level():
        return units_chart(code, label, req.level, parent, lang, notes=notes), export_filename(code, unit, label)
    return indicator_chart(code, unit, label, lang, notes=notes), export_filename(code, unit, label)
