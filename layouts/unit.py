"""Unit page (/unit/<code>): what a unit head opens every month.

Every indicator the unit (or facility) reports, against its own or inherited target: the
value and status, the gap in real numbers, one plain sentence, the trend with the target,
the deadline and the projection cone, the rank among peers, reporting completeness; then the
units beneath it with links down and a breadcrumb up. Parameters (dashboard.request, view
"unit"): the unit from the path, period, lang. An unknown code gives a friendly page, a unit
outside the user's scope says so; never a traceback.
"""
from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, hierarchy, progress, reform_marks, request, theme
from dashboard import formatting as fmt
from dashboard import scorecard as sc
from dashboard import wording
from dashboard import unitview as uv
from dashboard.i18n import t
from dashboard.periods import parse_period, period_label
from dashboard.request import Request
from dashboard.unitkeys import official
from layouts.common import (data_until_stamp, export_links, href, lang_param, page_title, period_options, shell,
                            status_badge, status_caveat)
from layouts.targets import scorecard_table

log = logging.getLogger(__name__)

MISSING_NAMES_SHOWN = 12


def level_word(ent: dict, lang: str) -> str:
    if ent["level"] == hierarchy.FACILITY:
        return t(f"kind_facility:{ent.get('type') or 'other'}", lang)
    return hierarchy.label(ent["level"], lang)


def breadcrumb(code: str, period: str, lang: str):
    items = []
    for anc, _level, name in figures.lineage(code):
        if anc == code:
            items.append(html.Li(name, className="breadcrumb-item active", **{"aria-current": "page"}))
        else:
            items.append(html.Li(dcc.Link(name, href=href(f"/unit/{anc}", period=period, lang=lang_param(lang))),
                                 className="breadcrumb-item"))
    return html.Nav(html.Ol(items, className="breadcrumb"), **{"aria-label": t("unit_breadcrumb", lang)},
                    id="unit-breadcrumb")


def _date(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01")


def trend_figure(up: uv.UnitProgress, ind: dict, lang: str) -> go.Figure:
    prog = up.progress
    status = up.row.get("status") or "no_data"
    color = theme.status_color(status)
    hist = up.history
    fig = go.Figure()
    reform_marks.add_series(fig, [_date(m) for m in hist["period"]], hist["value"], hist["basis"], lang,
                            mode="lines+markers", name=t("unit_chart_actual", lang),
                            line={"color": "#0b5394", "width": 2.5}, marker={"size": 5}, connectgaps=False,
                            hovertemplate="%{x|%m/%Y}: %{y:.1f}%<extra></extra>")
    reform_marks.add_reform_line(fig, list(hist["period"]), lang)
    ys = [v for v in hist["value"] if pd.notna(v)]
    xs = [_date(m) for m in hist["period"]]
    cone = uv.cone(prog, uv.pace_error(up.observations, prog.value_month))
    if not cone.empty:
        cx = [_date(m) for m in cone["month"]]
        fig.add_trace(go.Scatter(x=cx, y=cone["low"], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=cx, y=cone["high"], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(31,111,235,0.15)", name=t("unit_chart_band", lang),
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=cx, y=cone["centre"], mode="lines", line={"color": color, "dash": "dash",
                                                                              "width": 2},
                                 name=t("unit_chart_projection", lang),
                                 hovertemplate="%{x|%m/%Y}: %{y:.1f}%<extra></extra>"))
        ys += list(cone["low"]) + list(cone["high"])
        xs += cx
    if prog.value is not None and prog.value_month:
        fig.add_trace(go.Scatter(x=[_date(prog.value_month)], y=[prog.value], mode="markers", showlegend=False,
                                 marker={"size": 10, "color": color, "line": {"color": "#1f2328", "width": 1}},
                                 hovertemplate="%{x|%m/%Y}: %{y:.1f}%<extra></extra>"))
        ys.append(prog.value)
    target = up.row.get("target")
    deadline = up.row.get("deadline")
    if deadline:
        xs.append(_date(deadline))
    if target is not None and pd.notna(target):
        ys.append(float(target))
        fig.add_hline(y=float(target), line={"color": "#57606a", "dash": "dot", "width": 1.5},
                      annotation_text=t("unit_chart_target", lang, value=fmt.target_value(target, ind, lang)),
                      annotation_position="top left")
    if deadline:
        fig.add_shape(type="line", x0=_date(deadline), x1=_date(deadline), y0=0, y1=1, yref="paper",
                      line={"color": "#cf222e", "dash": "dot", "width": 1.5})
        fig.add_annotation(x=_date(deadline), y=1, yref="paper", yanchor="bottom", xanchor="right", showarrow=False,
                           text=t("unit_chart_deadline", lang, month=fmt.month(deadline)), font={"size": 11})
    lo = max(0.0, min(ys) - 5) if ys else 0.0
    hi = min(105.0, max(ys) + 5) if ys else 100.0
    fig.update_layout(height=260, margin={"l": 40, "r": 10, "t": 24, "b": 10},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="#ffffff",
                      legend={"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
                      yaxis={"range": [lo, hi], "ticksuffix": " %" if lang == "vi" else "%", "gridcolor": "#eaeef2"},
                      xaxis={"range": [min(xs) - pd.Timedelta(days=15), max(xs) + pd.Timedelta(days=15)] if xs else None,
                             "tickformat": "%m/%Y", "gridcolor": "#eaeef2"},
                      separators=",." if lang == "vi" else ".,")
    return fig


def target_line(up: uv.UnitProgress, ind: dict, code: str, lang: str) -> list:
    target, deadline = fmt.as_number(up.row.get("target")), up.row.get("deadline")
    if target is None:
        return [t("no_target_set", lang)]
    lines = [t("target_by", lang, value=fmt.target_value(target, ind, lang), deadline=fmt.month(deadline))]
    scope = up.target_scope
    if scope == code:
        lines.append(" · " + t("unit_target_own", lang))
    elif scope:
        try:
            name = figures.entity(scope)["name"]
        except figures.UnknownUnit:
            name = scope
        lines.append(" · " + t("unit_target_inherited", lang, name=name))
    return lines


def gap_line(up: uv.UnitProgress, ind: dict, lang: str) -> list:
    """What is still missing, as every view words it, and the whole still missing beneath it."""
    sentence = wording.gap_sentence(up.row, ind, lang)
    if not sentence:
        return []
    units = fmt.as_number(up.row.get("gap_units"))
    if units is not None and units > 0 and sentence != t("gap_met", lang):
        sentence = f"{sentence} ({wording.gap_points_text(up.row, ind, lang)})"
    sentence = sentence[:1].upper() + sentence[1:]
    lines = [html.Div(sentence)]
    rest = wording.remainder_sentence(up.row, ind, lang)
    if rest:
        lines.append(html.Div(rest[:1].upper() + rest[1:], className="kpi-remainder"))
    return lines


def rank_text(code: str, ent: dict, ind_code: str, period: str, lang: str) -> str:
    ind = figures.indicator(ind_code)
    # An old unit is ranked among the units of then; a unit of today among today's.
    peers = figures.figures(ind_code, period, ent["level"], None,
                            figures.UNITS_PERIOD if figures.is_old(code) else None)
    if ent["level"] == hierarchy.FACILITY:
        same = figures.facilities()
        kind = same.loc[code, "type"] if code in same.index else None
        peers = peers[peers["code"].map(same["type"]) == kind]
        peers_word = t("unit_peers_facility", lang)
    else:
        peers_word = hierarchy.kind_word(ent["level"], lang)
    peers = peers[peers["expected"] > 0]
    got = sc.peer_rank(peers, code, bool(ind["higher_is_better"]))
    if got is None:
        return t("unit_rank_none", lang)
    if got[1] == 1:  # the only one of its kind (the province): nothing to rank against
        return ""
    return t("unit_rank", lang, rank=fmt.number(got[0], 0, lang), count=fmt.number(got[1], 0, lang), peers=peers_word)


def reporting_block(ind_code: str, period: str, code: str, lang: str):
    result = sc.completeness(ind_code, period, code)
    expected, reported = result["expected"], result["reported"]
    pct = fmt.percent(100.0 * reported / expected, 1, lang) if expected else "—"
    parts = [html.Span(t("unit_reporting", lang, reported=fmt.number(reported, 0, lang),
                         expected=fmt.number(expected, 0, lang), pct=pct), id=f"unit-reporting-{ind_code}")]
    missing = [e for g in result["missing"] for e in g["entities"]]
    if missing:
        names = ", ".join(e["name"] for e in missing[:MISSING_NAMES_SHOWN])
        if len(missing) > MISSING_NAMES_SHOWN:
            names += f" … (+{len(missing) - MISSING_NAMES_SHOWN})"
        parts.append(html.Div(t("unit_missing_list", lang, names=names), className="unit-missing",
                              id=f"unit-missing-{ind_code}"))
    return html.Div(parts, className="unit-reporting")


def indicator_section(code: str, ent: dict, ind_code: str, period: str, lang: str):
    ind = figures.indicator(ind_code)
    up = uv.unit_progress(ind_code, period, code)
    row = up.row
    status = row.get("status") or "no_data"
    value = row.get("value")
    left = [
        html.H3(figures.name_of_indicator(ind_code, lang), className="h6 unit-ind-title"),
        html.Div([html.Span(fmt.value(value, ind, lang, target=row.get("target")), className="unit-value",
                            id=f"unit-value-{ind_code}",
                            **{"data-value": "" if value is None or pd.isna(value) else repr(float(value))}),
                  status_badge(status, lang, id=f"unit-status-{ind_code}"),
                  status_caveat(row, ind, lang, id=f"unit-caveat-{ind_code}")], className="kpi-value-row"),
        basis_line(row, lang),
        html.Div(target_line(up, ind, code, lang), className="kpi-target", id=f"unit-target-{ind_code}"),
        html.Div(gap_line(up, ind, lang), className="kpi-gap", id=f"unit-gap-{ind_code}"),
        change_block(ind_code, period, ent, value, ind, lang),
        html.P(uv.sentence(up.progress, ind, lang, period, up.observations), className="unit-sentence", id=f"unit-sentence-{ind_code}"),
        html.Div(rank_text(code, ent, ind_code, period, lang), className="unit-rank", id=f"unit-rank-{ind_code}"),
        reporting_block(ind_code, period, code, lang),
    ]
    if row.get("target_source"):
        left.append(html.Div(f"{t('source', lang)}: {row['target_source']}", className="kpi-source"))
    graph = dcc.Graph(figure=trend_figure(up, ind, lang), config={"displayModeBar": False, "responsive": True},
                      className="unit-trend", id=f"unit-trend-{ind_code}")
    return dbc.Card(dbc.CardBody(dbc.Row([dbc.Col(left, lg=5), dbc.Col(graph, lg=7)])),
                    className="mb-3 unit-indicator", id=f"unit-ind-{ind_code}",
                    style={"borderLeft": f"6px solid {theme.status_color(status)}"})


def change_block(ind_code: str, period: str, ent: dict, value, ind: dict, lang: str) -> html.Ul:
    """Change since last month and since the same month last year, from the stored aggregates."""
    code, level = str(ent["code"]), ent["level"]
    earlier = figures.earlier_values(ind_code, period, level, code).get(code)
    kind = parse_period(period).kind
    lines = wording.change_lines(value, earlier, ind, lang, kind)
    return html.Ul([html.Li(line[:1].upper() + line[1:]) for line in lines], className="kpi-change",
                   id=f"unit-change-{ind_code}")


def applicable_indicators(code: str, level: str, period: str) -> tuple[list[str], list[str]]:
    yes, no = [], []
    for ind in figures.indicators()["code"]:
        mode = figures.units_mode(code, period)
        # As every listing reads it (one memoised frame: today's units beneath the root), unless
        # the unit is old, or began after the period (then beneath itself, by its own mode).
        shared = mode == figures.UNITS_PERIOD and not figures.is_old(code)
        frame = figures.figures(ind, period, level, *(() if shared else (code, mode)))
        row = frame[frame["code"] == code]
        (yes if not row.empty and int(row["expected"].iloc[0]) > 0 else no).append(ind)
    return yes, no


def children_block(code: str, period: str, lang: str):
    long = sc.children_cells(code, period, units=figures.units_mode(code, period))
    inds = sc.applicable(long)
    if long.empty or not inds:
        return html.Div([html.H2(t("unit_children", lang), className="h5 mt-4"),
                         html.P(t("unit_no_children", lang))], id="unit-children-block")
    kids = long.drop_duplicates("code")
    kids = kids.assign(_facility=kids["level"] == hierarchy.FACILITY, _key=kids["name"].map(sc.collation_key))
    order = list(kids.sort_values(["_facility", "_key"], kind="mergesort")["code"])  # units, then facilities
    return html.Div([html.H2(t("unit_children", lang), className="h5 mt-4"),
                     scorecard_table(long, inds, lang, period, table_id="unit-children", order=order)],
                    id="unit-children-block")


def _unit_href(key: str, period: str | None, lang: str) -> str:
    return href(f"/unit/{key}", period=period, lang=lang_param(lang))


def reform_block(code: str, period: str, lang: str):
    """An old unit: "Đơn vị cũ, đến 30/06/2025" and "→ nay thuộc …" its successors (their share
    when it was divided). A unit formed at the reform: "Hình thành từ … (01/07/2025)" with its
    predecessors, each linked to its own page (by its key, ``31150@2025-06``). None otherwise."""
    links = uv.lineage_links(code)
    lines = []
    if links["old"]:
        lines.append(html.P([html.Strong(t("rf_old_unit", lang, date=links["until"]), id="unit-old-badge"), " — ",
                             t("rf_old_note", lang, month=fmt.month(links["until_month"]))],
                            className="mb-1", id="unit-old-note"))
        if links["successors"]:
            items = []
            for i, s_ in enumerate(links["successors"]):
                share = uv.share_text(s_["share"], lang)
                items += [", " if i else "", html.Span(dcc.Link(s_["name"], href=_unit_href(s_["code"], None, lang),
                                                                className="unit-successor"),
                                                       **{"data-code": s_["code"]}),
                          f" ({share})" if share else ""]
            lines.append(html.P([t("rf_now_part_of", lang), " "] + items, className="mb-1", id="unit-successors"))
    if links["predecessors"]:
        items = []
        for i, p_ in enumerate(links["predecessors"]):
            share = uv.share_text(p_["share"], lang)
            month = str(figures.entity(p_["code"]).get("valid_to") or "")[:7] or None
            items += [", " if i else "", html.Span(dcc.Link(p_["name"], href=_unit_href(p_["code"], month, lang),
                                                            className="unit-predecessor"),
                                                   **{"data-code": p_["code"]}),
                      f" ({share})" if share else ""]
        when = t("rf_formed_on", lang, date=links["effective"]) if links["effective"] else ""
        lines.append(html.P([t("rf_formed_from", lang), " "] + items + ([" ", when] if when else []),
                            className="mb-1", id="unit-predecessors"))
    if not lines:
        return None
    return html.Div(lines, className="unit-reform alert alert-secondary py-2", id="unit-reform")


def basis_line(row: dict, lang: str):
    """Beside a figure derived from old units: "↺ suy từ đơn vị cũ (chính xác)", "≈ ước tính"."""
    b = int(fmt.as_number(row.get("basis")) or 0)
    if not b:
        return None
    return html.Div(f"{reform_marks.mark(b, lang)} {reform_marks.basis_word(b, lang)}", className="unit-basis",
                    **{"data-basis": str(b)})


def not_found(code: str, lang: str):
    return html.Div([
        html.H1(t("unit_not_found_title", lang), className="page-title"),
        dbc.Alert(t("unit_not_found", lang, code=code), color="warning", id="unit-not-found"),
        dcc.Link(t("unit_to_scorecard", lang), href=href("/targets", lang=lang_param(lang))),
    ])


def layout(code: str | None = None, **query):
    # The path names the unit; a `unit` or `code` parameter in the query cannot override it.
    path_code = code if isinstance(code, str) else ""
    req = request.read("unit", {**{k: v for k, v in query.items() if k not in ("unit", "code")},
                                "unit": path_code})
    lang = req.lang
    path = f"/unit/{path_code}"
    status = req.status()
    if req.forbidden:  # the frame shows the refusal (layouts.common.shell)
        return shell(None, req=req, active="targets", path=path)
    if req.unit is None or status == 404:
        return shell(not_found(path_code[:40], lang), req=req, active="targets", path=path, warnings=[])
    try:
        if req.period is None:
            content = dbc.Alert(t("no_data_yet", lang), color="info")
        else:
            shown = uv.page_period(req.unit, req.period_label)  # an old unit's history ends with it
            if shown != req.period_label:
                req = req.with_(period=parse_period(shown))
            content = unit_content(req)
    except Exception:  # never a traceback on screen
        log.exception("unit page failed for %r", path_code)
        content = dbc.Alert(t("error_generic", lang), color="secondary")
    return shell(content, req=req, active="targets", path=path)


def unit_content(req: Request):
    code, period, lang = req.unit, req.period_label, req.lang
    ent = figures.entity(code)
    inds, not_applicable = applicable_indicators(code, ent["level"], period)
    months = sorted({m for c in figures.indicators()["code"] for m in figures.months(c)}, reverse=True)
    if ent.get("valid_to") is not None and not pd.isna(ent.get("valid_to")):  # an old unit's months end with it
        last = str(ent["valid_to"])[:7]
        months = [m for m in months if m <= last]
    header = dbc.Row([
        dbc.Col([html.H1(ent["name"], className="page-title", id="unit-name"),
                 html.Div(f"{level_word(ent, lang)} · {official(code)}", className="data-until")], md=7),
        dbc.Col(html.Div([html.Label(t("period", lang), htmlFor="unit-period", className="me-2"),
                          dcc.Dropdown(id="unit-period", options=period_options(months, lang), value=period,
                                       clearable=False, searchable=False, className="period-dropdown")],
                         className="d-flex align-items-center"), md=3),
        dbc.Col(data_until_stamp(figures.latest_month(), lang), md=2, className="text-md-end"),
    ], className="align-items-center mb-2")
    blocks = [
        dcc.Location(id="unit-location", refresh="callback-nav"),
        dcc.Store(id="unit-lang", data=lang),
        breadcrumb(code, period, lang),
        header,
        reform_block(code, period, lang),
        html.H2(period_label(parse_period(period), lang), className="period-heading", id="unit-period-heading"),
        export_links(req.with_(view="export", unit=code), "unit"),  # the unit in the URL, not its path
    ]
    blocks += [indicator_section(code, ent, ind, period, lang) for ind in inds]
    if not_applicable:
        names = ", ".join(figures.name_of_indicator(c, lang, short=True) for c in not_applicable)
        blocks.append(html.P(t("unit_not_applicable", lang, names=names), className="sc-note",
                             id="unit-not-applicable"))
    blocks.append(html.P(t("unit_chart_note", lang), className="sc-note"))
    if ent["level"] != hierarchy.FACILITY:
        blocks.append(children_block(code, period, lang))
    return html.Div(blocks)


dash.register_page(__name__, cache_view="unit", path_template="/unit/<code>", name="unit", title=page_title("nav_unit"),
                   layout=layout)


@callback(Output("unit-location", "search"), Input("unit-period", "value"), State("unit-lang", "data"),
          prevent_initial_call=True)
def _period_to_url(period, lang):
    req = request.read("unit", {"period": period, "lang": lang})
    return href("", period=req.period_label, lang=lang_param(req.lang))
