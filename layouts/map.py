"""Map (/map): where each indicator stands against its target, zone by zone, commune by commune.

The state lives in the URL: ``/map?indicator=hssk&period=2026-10&level=commune&unit=303
&colouring=scale&lang=en``. ``unit`` is the selected unit: the province or a zone shows its
children at ``level``; a commune (or a zone with ``level=district``) shows its siblings with
it outlined and opens its panel (facilities and trend). Every control and every click only
changes the URL (dcc.Location, refresh="callback-nav"); the page is rebuilt from the URL by
``layout(**query)``, so reload, sharing and back/forward reproduce the view. A bad parameter
gives a warning and a default, never a traceback.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import captions, figures, hierarchy, maps, reform_marks, request
from dashboard.maps import gap_text
from dashboard import formatting as fmt
from dashboard.i18n import t
from dashboard.periods import add_months, parse_period, period_label
from dashboard.request import Request
from dashboard.wording import gap_points_text, row_status, status_word
from layouts.common import (data_until_stamp, export_links, href, lang_param, page_title, period_options, shell,
                            status_badge, status_caveat)

log = logging.getLogger(__name__)

PATH = "/map"
TREND_MONTHS = 24
MAP_HEIGHT = 640


@dataclass
class MapState:
    """The view the URL asks for (a read Request) and what follows from it: which units the map
    shows (the children of `parent` at `level`), the one outlined and the one whose panel opens."""

    req: Request
    root: str
    parent: str = ""
    selected: str | None = None
    focus: str = ""

    @property
    def indicator(self) -> str:
        return self.req.indicator

    @property
    def period(self) -> str:
        return self.req.period_label

    @property
    def level(self) -> str:
        return self.req.level

    @property
    def unit(self) -> str:
        return self.req.unit

    @property
    def colouring(self) -> str:
        return self.req.get("colouring")

    @property
    def lang(self) -> str:
        return self.req.lang

    @property
    def warnings(self) -> list[str]:
        return self.req.warnings()

    def query(self, **changes) -> dict:
        """The URL parameters of this state (with `changes`), defaults left out."""
        return self.req.query(**changes)


def resolve_state(req: Request) -> MapState:
    """What the map shows for a request: a unit above the map level shows its children; a unit
    at (or below) it shows its level-mates with it outlined and its panel open."""
    root = figures.root_code()
    unit = req.unit or root
    ent = figures.entity(unit)
    if ent["level"] == hierarchy.FACILITY:  # a facility: its unit
        unit = str(ent["parent_code"])
        ent = figures.entity(unit)
        req = req.with_(unit=unit)
    level = req.level or hierarchy.map_child(ent["level"])
    req = req.with_(level=level)
    if hierarchy.is_above(ent["level"], level):
        return MapState(req=req, root=root, parent=unit, selected=None, focus=unit)
    chain = dict((lv, code) for code, lv in figures.ancestors(unit))
    selected = chain.get(level, unit)
    try:
        parent = figures.entity(selected).get("parent_code") or root
    except figures.UnknownUnit:
        parent = root
    return MapState(req=req, root=root, parent=str(parent), selected=selected, focus=unit)


# --- pieces -----------------------------------------------------------------------------------

def breadcrumb(state: MapState) -> html.Nav:
    items = []
    for code, level, name in figures.lineage(state.focus):
        label = f"{hierarchy.label(level, state.lang)}: {name}" if level else name
        if code == state.focus:
            items.append(html.Li(label, className="breadcrumb-item active", **{"aria-current": "page"}))
        else:
            target = href(PATH, **state.query(unit=code, level=hierarchy.map_child(level)))
            items.append(html.Li(dcc.Link(label, href=target, id=f"map-crumb-{code}"), className="breadcrumb-item"))
    return html.Nav(html.Ol(items, className="breadcrumb mb-2"), id="map-breadcrumb",
                    **{"aria-label": t("map_breadcrumb", state.lang)})


def controls(state: MapState) -> dbc.Row:
    lang = state.lang
    table = figures.indicators().sort_values("sort_order")
    ind_options = [{"label": figures.name_of_indicator(c, lang, short=True), "value": c} for c in table["code"]]
    months = sorted(figures.months(state.indicator), reverse=True)
    options = period_options(months, lang)
    if state.period not in {o["value"] for o in options}:
        options = [{"label": period_label(parse_period(state.period), lang), "value": state.period}] + options
    return dbc.Row([
        dbc.Col([html.Label(t("map_indicator", lang), htmlFor="map-indicator", className="form-label mb-1"),
                 dcc.Dropdown(id="map-indicator", options=ind_options, value=state.indicator, clearable=False,
                              searchable=False)], md=4),
        dbc.Col([html.Label(t("period", lang), htmlFor="map-period", className="form-label mb-1"),
                 dcc.Dropdown(id="map-period", options=options, value=state.period, clearable=False,
                              searchable=False)], md=2),
        dbc.Col([html.Div(t("map_level", lang), className="form-label mb-1"),
                 dbc.RadioItems(id="map-level", value=state.level, inline=True,
                                options=[{"label": hierarchy.label(lv, lang), "value": lv}
                                         for lv in hierarchy.map_levels()])],
                md=3),
        dbc.Col([html.Div(t("map_colouring", lang), className="form-label mb-1"),
                 dbc.RadioItems(id="map-colouring", value=state.colouring, inline=True,
                                options=[{"label": t(f"map_colouring_{c}", lang), "value": c}
                                         for c in maps.COLOURINGS])], md=3),
    ], className="map-controls g-3 mb-2 align-items-end")


#: Worst first: a missed deadline, then behind, then the rest; nobody reporting after those judged.
WORST_FIRST = {s: i for i, s in enumerate(("overdue", "off_track", "at_risk", "on_track", "achieved", "no_target",
                                           "no_data", "not_applicable"))}


def worst_first(frame: pd.DataFrame) -> list[dict]:
    """The table's rows, worst first: by status (WORST_FIRST), then the largest shortfall, then name."""
    rows = frame.to_dict("records")
    for r in rows:
        r["_status"] = row_status(r)

    def key(r):
        gap = fmt.as_number(r.get("gap_points"))
        return (WORST_FIRST.get(r["_status"], 99), -(gap if gap is not None else float("-inf")),
                sc_collation(r.get("name") or ""))

    return sorted(rows, key=key)


def sc_collation(name: str):
    from dashboard.scorecard import collation_key

    return collation_key(name)


def shortfall_cell(row: dict, ind: dict, lang: str) -> html.Td:
    """'Còn thiếu' in points, never negative: beyond the target it is 0 and says by how much."""
    gap = fmt.as_number(row.get("gap_points"))
    if gap is None:
        return html.Td("—", className="num")
    if gap > 0:
        return html.Td(fmt.number(gap, 1, lang), className="num", title=gap_text(row, ind, lang),
                       **{"data-gap": repr(float(gap))})
    return html.Td([fmt.number(0, 1, lang), html.Span(" (" + gap_points_text(row, ind, lang) + ")",
                                                      className="map-beyond")],
                   className="num", title=gap_text(row, ind, lang), **{"data-gap": "0"})


def _raw(x) -> str:
    x = fmt.as_number(x)
    return "" if x is None else repr(float(x))


def figures_table(frame: pd.DataFrame, ind: dict, state: MapState) -> html.Div:
    """The map's numbers, every row, worst first. Each name is a link that drills like a click on
    the map (Tab reaches it, Enter follows it); a plain table, so focus never gets stuck in it."""
    lang = state.lang
    kind = maps.reporter_word(ind, lang)
    body = []
    for r in worst_first(frame):
        status = r["_status"]
        code = str(r["code"])
        expected, reported = int(r.get("expected") or 0), int(r.get("reported") or 0)
        drill = href(PATH, **state.query(unit=code, level=hierarchy.map_child(state.level)))
        name = dcc.Link(r["name"], href=drill, id=f"map-link-{code}", className="map-row-link")
        body.append(html.Tr([
            html.Th(name, scope="row", className="map-name"),
            html.Td(fmt.value(r.get("value"), ind, lang, target=r.get("target")) if pd.notna(r.get("value"))
                    else "—", className="num"),
            html.Td(fmt.number(r.get("numerator"), 0, lang), className="num"),
            html.Td(fmt.number(r.get("denominator"), 0, lang), className="num"),
            html.Td(fmt.target_value(fmt.as_number(r.get("target")), ind, lang) if fmt.as_number(r.get("target"))
                    is not None else "—", className="num"),
            shortfall_cell(r, ind, lang),
            html.Td(fmt.percent(100.0 * reported / expected, 0, lang) if expected else "—", className="num",
                    title=t("map_col_reported_help", lang, kind=kind) + f": {fmt.number(reported, 0, lang)}/"
                                                                           f"{fmt.number(expected, 0, lang)}"),
            html.Td([status_badge(status, lang) if status != "not_applicable" else status_word(status, lang),
                     status_caveat(r, ind, lang)]),
        ], id=f"map-row-{code}", className="map-row-selected" if code == state.selected else None,
            # the row's figures unformatted, for scripts reading the page (and its tests)
            **{"data-status": status, "data-value": _raw(r.get("value")), "data-numerator": _raw(r.get("numerator")),
               "data-denominator": _raw(r.get("denominator"))}))
    heads = [(hierarchy.label(state.level, lang), None), (t("col_value", lang), None),
             (t("map_col_numerator", lang), ind.get(f"numerator_{lang}") or None),
             (t("map_col_denominator", lang), ind.get(f"denominator_{lang}") or None), (t("target", lang), None),
             (t("map_col_gap", lang), t("map_col_gap_help", lang)),
             (t("map_col_completeness", lang), t("map_col_reported_help", lang, kind=kind)),
             (t("col_status", lang), None)]
    head = html.Thead(html.Tr([html.Th(label, scope="col", title=help_) for label, help_ in heads]))
    return html.Div(html.Table([html.Caption(t("map_table_caption", lang, count=fmt.number(len(body), 0, lang)),
                                             className="map-table-caption"),
                                head, html.Tbody(body)], className="table table-sm map-table", id="map-table"),
                    className="map-table-box", style={"maxHeight": f"{MAP_HEIGHT}px"})


def trend_figure(ind: dict, code: str, state: MapState, target: float | None) -> go.Figure:
    end = figures.effective_period(parse_period(state.period), state.indicator).end
    series = figures.series(state.indicator, code, add_months(end, -(TREND_MONTHS - 1)), end)
    x = [pd.Timestamp(f"{m}-01") for m in series["period"]]
    fig = go.Figure()
    reform_marks.add_series(
        fig, x, series["value"], series["basis"], state.lang, mode="lines+markers", connectgaps=False,
        name=t("col_value", state.lang), line={"color": "#0b5394", "width": 3}, marker={"size": 5},
        customdata=[[maps.value_text(v, ind, state.lang) + ("" if not b else f" ({reform_marks.basis_word(b, state.lang)})"),
                     t("completeness", state.lang, reported=int(r), expected=int(e), kind=maps.reporter_word(ind, state.lang),
                       pct=fmt.percent(100.0 * r / e, 0, state.lang) if e else "—")]
                    for v, r, e, b in zip(series["value"], series["reported"], series["expected"], series["basis"])],
        hovertemplate="%{x|%m/%Y}: %{customdata[0]}<br>%{customdata[1]}<extra></extra>")
    reform_marks.add_reform_line(fig, list(series["period"]), state.lang)
    if target is not None and not pd.isna(target):
        fig.add_hline(y=target, line={"color": "#cf222e", "dash": "dash", "width": 2},
                      annotation_text=t("map_target_tick", state.lang, value=maps.value_text(
                          target, {**ind, "decimals": fmt.decimals_of(ind) if not float(target).is_integer() else 0},
                          state.lang)),
                      annotation_position="top left", annotation_font={"color": "#cf222e"})
    fig.update_layout(
        height=260, margin={"l": 50, "r": 10, "t": 30, "b": 40}, showlegend=False,
        title={"text": t("map_trend_title", state.lang, months=TREND_MONTHS), "x": 0, "font": {"size": 14}},
        separators=",." if state.lang == "vi" else ".,", paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
        font={"family": maps.FONT},
        xaxis={"tickformat": "%m/%Y", "gridcolor": "#eef1f4"},
        yaxis={"ticksuffix": ("\u00a0%" if state.lang == "vi" else "%") if (ind.get("display_unit") or "%") == "%" else "",
               "gridcolor": "#eef1f4",
               "rangemode": "tozero"})
    return fig


def facilities_block(ind: dict, state: MapState) -> html.Div:
    lang = state.lang
    frame = figures.figures(state.indicator, state.period, hierarchy.FACILITY, state.focus)
    frame = frame[frame["expected"] > 0]
    if frame.empty:
        return html.Div(t("map_no_facilities", lang, kind=maps.reporter_word(ind, lang)),
                        className="text-muted map-no-facilities", id="map-facilities")
    types = figures.facilities()["type"].to_dict()
    body = []
    for r in frame.sort_values(["status", "name"]).to_dict("records"):
        status = row_status(r)
        body.append(html.Tr([
            html.Td(r["name"]),
            html.Td(t(f"map_facility_{types.get(r['code'], 'other')}", lang)),
            html.Td(maps.value_text(r.get("value"), ind, lang) if not pd.isna(r.get("value")) else "—",
                    className="num"),
            html.Td(f"{maps.amount(r.get('numerator'), ind, lang)} / {maps.amount(r.get('denominator'), ind, lang)}",
                    className="num"),
            html.Td(status_badge(status, lang) if status != "not_applicable" else status_word(status, lang)),
        ]))
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                               ("map_col_facility", "map_col_type", "col_value", "map_col_ratio", "col_status")]))
    return html.Div([html.H4(t("map_facilities_title", lang), className="h6 mt-2"),
                     dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True,
                               className="map-facilities-table")], id="map-facilities")


def unit_panel(ind: dict, state: MapState) -> dbc.Card:
    lang = state.lang
    ent = figures.entity(state.focus)
    level = ent["level"]
    parent_of_focus = None if level == hierarchy.root_level() else ent.get("parent_code")
    rows = figures.figures(state.indicator, state.period, level, parent_of_focus)
    row = rows[rows["code"] == state.focus]
    row = row.iloc[0].to_dict() if not row.empty else {"code": state.focus, "name": ent["name"], "status": "no_data"}
    status = row_status(row)
    target = row.get("target")
    header = html.Div([
        html.H3(ent["name"], className="h5 mb-1", id="map-panel-name"),
        html.Div([html.Span(maps.value_text(row.get("value"), ind, lang, target=target),
                            className="map-panel-value me-2",
                            id="map-panel-value"),
                  status_badge(status, lang, id="map-panel-status") if status != "not_applicable"
                  else html.Span(status_word(status, lang)),
                  status_caveat(row, ind, lang, id="map-panel-caveat")], className="d-flex align-items-center"),
        html.Div(maps.gap_text(row, ind, lang), className="map-panel-gap"),
        html.Div(maps.completeness_text(row, ind, lang), className="text-muted"),
        dcc.Link(t("map_open_unit", lang), href=href(f"/unit/{state.focus}", period=state.period,
                                                      lang=lang_param(lang)),
                 className="small"),
    ])
    trend = dcc.Graph(id="map-trend", figure=trend_figure(ind, state.focus, state, target),
                      config={"displayModeBar": False})
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([header, trend], lg=6),
        dbc.Col(facilities_block(ind, state), lg=6),
    ])), className="map-panel mt-3", id="map-panel")


def map_body(state: MapState) -> html.Div:
    lang = state.lang
    ind = figures.indicator(state.indicator)
    frame = state.req.in_scope(figures.figures(state.indicator, state.period, state.level, state.parent))
    notes = []
    if not frame.empty and int(frame["expected"].sum()) == 0:
        notes.append(dbc.Alert(t("map_not_broken_down", lang, kind=maps.reporter_word(ind, lang)), color="info",
                               id="map-not-broken-down"))
    from dashboard import boundaries

    if boundaries.layer_for(state.level, state.parent) is None:
        notes.append(dbc.Alert(t("map_no_boundaries_help", lang, level=hierarchy.label(state.level, lang)),
                               color="warning", id="map-no-boundaries"))
    fig = maps.map_figure(state.indicator, state.period, state.level, state.parent, state.colouring, lang,
                          selected=state.selected, title="", height=MAP_HEIGHT, by_url=True)
    where = figures.entity(state.parent)["name"]
    # the camera button saves a 1920x1080 PNG (scale 2) that carries its own caption
    sources = frame["target_source"].dropna() if "target_source" in frame else []
    fig = captions.caption_for_page(fig, title=figures.name_of_indicator(state.indicator, lang),
                                   subtitle=f"{where} · {hierarchy.label(state.level, lang)} · "
                                            f"{period_label(parse_period(state.period), lang)}",
                                   source=str(sources.iloc[0]) if len(sources) else None, lang=lang)
    export_config = captions.graph_config(captions.export_filename(state.indicator, state.parent, state.period))
    graph = dcc.Graph(id="map-graph", figure=fig, className="map-graph",
                      config={**export_config, **maps.GRAPH_CONFIG, "topojsonURL": dash.get_asset_url("topojson/")},
                      style={"height": f"{MAP_HEIGHT}px"})
    heading = html.H2(t("map_heading", lang, indicator=figures.name_of_indicator(state.indicator, lang),
                        level=hierarchy.label(state.level, lang), where=where,
                        period=period_label(parse_period(state.period), lang)),
                      className="map-heading", id="map-heading")
    links = export_links(state.req, "map", unit=state.parent)
    return html.Div([
        heading, links, *notes,
        dbc.Row([
            dbc.Col(html.Div([graph, html.Div(t("map_click_hint", lang), className="map-hint")]), lg=6),
            dbc.Col(figures_table(frame, ind, state), lg=6, className="map-table-col"),
        ], className="g-3"),
        unit_panel(ind, state),
    ])


def layout(**query):
    req = request.read("map", query)
    lang = req.lang
    try:
        if req.period is None or req.indicator is None:
            content = dbc.Alert(t("no_data_yet", lang), color="info")
        else:
            state = resolve_state(req)
            req = state.req
            content = html.Div([
                dcc.Location(id="map-location", refresh="callback-nav"),
                dcc.Store(id="map-state", data={**state.query(), "unit": state.unit, "root": state.root,
                                                "level": state.level, "colouring": state.colouring,
                                                "lang": state.lang}),
                dbc.Row([
                    dbc.Col(html.H1(t("map_title", lang), className="page-title"), md=9),
                    dbc.Col(data_until_stamp(figures.latest_month(state.indicator), lang), md=3,
                            className="text-md-end"),
                ], className="align-items-center mb-2"),
                controls(state),
                breadcrumb(state),
                map_body(state),
            ], id="map-page", **{"data-state": f"{state.indicator}|{state.period}|{state.level}|{state.unit}|"
                                               f"{state.colouring}"})
    except Exception:  # a hand-edited URL or a database hiccup must never show a traceback
        log.exception("map page failed")
        content = dbc.Alert(t("error_generic", lang), color="secondary")
    return shell(content, req=req, active="map", path=PATH)


dash.register_page(__name__, cache_view="map", path=PATH, name="map", nav="nav_map", order=1, title=page_title("nav_map"),
                   layout=layout)


def next_query(state: dict, trigger: str | None, indicator=None, period=None, level=None, colouring=None,
               click=None) -> dict | None:
    """The URL parameters after one user action on the page with `state`, or None for no change."""
    new = {k: state.get(k) for k in ("indicator", "period", "level", "unit", "colouring", "lang")}
    if trigger == "map-indicator" and indicator:
        new["indicator"] = indicator
    elif trigger == "map-period" and period:
        new["period"] = period
    elif trigger == "map-level" and level:
        new["level"] = level
    elif trigger == "map-colouring" and colouring:
        new["colouring"] = colouring
    elif trigger == "map-graph" and click:
        points = click.get("points") or []
        data = points[0].get("customdata") if points and isinstance(points[0], dict) else None
        if not isinstance(data, list) or len(data) < 3 or not data[0]:
            return None
        new["unit"] = str(data[0])
        lowest = hierarchy.lowest_level()
        new["level"] = lowest if data[2] in (hierarchy.FACILITY, lowest) else (data[2] or new["level"])
    else:
        return None
    if new == {k: state.get(k) for k in new}:
        return None
    if new.get("unit") == state.get("root"):
        new["unit"] = None
    if new.get("colouring") == "status":
        new["colouring"] = None
    if new.get("lang") == "vi":
        new["lang"] = None
    return new


@callback(Output("map-location", "search"),
          Input("map-indicator", "value"), Input("map-period", "value"), Input("map-level", "value"),
          Input("map-colouring", "value"), Input("map-graph", "clickData"),
          State("map-state", "data"), prevent_initial_call=True)
def _state_to_url(indicator, period, level, colouring, click, state):
    # Callback payloads come from the browser: anything of the wrong shape is no action.
    state = state if isinstance(state, dict) else {}
    click = click if isinstance(click, dict) else None
    query = next_query(state, ctx.triggered_id, indicator, period, level, colouring, click)
    if query is None:
        return no_update
    return href("", **request.read("map", query).query())
