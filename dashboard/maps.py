"""Choropleth maps of an indicator on the department's own boundaries (no internet base map).

Two entry points:

* :func:`choropleth_figure` is pure: a figures frame (``dashboard.figures.figures()``
  output) plus a GeoJSON FeatureCollection whose feature ids are unit codes -> a figure.
* :func:`map_figure` reads those for you (figures + the boundary layer prepared for that
  level and parent, ``dashboard.boundaries.feature_collection``) and
  is what the map page, the wall screen and the briefing exports call.

The figure uses plotly's ``go.Choropleth`` (d3-geo, drawn as SVG: no WebGL, so it renders
on any wall screen and in headless Chromium, prints sharply and exports with kaleido).
Its two offline fixes are applied: the stored rings are clockwise (see
``dashboard.boundaries``) and plotly's base topology is served from ``assets/topojson``
(:data:`GRAPH_CONFIG` for ``dcc.Graph``, :data:`TOPOJSON_URL` for kaleido, also set as
``plotly.io.defaults.topojson``). Units with no report are grey ("chưa báo cáo"), never 0.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from . import figures, hierarchy, request, theme
from . import formatting as fmt
from .formatting import as_number
from .i18n import lang_or_default, t
from .periods import parse_period, period_label
from . import wording
from .wording import amount, reporter_word, row_status, status_word

ROOT = Path(__file__).resolve().parent.parent
TOPOJSON_DIR = ROOT / "assets" / "topojson"
#: For kaleido (``Kaleido.calc_fig(..., topojson=TOPOJSON_URL)`` / ``fig.write_image``).
TOPOJSON_URL = TOPOJSON_DIR.as_uri() + "/"
#: For ``dcc.Graph(config=...)`` on a page served by the app (assets/ is served at /assets/).
GRAPH_CONFIG = {"topojsonURL": "/assets/topojson/", "displaylogo": False, "scrollZoom": False,
                "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
if pio.defaults.topojson is None:
    pio.defaults.topojson = TOPOJSON_URL

COLOURINGS = ("status", "scale")
FONT = theme.FONT
_SHORT, _BEYOND, _NO_TARGET_SCALE = theme.SCALE_SHORT, theme.SCALE_BEYOND, theme.SCALE_NO_TARGET
FACILITY_SYMBOLS = {"hospital": "square", "health_centre": "diamond", "station": "circle", "other": "triangle-up"}


def value_text(value, indicator: dict, lang: str, target=None) -> str:
    return fmt.value(value, indicator, lang, target=target)


def completeness_text(row: dict, indicator: dict, lang: str) -> str:
    if int(as_number(row.get("expected")) or 0) == 0:
        return t("map_not_expected", lang, kind=reporter_word(indicator, lang))
    return wording.completeness_text(row, indicator, lang)


def gap_text(row: dict, indicator: dict, lang: str) -> str:
    """The gap as every view words it (dashboard.wording): in real units where there are some."""
    if as_number(row.get("target")) is None:
        return t("map_no_target", lang)
    if as_number(row.get("value")) is None:
        return "—"
    sentence = wording.gap_sentence(row, indicator, lang)
    units = as_number(row.get("gap_units"))
    if sentence == t("gap_met", lang) or units is None or units <= 0:
        return sentence  # already in points, or met
    return f"{sentence} ({wording.gap_points_text(row, indicator, lang)})"


def hover_text(row: dict, indicator: dict, lang: str) -> str:
    """Name, value, numerator/denominator, target, gap, completeness and status (HTML)."""
    status = row_status(row)
    unit = indicator.get(f"unit_{lang}") or indicator.get("unit_vi") or ""
    lines = [f"<b>{row.get('name') or row.get('code')}</b>"]
    if status == "not_applicable":
        lines.append(status_word(status, lang))
    elif as_number(row.get("value")) is None:
        lines.append(t("map_hover_value", lang, value=status_word("no_data", lang)))
    else:
        lines.append(t("map_hover_value", lang, value=value_text(row.get("value"), indicator, lang,
                                                                  target=row.get("target"))))
        lines.append(t("map_hover_ratio", lang, numerator=amount(row.get("numerator"), indicator, lang),
                       denominator=amount(row.get("denominator"), indicator, lang), unit=unit).strip())
    target = as_number(row.get("target"))
    if target is not None:
        deadline = row.get("deadline")
        lines.append(t("map_hover_target", lang, value=value_text(target, indicator, lang),
                       deadline=fmt.month(deadline) if isinstance(deadline, str) else "—"))
    if status != "not_applicable":
        lines.append(t("map_hover_gap", lang, gap=gap_text(row, indicator, lang)))
    lines.append(completeness_text(row, indicator, lang))
    if status != "not_applicable":
        lines.append(t("map_hover_status", lang, status=wording.status_with_caveat(row, indicator, lang)))
    return "<br>".join(lines)


# --- framing ---------------------------------------------------------------------------------

def _rings(geometry: dict):
    polys = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon":
        polys = [polys]
    for poly in polys:
        if poly:
            yield np.asarray(poly[0], dtype=float).reshape(-1, 2)


def _ring_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def frame_bounds(geojson: dict, shapes: dict | None = None) -> tuple[list[float] | None, list[str]]:
    """The lon/lat box to show and the feature ids left outside it.

    The box holds the features that make up 99 % of the area and every feature close to
    them; a tiny far island (Bạch Long Vĩ is 130 km out at sea) would otherwise shrink the
    whole province to a corner. The ids outside are named under the map. `shapes` (code ->
    box and area, prepared with the layer) spares reading the coordinates."""
    feats = []
    for feat in geojson.get("features", []):
        code = str(feat.get("id"))
        known = shapes.get(code) if shapes else None
        if known is not None:
            minx, miny, maxx, maxy, area = known
            feats.append((code, float(area), minx, miny, maxx, maxy))
            continue
        rings = list(_rings(feat.get("geometry") or {}))
        if not rings:
            continue
        pts = np.vstack(rings)
        feats.append((code, sum(_ring_area(r) for r in rings),
                      pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()))
    if not feats:
        return None, []
    total = sum(f[1] for f in feats) or 1.0
    ordered = sorted(feats, key=lambda f: -f[1])
    core, acc = [], 0.0
    for f in ordered:
        core.append(f)
        acc += f[1]
        if acc >= 0.99 * total:
            break
    box = [min(f[2] for f in core), min(f[3] for f in core), max(f[4] for f in core), max(f[5] for f in core)]
    dx, dy = max(box[2] - box[0], 0.01), max(box[3] - box[1], 0.01)
    near = [box[0] - 0.25 * dx, box[1] - 0.25 * dy, box[2] + 0.25 * dx, box[3] + 0.25 * dy]
    outside = []
    for f in ordered[len(core):]:
        if f[2] >= near[0] and f[3] >= near[1] and f[4] <= near[2] and f[5] <= near[3]:
            box = [min(box[0], f[2]), min(box[1], f[3]), max(box[2], f[4]), max(box[3], f[5])]
        else:
            outside.append(f[0])
    pad_x, pad_y = 0.03 * max(box[2] - box[0], 0.01), 0.03 * max(box[3] - box[1], 0.01)
    return [box[0] - pad_x, box[1] - pad_y, box[2] + pad_x, box[3] + pad_y], outside


# --- colour scale ----------------------------------------------------------------------------

def _common_target(frame: pd.DataFrame) -> float | None:
    if "target" not in frame:
        return None
    targets = pd.to_numeric(frame["target"], errors="coerce").dropna()
    if targets.empty:
        return None
    return float(targets.round(6).mode().iloc[0])


def scale_for(values: pd.Series, target: float | None, indicator: dict) -> tuple[list, float, float]:
    """(colorscale, zmin, zmax): a diverging scale that changes hue exactly at the target
    (browns short of it, blue-greens where it is met), or a plain blue scale without one.
    A value equal to the target gets the "met" side."""
    vals = pd.to_numeric(values, errors="coerce").dropna()
    lo = float(vals.min()) if not vals.empty else 0.0
    hi = float(vals.max()) if not vals.empty else 100.0
    if target is not None:
        lo, hi = min(lo, target), max(hi, target)
    pad = max((hi - lo) * 0.05, 1.0)
    lo, hi = lo - pad, hi + pad
    if lo < 0 <= (float(vals.min()) if not vals.empty else 0.0) and (target is None or target >= 0):
        lo = 0.0
    if target is None:
        return _NO_TARGET_SCALE, lo, hi
    eps = 1e-9
    p = min(max((target - lo) / (hi - lo), 0.0), 1.0)
    if indicator.get("higher_is_better", True):
        low_side, high_side, cut = _SHORT, _BEYOND, p          # value == target -> high side (met)
    else:
        low_side, high_side, cut = _BEYOND[::-1], _SHORT[::-1], min(p + eps, 1.0)  # -> low side (met)
    scale: list = []
    if cut > 0:
        scale += [[0.0, low_side[0]], [cut / 2, low_side[1]], [max(cut - eps, 0.0), low_side[2]]]
    if cut < 1:
        scale += [[cut, high_side[0]], [cut + (1 - cut) / 2, high_side[1]], [1.0, high_side[2]]]
    else:
        scale[-1][0] = 1.0
    return scale, lo, hi


def _ticks(lo: float, hi: float, target: float | None, indicator: dict, lang: str) -> tuple[list, list]:
    step_options = (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
    raw = (hi - lo) / 5 or 1.0
    step = next((s for s in step_options if s >= raw), raw)
    first = math.ceil(lo / step) * step
    vals = [v for v in np.arange(first, hi + step * 0.001, step)]
    if (indicator.get("display_unit") or "%") == "%":
        vals = [v for v in vals if 0 <= v <= 100]
    if target is not None:
        vals = [v for v in vals if abs(v - target) > 0.06 * (hi - lo)]
    texts = [fmt.target_value(v, indicator, lang) for v in vals]
    if target is not None:
        vals.append(target)
        texts.append("<b>" + t("map_target_tick", lang, value=fmt.target_value(target, indicator, lang)) + "</b>")
    return [float(v) for v in vals], texts


# --- the figure ------------------------------------------------------------------------------

def _subset(features_by_id: dict, codes) -> dict:
    return {"type": "FeatureCollection", "features": [features_by_id[c] for c in codes if c in features_by_id]}


def choropleth_figure(frame: pd.DataFrame, boundaries_geojson: dict, indicator: dict, colouring: str = "status",
                      lang: str = "vi", title: str | None = None, *, selected: str | None = None,
                      facilities: pd.DataFrame | None = None, height: int | None = None,
                      drill_level: str | None = None, geojson_url: str | None = None) -> go.Figure:
    """A choropleth of `frame` (figures rows: code, name, value, numerator, denominator,
    target, status, reported, expected...) on `boundaries_geojson` (feature ids = codes).

    colouring: "status" (against the target, STATUS_COLORS) or "scale" (continuous, the
    target marked on the colour bar). Units without a report are grey, never 0. Each trace's
    customdata is [code, hover text, drill level], so a click can drill down.
    `selected` outlines one unit; `facilities` (code, name, type, lat, lon, value, status,
    expected, parent code) adds markers; `drill_level` is put in customdata for clicks.
    `geojson_url`, when given, is where the browser fetches `boundaries_geojson` (a prepared
    layer's URL): the traces name it instead of carrying the coordinates."""
    lang = lang_or_default(lang)
    colouring = colouring if colouring in COLOURINGS else "status"
    colors = theme.STATUS_COLORS
    features_by_id = {str(f.get("id")): f for f in boundaries_geojson.get("features", [])}
    rows = frame.to_dict("records") if frame is not None else []
    for row in rows:
        row["code"] = str(row.get("code"))
        row["_status"] = row_status(row)
        row["_hover"] = hover_text(row, indicator, lang)
    drawn = [r for r in rows if r["code"] in features_by_id]
    missing_shapes = [r for r in rows if r["code"] not in features_by_id]
    fig = go.Figure()

    def outline(codes):
        widths = [3.0 if c == selected else 0.8 for c in codes]
        line_colors = ["#1f2328" if c == selected else "#ffffff" for c in codes]
        return {"line": {"width": widths, "color": line_colors}}

    def trace(subset, name, z, colorscale, **extra):
        codes = [r["code"] for r in subset]
        return go.Choropleth(
            geojson=geojson_url or _subset(features_by_id, codes), featureidkey="id", locations=codes, z=z,
            colorscale=colorscale, marker=outline(codes), name=name,
            customdata=[[r["code"], r["_hover"], drill_level or ""] for r in subset],
            hovertemplate="%{customdata[1]}<extra></extra>",
            hoverlabel={"font": {"family": FONT}}, **extra)

    if colouring == "status":
        for status in theme.STATUS_ORDER:
            subset = [r for r in drawn if r["_status"] == status]
            if not subset:
                continue
            c = theme.status_color(status)
            fig.add_trace(trace(subset, legend_name(status, len(subset), lang), [1] * len(subset),
                                [[0, c], [1, c]], zmin=0, zmax=1, showscale=False, showlegend=True,
                                legendgroup=status))
    else:
        reported = [r for r in drawn if r["_status"] not in ("no_data", "not_applicable") and as_number(r.get("value"))
                    is not None]
        target = _common_target(frame) if frame is not None else None
        values = pd.Series([as_number(r.get("value")) for r in reported], dtype="float64")
        scale, lo, hi = scale_for(values, target, indicator)
        tickvals, ticktext = _ticks(lo, hi, target, indicator, lang)
        if reported:
            fig.add_trace(trace(reported, t("map_legend_value", lang), values.tolist(), scale, zmin=lo, zmax=hi,
                                showscale=True, showlegend=False,
                                colorbar={"title": {"text": figures_short_name(indicator, lang), "side": "right"},
                                          "tickvals": tickvals, "ticktext": ticktext, "ticks": "outside",
                                          "ticklen": 6, "len": 0.8, "thickness": 16, "x": 1.0}))
        for status in ("no_data", "not_applicable"):
            subset = [r for r in drawn if r["_status"] == status]
            if subset:
                c = colors[status]
                fig.add_trace(trace(subset, legend_name(status, len(subset), lang), [1] * len(subset),
                                    [[0, c], [1, c]], zmin=0, zmax=1, showscale=False, showlegend=True,
                                    legendgroup=status))

    if facilities is not None and not facilities.empty:
        _add_facilities(fig, facilities, indicator, lang, colors)

    bounds, outside = frame_bounds(_subset(features_by_id, [r["code"] for r in drawn]),
                                   boundaries_geojson.get("shapes"))
    geo = {"visible": False, "projection": {"type": "mercator"}, "bgcolor": "rgba(0,0,0,0)",
           "showframe": False}
    if bounds:
        geo["lonaxis"] = {"range": [bounds[0], bounds[2]]}
        geo["lataxis"] = {"range": [bounds[1], bounds[3]]}
    else:
        geo["fitbounds"] = "locations"
    notes = []
    names = {r["code"]: r.get("name") or r["code"] for r in rows}
    status_of = {r["code"]: r["_status"] for r in rows}
    if outside:
        notes.append(t("map_outside_frame", lang, units="; ".join(
            f"{names.get(c, c)} ({status_word(status_of.get(c, 'no_data'), lang)})" for c in outside)))
    if missing_shapes:
        notes.append(t("map_no_shape", lang, units="; ".join(r.get("name") or r["code"] for r in missing_shapes)))
    if not drawn:
        notes.append(t("map_no_boundaries", lang))
    fig.update_layout(
        geo=geo,
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}} if title else None,
        margin={"l": 4, "r": 4, "t": 40 if title else 6, "b": 34 + 18 * len(notes)},
        height=height, font={"family": FONT, "size": 13}, separators=",." if lang == "vi" else ".,",
        paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", dragmode=False,
        legend={"orientation": "h", "x": 0.0, "y": 0.0, "yanchor": "top", "bgcolor": "rgba(255,255,255,0.85)",
                "itemclick": False, "itemdoubleclick": False, "font": {"size": 12}},
        annotations=[{"text": n, "xref": "paper", "yref": "paper", "x": 0.0, "y": 0.0, "yshift": -30 - 18 * i,
                      "xanchor": "left", "yanchor": "top", "showarrow": False, "align": "left",
                      "font": {"size": 11, "color": "#57606a"}} for i, n in enumerate(notes)],
        meta={"outside": outside, "no_shape": [r["code"] for r in missing_shapes], "colouring": colouring},
    )
    return fig


def legend_name(status: str, count: int, lang: str) -> str:
    """A legend entry carries the status's icon beside its colour (colour is never alone)."""
    return f"{theme.status_icon(status)} {status_word(status, lang)} ({count})"


def figures_short_name(indicator: dict, lang: str) -> str:
    name = indicator.get(f"short_{lang}") or indicator.get(f"name_{lang}") or indicator.get("name_vi") or ""
    unit = indicator.get("display_unit") or "%"
    return f"{name} ({unit})" if unit else name


def _add_facilities(fig: go.Figure, facilities: pd.DataFrame, indicator: dict, lang: str, colors: dict) -> None:
    fac = facilities.dropna(subset=["lat", "lon"])
    for ftype, group in fac.groupby("type", sort=False):
        records = group.to_dict("records")
        fill, hover = [], []
        for r in records:
            expected = as_number(r.get("expected")) or 0
            status = row_status(r) if expected else "not_applicable"
            fill.append(theme.status_color(status) if expected else "#ffffff")
            lines = [f"<b>{r.get('name')}</b>"]
            if expected:
                lines.append(t("map_hover_value", lang, value=value_text(r.get("value"), indicator, lang)
                               if as_number(r.get("value")) is not None else status_word("no_data", lang)))
                lines.append(t("map_hover_status", lang, status=status_word(status, lang)))
            else:
                lines.append(t("map_facility_not_expected", lang))
            hover.append("<br>".join(lines))
        fig.add_trace(go.Scattergeo(
            lon=group["lon"].astype(float).tolist(), lat=group["lat"].astype(float).tolist(), mode="markers",
            name=t(f"map_facility_{ftype}", lang), legendgroup=f"facility-{ftype}",
            marker={"symbol": FACILITY_SYMBOLS.get(ftype, "circle"), "size": 11 if ftype == "hospital" else 9,
                    "color": fill, "line": {"color": "#1f2328", "width": 1.2}},
            customdata=[[str(r.get("parent_code") or ""), h, "facility", str(r.get("code"))]
                        for r, h in zip(records, hover)],
            hovertemplate="%{customdata[1]}<extra></extra>", hoverlabel={"font": {"family": FONT}}))


# --- reading the database --------------------------------------------------------------------

def map_title(indicator_code: str, period: str, parent: str | None, lang: str) -> str:
    lang = lang_or_default(lang)
    name = figures.name_of_indicator(indicator_code, lang, short=True)
    try:
        where = figures.entity(parent)["name"] if parent else figures.entity(figures.root_code())["name"]
    except LookupError:
        where = parent or ""
    return f"{name} — {where} — {period_label(parse_period(period), lang)}"


def facility_frame(indicator_code: str, period: str, parent: str) -> pd.DataFrame:
    """Facilities with coordinates under `parent` with their figures for the indicator."""
    fac = figures.facilities()
    rows = figures.figures(indicator_code, period, "facility", parent)
    frame = rows.merge(fac[["code", "type", "lat", "lon"]], on="code", how="left")
    return frame.dropna(subset=["lat", "lon"])


def map_figure(indicator_code: str, period: str | None, level: str, parent: str | None = None,
               colouring: str = "status", lang: str = "vi", *, selected: str | None = None,
               facilities: bool | None = None, title: str | None = None, height: int | None = None,
               by_url: bool = False) -> go.Figure:
    """The map of one indicator and period: the units of `level` under `parent` (default:
    the province), coloured by status or on a continuous scale. Facilities with coordinates
    are added as markers at commune level. Raises figures.UnknownIndicator, PeriodError,
    figures.UnknownUnit or ValueError (bad level/colouring) for bad arguments.
    `by_url` (a page in a browser): the outlines are named by their layer's URL
    (``layer_url``) rather than carried in the figure, where that is allowed and worth it."""
    from . import boundaries

    if level not in hierarchy.unit_levels():
        raise ValueError(f"Cấp bản đồ không hợp lệ {level!r} / invalid map level {level!r}")
    if colouring not in COLOURINGS:
        raise ValueError(f"Cách tô màu không hợp lệ {colouring!r} (status, scale) / invalid colouring")
    ind = figures.indicator(indicator_code)
    period_value = figures.resolve_period(period, indicator_code).label
    root = figures.root_code()
    parent = parent or root
    figures.entity(parent)  # raises UnknownUnit
    top = level == hierarchy.root_level()
    # Only the units the reader may see (a unit head's map of their zone among its level-mates
    # shows their zone alone): the rows, and so the shapes drawn, go through the reader's scope.
    frame = request.in_scope(figures.figures(indicator_code, period_value, level, None if top else parent))
    # The layer prepared for this parent (its extent chose the tolerance), parsed once per
    # boundary version: nothing here reads or copies coordinates.
    codes = list(frame["code"].astype(str))
    geojson = boundaries.feature_collection(level, codes, parent=root if top else parent)
    url = layer_url(level, root if top else parent, len(codes)) if by_url else None
    if facilities is None:
        facilities = level == hierarchy.lowest_level()
    fac = facility_frame(indicator_code, period_value, parent) if facilities else None
    if fac is not None:
        fac = request.in_scope(fac)
    if fac is not None and parent == root:
        fac = fac[fac["expected"] > 0]  # province-wide: only the facilities that report it
    if title is None:
        title = map_title(indicator_code, period_value, parent, lang)
    child = hierarchy.map_child(level)
    return choropleth_figure(frame, geojson, ind, colouring, lang, title or None, selected=selected,
                             facilities=fac, height=height, drill_level=child, geojson_url=url)


def layer_url(level: str, parent: str, drawn: int) -> str | None:
    """The URL of the prepared layer a map of `level` under `parent` draws, or None when the
    figure should carry its outlines itself: a reader limited to some units (the route serves
    readers of everything only), no prepared layer, or a layer much larger than what is drawn
    (the whole level's, fallen back on for a parent with no layer of its own, such as an old
    unit: its few units are cheaper inline than a country's outlines fetched)."""
    from . import boundaries, geoserve

    if not geoserve.serves_reader():
        return None
    found = boundaries.layer_for(level, parent)
    if found is None or not found.version or not found.text:
        return None
    if len(found.features) > 2 * max(drawn, 1):
        return None
    return found.url
