"""Overview (/): the four headline indicators against the plan's targets."""
from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, reform_marks, request, theme
from dashboard import formatting as fmt
from dashboard.i18n import t
from dashboard.periods import period_label
from dashboard.request import Request
from dashboard.wording import CHANGE_KINDS, change_lines, completeness_text, gap_sentence, remainder_sentence
from layouts.common import (data_until_stamp, export_links, href, lang_param, page_title, period_options, shell,
                            status_badge)

log = logging.getLogger(__name__)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sparkline(frame: pd.DataFrame, target: float | None, color: str, lang: str = "vi") -> go.Figure:
    fig = go.Figure()
    reform_marks.add_series(fig, frame["period"], frame["value"], frame.get("basis", [0] * len(frame)), lang,
                            mode="lines+markers", line={"color": color, "width": 3}, marker={"size": 4},
                            connectgaps=False, hoverinfo="skip")
    reform_marks.add_reform_line(fig, list(frame["period"]), lang, label=False)
    if target is not None and not pd.isna(target):
        fig.add_hline(y=target, line={"color": "#57606a", "dash": "dash", "width": 1.5})
    fig.update_layout(margin={"l": 0, "r": 0, "t": 4, "b": 0}, height=70, showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def _count(value) -> int:
    """A count from a figure row: none (no figure at all, e.g. today's city in a month before the
    2025 reform, until its predecessors' figures are rolled up) is 0."""
    return 0 if value is None or pd.isna(value) else int(value)


def headline_card(code: str, req: Request) -> dbc.Col:
    lang, period_label_value, root = req.lang, req.period_label, req.unit
    card = figures.headline(code, period_label_value, root)
    ind, row = card.indicator, card.row
    status = row.get("status") or "no_data"
    target = fmt.as_number(row.get("target"))
    deadline = row.get("deadline")
    target_line = (t("target_by", lang, value=fmt.target_value(target, ind, lang), deadline=fmt.month(deadline))
                   if target is not None else t("no_target_set", lang))
    body = [
        html.Div(figures.name_of_indicator(code, lang, short=True), className="kpi-title"),
        html.Div([
            html.Span(fmt.value(row.get("value"), ind, lang, target=target), className="kpi-value",
                      id=f"kpi-value-{code}", **{"data-value": "" if pd.isna(row.get("value")) else repr(float(row["value"]))}),
            status_badge(status, lang, id=f"kpi-status-{code}"),
        ], className="kpi-value-row"),
        html.Div(target_line, className="kpi-target", id=f"kpi-target-{code}"),
        html.Div(_cap(gap_sentence(row, ind, lang)), className="kpi-gap", id=f"kpi-gap-{code}"),
        html.Div(_cap(remainder_sentence(row, ind, lang)), className="kpi-remainder", id=f"kpi-remainder-{code}"),
        change_block(code, req, row.get("value"), ind, f"kpi-change-{code}"),
        dcc.Graph(figure=sparkline(card.sparkline, target, theme.status_color(status), req.lang),
                  config={"displayModeBar": False, "staticPlot": True}, className="kpi-sparkline",
                  id=f"kpi-spark-{code}"),
        html.Div(t("trend_12m", lang), className="kpi-caption"),
        html.Div(completeness_text(row, ind, lang), className="kpi-completeness", id=f"kpi-completeness-{code}"),
        # who has not reported, grouped by zone, on the scorecard
        (dcc.Link(t("sc_see_missing", lang), className="kpi-missing-link no-print", id=f"kpi-missing-{code}",
                  href=href("/targets", indicator=code, period=period_label_value, view="completeness",
                            lang=lang_param(lang)))
         if _count(row.get("reported")) < _count(row.get("expected")) else None),
        html.Div(f"{t('source', lang)}: {row.get('target_source')}"
                 if isinstance(row.get("target_source"), str) and row.get("target_source") else "",
                 className="kpi-source"),
        # the card's chart as a 1920x1080 picture for the briefing, rendered on the server
        html.A(t("exp2_image", lang), href=href("/export/chart.png", indicator=code, unit=root,
                                                period=period_label_value, lang=lang),
               download="", className="kpi-export no-print", id=f"kpi-export-{code}",
               title=t("exp2_image_title", lang)),
    ]
    return dbc.Col(dbc.Card(dbc.CardBody(body), className="kpi-card h-100",
                            style={"borderTop": f"6px solid {theme.status_color(status)}"},
                            id=f"kpi-card-{code}"), xs=12, md=6, xl=3, className="mb-3")


def change_block(code: str, req: Request, value, ind: dict, block_id: str) -> html.Ul:
    """Change since last month and since the same month last year (points for a rate)."""
    unit = req.unit
    earlier = figures.earlier_values(code, req.period_label, figures.entity(unit)["level"], unit).get(unit)
    lines = change_lines(value, earlier, ind, req.lang, req.period.kind)
    return html.Ul([html.Li(_cap(line), **{"data-which": which}) for line, which in
                    zip(lines, ("year_ago",) if req.period.kind == "year" else CHANGE_KINDS)],
                   className="kpi-change", id=block_id)


def other_indicators_table(codes: list[str], req: Request) -> html.Table:
    lang, period_value, root = req.lang, req.period_label, req.unit
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                                 ("col_indicator", "col_value", "col_target", "col_status", "col_reporting")]))
    rows = []
    for code in codes:
        ind = figures.indicator(code)
        card = figures.headline(code, period_value, root)
        row = card.row
        target = fmt.as_number(row.get("target"))
        rows.append(html.Tr([
            html.Td(figures.name_of_indicator(code, lang)),
            html.Td(fmt.value(row.get("value"), ind, lang, target=target), className="num"),
            html.Td(f"{fmt.target_value(target, ind, lang)} ({fmt.month(row.get('deadline'))})"
                    if target is not None else "—", className="num"),
            html.Td(status_badge(row.get("status") or "no_data", lang)),
            html.Td(completeness_text(row, ind, lang)),
        ]))
    return dbc.Table([header, html.Tbody(rows)], bordered=False, hover=True, responsive=True,
                     className="other-indicators")


def layout(**query):
    req = request.read("overview", query)
    lang = req.lang
    try:
        if req.period is None:
            content = dbc.Alert(t("no_data_yet", lang), color="info")
        else:
            content = overview_content(req)
    except Exception:  # a wall screen must never show a traceback
        log.exception("overview failed")
        content = dbc.Alert(t("error_generic", lang), color="secondary")
    return shell(content, req=req, active="overview", path="/")


def overview_content(req: Request):
    lang = req.lang
    heads = figures.headline_codes()
    months = sorted({m for code in heads for m in figures.months(code)}, reverse=True)
    controls = dbc.Row([
        dbc.Col(html.H1(t("overview_title", lang), className="page-title"), md=7),
        dbc.Col(html.Div([
            html.Label(t("period", lang), htmlFor="overview-period", className="me-2"),
            dcc.Dropdown(id="overview-period", options=period_options(months, lang), value=req.period_label,
                         clearable=False, searchable=False, className="period-dropdown"),
        ], className="d-flex align-items-center"), md=3),
        dbc.Col(data_until_stamp(figures.latest_month(), lang), md=2, className="text-md-end"),
    ], className="align-items-center mb-3")
    cards = dbc.Row([headline_card(code, req) for code in heads], id="headline-cards")
    others = [c for c in figures.indicators()["code"] if c not in heads]
    return html.Div([
        dcc.Location(id="overview-location", refresh="callback-nav"),
        dcc.Store(id="overview-lang", data=lang),
        controls,
        export_links(req, "overview"),
        html.H2(period_label(req.period, lang), className="period-heading", id="period-heading"),
        cards,
        html.H3(t("overview_other", lang), className="mt-4"),
        other_indicators_table(others, req),
    ])


dash.register_page(__name__, cache_view="overview", path="/", name="overview", nav="nav_overview", order=0,
                   title=page_title("nav_overview"), layout=layout)


@callback(Output("overview-location", "search"), Input("overview-period", "value"),
          State("overview-lang", "data"), prevent_initial_call=True)
def _period_to_url(period, lang):
    req = request.read("overview", {"period": period, "lang": lang})
    return href("", **req.query())
