"""Target scorecard (/targets): every unit of a level against every indicator's target.

State lives in the URL, read by dashboard.request (view "targets"): level, unit (the zone whose
units are listed; old name ``zone``), period, behind (1 = only units behind target), sort (name,
zone or an indicator code), dir (asc, desc), indicator (old name ``ind``: the movers ranking and
the open completeness list), view (completeness = the reporting list first), lang. A bad value
gives a warning and the default, never a traceback.
"""
from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, hierarchy, reform_marks, request, theme
from dashboard import formatting as fmt
from dashboard import scorecard as sc
from dashboard.i18n import t
from dashboard.periods import parse_period, period_label
from dashboard.request import Problem, Request
from dashboard import wording
from dashboard.wording import status_word
from layouts.common import data_until_stamp, export_links, href, lang_param, page_title, period_options, shell

log = logging.getLogger(__name__)

PATH = "/targets"
_tint = theme.tint


def cell_word(status: str, lang: str) -> str:
    return t("sc_not_expected", lang) if status == sc.NOT_EXPECTED else status_word(status, lang)


def status_cell(row: dict, ind: dict, lang: str, cell_id: str | None = None, earlier: dict | None = None,
                period_kind: str | None = None) -> html.Td:
    """One scorecard cell: the value, the status word (so it reads in greyscale print) on the
    status colour, the target and the gap, the change since last month (with `period_kind`), and
    how many reported when not everyone did. Its title says all of it in full sentences, with the
    change since the same month last year."""
    status = row.get("status") or "no_data"
    value = row.get("value")
    color = theme.status_color(status)
    target = fmt.as_number(row.get("target"))
    basis = int(fmt.as_number(row.get("basis")) or 0) if status != sc.NOT_EXPECTED else 0
    mark = reform_marks.mark(basis, lang)
    lines = [html.Div([fmt.value(value, ind, lang, target=target)]
                      + ([" ", html.Span(mark, className="sc-basis", title=reform_marks.basis_word(basis, lang),
                                         **{"data-basis": str(basis)})] if mark else []), className="sc-value"),
             html.Div([html.Span(theme.status_icon(status), className="status-icon", **{"aria-hidden": "true"}),
                       " ", cell_word(status, lang)], className="sc-status")]
    title = []
    if status != sc.NOT_EXPECTED:
        shown = fmt.value(value, ind, lang, target=target, missing=status_word("no_data", lang))
        title.append(f"{t('col_value', lang)}: {shown}"
                     + (f" ({reform_marks.basis_word(basis, lang)})" if basis else ""))
        if target is not None:
            goal = t("target_by", lang, value=fmt.target_value(target, ind, lang), deadline=fmt.month(row.get("deadline")))
            gap = wording.gap_points_text(row, ind, lang)
            lines.append(html.Div(f"{t('target', lang)} {fmt.target_value(target, ind, lang)}"
                                  + (f" · {gap}" if gap != "—" else ""), className="sc-target"))
            title.append(goal)
            sentence = wording.gap_sentence(row, ind, lang)
            if sentence:
                title.append(sentence)
        else:
            title.append(t("no_target_set", lang))
        if period_kind:
            changes = wording.change_lines(value, earlier, ind, lang, period_kind)
            lines.append(html.Div(changes[0], className="sc-change-line"))
            title += changes
    expected, reported = int(row.get("expected") or 0), int(row.get("reported") or 0)
    if wording.partial_reporting(row):
        caveat = wording.partial_caveat(row, ind, lang)
        lines.append(html.Div("⚠ " + caveat, className="sc-rep sc-caveat"))
        title.append(caveat)
    elif expected and reported < expected:
        lines.append(html.Div(t("sc_reported_cell", lang, reported=fmt.number(reported, 0, lang),
                                expected=fmt.number(expected, 0, lang)), className="sc-rep"))
    attrs = {"data-value": "" if value is None or pd.isna(value) else repr(float(value)), "data-status": status}
    if title:
        attrs["title"] = " · ".join(title)
    if cell_id:
        attrs["id"] = cell_id
    return html.Td(lines, className=f"sc-cell sc-{status}",
                   style={"backgroundColor": _tint(color), "borderLeft": f"6px solid {color}"}, **attrs)


def unit_link(code: str, name: str, period: str, lang: str) -> dcc.Link:
    return dcc.Link(name, href=href(f"/unit/{code}", period=period, lang=lang_param(lang)),
                    className="sc-unit-link")


def scorecard_table(cells: pd.DataFrame, indicators: list[str], lang: str, period: str, *,
                    sort_href=None, sort: str | None = None, descending: bool = False,
                    order: list[str] | None = None, show_zone: bool = False, table_id: str = "sc-table",
                    zone_names: dict | None = None, earlier: dict | None = None, period_kind: str | None = None):
    """The grid: a row per unit (in `order`, else the cells' order), a column per indicator.
    `sort_href(key)` gives each heading's link; without it the headings are plain. `earlier`
    ({indicator: figures.earlier_values(...)}) and `period_kind` add the change to each cell."""
    by_key = {(r["code"], r["indicator"]): r for r in cells.to_dict("records")}
    units = cells.drop_duplicates("code").set_index("code")
    codes = order if order is not None else list(units.index)

    def heading(key: str, label: str) -> html.Th:
        arrow = ""
        aria = "none"
        if sort == key:
            arrow = " ▼" if descending else " ▲"
            aria = "descending" if descending else "ascending"
        body = dcc.Link(label + arrow, href=sort_href(key), className="sc-sort") if sort_href else label
        return html.Th(body, **{"aria-sort": aria}, scope="col", id=f"{table_id}-h-{key}")

    head = [heading("name", t("sc_col_unit", lang))]
    if show_zone:
        head.append(heading("zone", t("sc_col_zone", lang)))
    inds = {code: figures.indicator(code) for code in indicators}
    head += [heading(code, figures.name_of_indicator(code, lang, short=True)) for code in indicators]
    body = []
    for code in codes:
        unit = units.loc[code]
        tds = [html.Td(unit_link(code, unit["name"], period, lang), className="sc-unit")]
        if show_zone:
            tds.append(html.Td((zone_names or {}).get(code) or "", className="sc-zone"))
        for ind in indicators:
            row = by_key.get((code, ind)) or {"status": sc.NOT_EXPECTED}
            tds.append(status_cell(row, inds[ind], lang, cell_id=f"{table_id}-{code}-{ind}",
                                   earlier=(earlier or {}).get(ind, {}).get(code), period_kind=period_kind))
        body.append(html.Tr(tds, id=f"{table_id}-row-{code}"))
    return html.Div(html.Table([html.Thead(html.Tr(head)), html.Tbody(body)],
                               className="table sc-table", id=table_id), className="table-responsive")


def movers_block(ind_code: str, period: str, level: str, zone: str | None, lang: str):
    ind = figures.indicator(ind_code)
    result = sc.movers(ind_code, period, level, zone)
    title = html.H3(t("sc_movers_title", lang, name=figures.name_of_indicator(ind_code, lang, short=True),
                      start=fmt.month(result["start"]), end=fmt.month(result["end"])), className="h5 mt-4")
    if result["top"].empty:
        return html.Div([title, html.P(t("sc_movers_none", lang))], id="sc-movers")
    def table(frame: pd.DataFrame, key: str, table_id: str):
        if frame.empty:
            return html.Div([html.H4(t(key, lang), className="h6"), html.P("—", id=table_id)])
        rows = [html.Tr([
            html.Td(i + 1, className="num"),
            html.Td(unit_link(r.code, r.name, period, lang)),
            html.Td(fmt.value(r.value_before, ind, lang), className="num"),
            html.Td(fmt.value(r.value_now, ind, lang), className="num"),
            html.Td(("+" if r.change > 0 else "−" if r.change < 0 else "") + fmt.points(abs(r.change), 1, lang),
                    className="num sc-change", **{"data-change": repr(float(r.change))}),
        ], id=f"{table_id}-{r.code}") for i, r in enumerate(frame.itertuples())]
        head = html.Thead(html.Tr([html.Th("#"), html.Th(t("sc_col_unit", lang)),
                                   html.Th(fmt.month(result["start"])), html.Th(fmt.month(result["end"])),
                                   html.Th(t("sc_col_change", lang))]))
        return html.Div([html.H4(t(key, lang), className="h6"),
                         html.Table([head, html.Tbody(rows)], className="table table-sm sc-movers",
                                    id=table_id)])

    return html.Div([title, dbc.Row([dbc.Col(table(result["top"], "sc_movers_top", "sc-movers-top"), md=6),
                                     dbc.Col(table(result["bottom"], "sc_movers_bottom", "sc-movers-bottom"), md=6)]),
                     html.P(t("sc_movers_note", lang), className="sc-note")], id="sc-movers")


def missing_list(result: dict, lang: str, list_id: str):
    items = []
    for group in result["missing"]:
        zone = group["zone_name"] or t("sc_above_zones", lang)
        names = ", ".join(f"{e['name']} ({e['code']})" for e in group["entities"])
        items.append(html.Li([html.Strong(f"{zone} ({len(group['entities'])}): "), names],
                             **{"data-zone": group["zone_code"] or ""}))
    return html.Ul(items, className="sc-missing", id=list_id)


def completeness_block(period: str, scope: str, lang: str, open_ind: str | None, open_all: bool = False):
    scope_name = figures.entity(scope)["name"]
    rows = []
    for code in figures.indicators()["code"]:
        result = sc.completeness(code, period, scope)
        if not result["expected"]:
            continue
        missing = sum(len(g["entities"]) for g in result["missing"])
        pct = fmt.percent(100.0 * result["completeness"], 1, lang)
        if missing:
            detail = html.Details([html.Summary(t("sc_missing_count", lang, count=fmt.number(missing, 0, lang))),
                                   missing_list(result, lang, f"sc-missing-{code}")],
                                  open=bool(open_all or code == open_ind), id=f"sc-missing-details-{code}")
        else:
            detail = t("sc_all_reported", lang)
        rows.append(html.Tr([
            html.Td(figures.name_of_indicator(code, lang)),
            html.Td(fmt.number(result["reported"], 0, lang), className="num", id=f"sc-comp-reported-{code}"),
            html.Td(fmt.number(result["expected"], 0, lang), className="num", id=f"sc-comp-expected-{code}"),
            html.Td(pct, className="num"),
            html.Td(detail),
        ], id=f"sc-comp-{code}"))
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                               ("col_indicator", "sc_col_reported", "sc_col_expected", "sc_col_rate", "sc_col_missing")]))
    return html.Div([
        html.H3(t("sc_completeness_title", lang, period=period_label(parse_period(period), lang)), className="h5 mt-4"),
        html.P(t("sc_completeness_scope", lang, name=scope_name), className="sc-note"),
        html.Table([head, html.Tbody(rows)], className="table table-sm sc-completeness"),
    ], id="sc-completeness")


def units_switch(state: dict, lang: str):
    """Before the reform: "Theo đơn vị hiện nay" (today's units, derived from the old ones: the
    default) or "Theo đơn vị lúc đó" (the old units' own reported figures), as two links that
    keep the rest of the view; the basis legend under the first."""
    chosen = state.get("units")
    if chosen is None:
        return None
    buttons = []
    for value, key in ((sc.UNITS_TODAY, "rf_units_today"), (sc.UNITS_THEN, "rf_units_then")):
        active = value == chosen
        buttons.append(html.A(t(key, lang), href=url_for(state, units=value), id=f"sc-units-{value}",
                                className="btn btn-sm " + ("btn-primary" if active else "btn-outline-primary"),
                                **({"aria-current": "true"} if active else {})))
    notes = [html.Div(t("rf_units_today_note" if chosen == sc.UNITS_TODAY else "rf_units_then_note", lang),
                      className="sc-note")]
    if chosen == sc.UNITS_TODAY:
        notes.append(html.Div([html.Span(t("rf_legend_title", lang) + ": ", className="me-1"),
                               html.Span(t("rf_legend_1", lang), className="sc-legend-item"), " · ",
                               html.Span(t("rf_legend_2", lang), className="sc-legend-item")],
                              className="sc-legend", id="sc-basis-legend"))
    return html.Div([html.Div([html.Span(t("rf_units_label", lang) + ": ", className="me-2")] + buttons,
                              className="btn-group-sm d-flex align-items-center gap-2", role="group",
                              **{"aria-label": t("rf_units_label", lang)})] + notes,
                    className="mb-2 sc-units", id="sc-units")


def legend(lang: str):
    items = [html.Span([html.Span(theme.status_icon(s), className="status-icon", **{"aria-hidden": "true"}), " ",
                        cell_word(s, lang)], className="sc-legend-item",
                       style={"backgroundColor": _tint(theme.status_color(s)),
                              "borderLeft": f"6px solid {theme.status_color(s)}"})
             for s in theme.STATUS_ORDER]
    return html.Div([html.Span(t("sc_status_legend", lang) + ": ", className="me-1")] + items, className="sc-legend")


def default_ranking_indicator(codes: list[str], period: str) -> str:
    """The headline indicator with the most entities expected to report it: the ranking with
    the most to say (HSSK's communes rather than the department's own dossiers)."""
    root = figures.root_code()

    def reporters(code: str) -> int:
        frame = figures.figures(code, period, hierarchy.root_level())
        row = frame[frame["code"] == root]
        return int(row["expected"].iloc[0]) if not row.empty else 0

    return max(codes, key=lambda c: (reporters(c), -codes.index(c)))


def read_state(req: Request) -> tuple[dict, list[str]]:
    """The page state from a read request; what only this page can check (the sort key, a zone
    at the top level) becomes a warning and its default."""
    lang = req.lang
    warnings = req.warnings()
    level = req.level
    zone = req.unit
    if zone and figures.entity(zone)["level"] == hierarchy.root_level():
        zone = None
    if zone and level == hierarchy.root_level():
        warnings.append(t("sc_zone_ignored", lang))
        zone = None
    codes = list(figures.indicators()["code"])
    heads = figures.headline_codes() or codes
    sort = req.get("sort")
    if sort and sort not in ("name", "zone", *codes):
        warnings.append(Problem("sort", "req_bad_choice", (("name", "sort"), ("value", sort[:40]),
                                                           ("allowed", "name, zone, " + ", ".join(codes)))).text(lang))
        sort = None
    state = {"lang": lang, "level": level, "zone": zone, "period": req.period_label,
             "behind": bool(req.get("behind")), "ind": req.indicator or default_ranking_indicator(heads, req.period_label),
             "sort": sort or "name", "dir": req.get("dir") or "asc", "view": req.get("view"),
             "units": sc.units_choice(req.period_label, req.get("units"))}
    if req.get("units") == sc.UNITS_THEN and state["units"] is None:
        warnings.append(Problem("units", "rf_units_bad").text(lang))
    return state, warnings


def url_params(state: dict, **changes) -> dict:
    """The URL parameters of a state, defaults left out (the reader's canonical names)."""
    s = {**state, **changes}
    return {"level": s.get("level") if s.get("level") not in (None, hierarchy.middle_level()) else None,
            "unit": s.get("zone"), "period": s.get("period"), "behind": "1" if s.get("behind") is True else None,
            "sort": s.get("sort") if s.get("sort") not in (None, "name") else None,
            "dir": s.get("dir") if s.get("dir") == "desc" else None, "indicator": s.get("ind"),
            "view": s.get("view"), "units": s.get("units") if s.get("units") == sc.UNITS_THEN else None,
            "lang": lang_param(s.get("lang") or "vi")}


def url_for(state: dict, **changes) -> str:
    return href(PATH, **url_params(state, **changes))


def controls(state: dict, lang: str):
    units = figures.units()
    zones = units[(units["level"] == hierarchy.middle_level()) & units["valid_to"].isna()].sort_values("name")
    zones = request.in_scope(zones.reset_index(drop=True))  # a unit head picks among their own zones only
    heads = set(figures.headline_codes())
    codes = list(figures.indicators()["code"])
    months = sorted({m for code in codes if code in heads for m in figures.months(code)}, reverse=True) \
        or sorted({m for code in codes for m in figures.months(code)}, reverse=True)
    return dbc.Row([
        dbc.Col([html.Label(t("sc_level", lang), htmlFor="sc-level"),
                 dcc.Dropdown(id="sc-level", value=state["level"], clearable=False, searchable=False,
                              options=[{"label": hierarchy.label(lv, lang), "value": lv}
                                       for lv in hierarchy.all_levels()])],
                md=2),
        dbc.Col([html.Label(t("sc_zone", lang), htmlFor="sc-zone"),
                 dcc.Dropdown(id="sc-zone", value=state["zone"], clearable=True, placeholder=t("sc_all_zones", lang),
                              disabled=state["level"] == hierarchy.root_level(),
                              options=[{"label": n, "value": c} for c, n in zip(zones["code"], zones["name"])])],
                md=3),
        dbc.Col([html.Label(t("period", lang), htmlFor="sc-period"),
                 dcc.Dropdown(id="sc-period", value=state["period"], clearable=False, searchable=False,
                              options=period_options(months, lang))], md=2),
        dbc.Col([html.Label(t("sc_movers_indicator", lang), htmlFor="sc-ind"),
                 dcc.Dropdown(id="sc-ind", value=state["ind"], clearable=False, searchable=False,
                              options=[{"label": figures.name_of_indicator(c, lang, short=True), "value": c}
                                       for c in codes])], md=3),
        # dbc's checklist: a native checkbox with its label (Dash 4's dcc.Checklist has no accessible name)
        dbc.Col(dbc.Checklist(id="sc-behind", options=[{"label": t("sc_behind_only", lang), "value": "1"}],
                              value=["1"] if state["behind"] else [], className="mt-4"), md=2),
    ], className="mb-3 sc-controls g-2")


def layout(**query):
    req = request.read("targets", query)
    lang = req.lang
    state: dict = {"lang": lang}
    warnings = req.warnings()
    try:
        if req.period is None:
            content = dbc.Alert(t("no_data_yet", lang), color="info")
        else:
            state, warnings = read_state(req)
            content = page_content(state, req)
    except Exception:  # never a traceback on screen
        log.exception("scorecard failed")
        content = dbc.Alert(t("error_generic", lang), color="secondary")
    return shell(content, req=req, active="targets", path=PATH, warnings=warnings)


def page_content(state: dict, req: Request):
    lang = req.lang
    level, zone, period = state["level"], state["zone"], state["period"]
    long = sc.cells(period, level, zone, units=state.get("units") or "period")
    indicators = sc.applicable(long)
    hidden = [c for c in dict.fromkeys(long["indicator"]) if c not in indicators] if not long.empty else []
    table = sc.build_table(long, indicators)
    show_zone = hierarchy.is_above(hierarchy.middle_level(), level)
    zone_names: dict = {}
    if show_zone and not table.empty:
        table = sc.with_zones(table)
        zone_names = dict(zip(table["code"], table["zone_name"]))
    total = len(table)
    if state["behind"]:
        table = sc.filter_behind(table, indicators)
    sort_key = "zone_name" if state["sort"] == "zone" else state["sort"]
    if sort_key == "zone_name" and not show_zone:
        sort_key = "name"
    if sort_key not in table.columns:  # an indicator not shown at this level
        sort_key = "name"
    descending = state["dir"] == "desc"
    table = sc.sort_table(table, sort_key, descending)
    shown_sort = "zone" if sort_key == "zone_name" else sort_key

    def sort_href(key: str) -> str:
        flip = "desc" if (key == shown_sort and not descending) else "asc"
        return url_for(state, sort=key, dir=flip)

    # Today's units compared with themselves (the same memo key as before when there is no switch).
    compared = (figures.UNITS_TODAY,) if state.get("units") == sc.UNITS_TODAY else ()
    earlier = {ind: figures.earlier_values(ind, period, level, zone, *compared) for ind in indicators}
    grid = (scorecard_table(long, indicators, lang, period, sort_href=sort_href, sort=shown_sort,
                            descending=descending, order=list(table["code"]), show_zone=show_zone,
                            zone_names=zone_names, earlier=earlier, period_kind=parse_period(period).kind)
            if len(table) else html.P(t("sc_no_rows", lang), id="sc-no-rows"))
    scope = zone or figures.root_code()
    completeness = completeness_block(period, scope, lang, state["ind"], open_all=False) \
        if state["view"] != "completeness" else completeness_block(period, scope, lang, state["ind"])
    blocks = [
        dcc.Location(id="sc-location", refresh="callback-nav"),
        dcc.Store(id="sc-state", data={k: state[k] for k in ("lang", "sort", "dir", "view", "units")}),
        dbc.Row([dbc.Col(html.H1(t("sc_title", lang), className="page-title"), md=9),
                 dbc.Col(data_until_stamp(figures.latest_month(), lang), md=3, className="text-md-end")],
                className="align-items-center mb-2"),
        html.P(t("sc_intro", lang), className="sc-note"),
        controls(state, lang),
        units_switch(state, lang),
        html.H2(f"{hierarchy.label(level, lang)} — {period_label(parse_period(period), lang)}"
                + (f" — {figures.entity(zone)['name']}" if zone else ""), className="period-heading",
                id="sc-heading"),
        export_links(req.with_(unit=zone, level=level,
                               options=tuple((k, v) for k, v in req.options if k != "units")
                               + (("units", state.get("units")),)), "scorecard"),
    ]
    if state["view"] == "completeness":
        blocks.append(completeness)
    blocks += [
        legend(lang),
        html.Div([html.Span(t("sc_rows", lang, shown=fmt.number(len(table), 0, lang), total=fmt.number(total, 0, lang)),
                            id="sc-row-count"),
                  html.Span(" · " + t("sc_sort_hint", lang), className="sc-note")], className="mb-1"),
        grid,
    ]
    if hidden:
        names = ", ".join(figures.name_of_indicator(c, lang, short=True) for c in hidden)
        blocks.append(html.P(t("sc_not_applicable_cols", lang, names=names), className="sc-note", id="sc-hidden"))
    blocks.append(movers_block(state["ind"], period, level, zone, lang))
    if state["view"] != "completeness":
        blocks.append(completeness)
    return html.Div(blocks)


dash.register_page(__name__, cache_view="targets", path=PATH, name="targets", nav="nav_targets", order=2,
                   title=page_title("nav_targets"), layout=layout)


def controls_query(trigger: str | None, level, zone, period, ind, behind, data) -> dict:
    """The URL parameters after a change of the page's controls. Choosing an indicator under
    "Xếp hạng theo chỉ tiêu" ranks the table by it, best first (highest, or lowest where lower is
    better); the other controls keep the current sort."""
    data = data if isinstance(data, dict) else {}
    sort, direction = data.get("sort"), data.get("dir")
    if trigger == "sc-ind" and isinstance(ind, str):
        try:
            higher = bool(figures.indicator(ind)["higher_is_better"])
        except figures.UnknownIndicator:
            higher = True
        sort, direction = ind, ("desc" if higher else "asc")
    req = request.read("targets", {"level": level, "unit": zone, "period": period, "indicator": ind,
                                   "behind": "1" if isinstance(behind, list) and behind else None,
                                   "sort": sort, "dir": direction, "view": data.get("view"),
                                   "units": data.get("units"), "lang": data.get("lang")})
    if req.unit and req.level == hierarchy.root_level():
        req = req.with_(unit=None)
    if sc.units_choice(req.period_label, req.get("units")) != sc.UNITS_THEN:  # "then" only before the reform
        req = req.with_(options=tuple((k, None if k == "units" else v) for k, v in req.options))
    return req.query()


@callback(Output("sc-location", "search"),
          Input("sc-level", "value"), Input("sc-zone", "value"), Input("sc-period", "value"),
          Input("sc-ind", "value"), Input("sc-behind", "value"), State("sc-state", "data"),
          prevent_initial_call=True)
def _controls_to_url(level, zone, period, ind, behind, data):
    # Callback payloads come from the browser: they go through the reader like a URL.
    return href("", **controls_query(dash.ctx.triggered_id, level, zone, period, ind, behind, data))
