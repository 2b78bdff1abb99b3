"""Pieces every page shares: the frame (navigation from the page registry, language switch, demo
label, warnings), status badges, links that keep a view's state, export links and the period
selector's options."""
from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import figures, theme
from dashboard.formatting import month as fmt_month
from dashboard.i18n import t
from dashboard.periods import parse_period, period_label
from dashboard.request import Request
from dashboard.wording import partial_caveat, status_word
from layouts.outage import banner as outage_banner


def status_badge(status: str, lang: str, **kwargs) -> html.Span:
    """The status as a pill: its colour, its icon and its word (never colour alone)."""
    return html.Span(
        [html.Span(theme.status_icon(status), className="status-icon", **{"aria-hidden": "true"}), " ",
         status_word(status, lang)],
        className=f"status-badge status-{status}",
        style={"backgroundColor": theme.status_color(status), "color": theme.status_text_color(status)},
        **kwargs,
    )


def status_caveat(row: dict, indicator: dict, lang: str, **kwargs):
    """Beside a status judged on incomplete reporting: '⚠ chỉ 3/4 xã/phường báo cáo'
    (dashboard.wording.partial_caveat, the one rule); None otherwise."""
    caveat = partial_caveat(row, indicator, lang)
    return html.Span(" ⚠ " + caveat, className="status-caveat", **kwargs) if caveat else None


def href(path: str, **params) -> str:
    """A link that keeps the page's state in the URL, dropping empty parameters."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def lang_param(lang: str) -> str | None:
    """The ``lang`` URL parameter: absent for the default language."""
    return lang if lang != "vi" else None


def province_name() -> str:
    try:
        return figures.entity(figures.root_code())["name"]
    except Exception:  # the frame must render even when the database does not
        return ""


def demo_loaded() -> bool:
    try:
        return figures.is_demo()
    except Exception:
        return False


def account_links(lang: str, path: str, params: dict) -> list:
    """Sign in, or the account's name, the admin page and sign out (only inside a request)."""
    from flask import has_request_context

    from dashboard import auth

    if not has_request_context() or auth.state() is None:
        return []
    keep_lang = lang if lang != "vi" else None
    user = auth.current_user()
    if user is None:
        here = href(path, **params)
        return [dbc.NavItem(dbc.NavLink(t("auth_nav_login", lang), href=href("/login", next=here, lang=keep_lang),
                                        id="nav-login", className="nav-auth", external_link=True))]
    items = []
    if user.is_admin:
        items.append(dbc.NavItem(dbc.NavLink(t("auth_nav_admin", lang), href=href("/admin/loads", lang=keep_lang),
                                             id="nav-admin", external_link=True)))
    items.append(dbc.NavItem(dbc.NavLink(f"{user.label} · {t('auth_nav_logout', lang)}",
                                         href=href("/logout", lang=keep_lang), id="nav-logout", className="nav-auth",
                                         external_link=True)))
    return items


def page_title(key: str):
    """A registry title that follows the page's language (Dash calls it with the path variables;
    the language comes from the request being served)."""
    def title(**_path_variables) -> str:
        from dashboard.webapp import request_lang

        lang = request_lang()
        return f"{t(key, lang)} — {t('app_title', lang)}"

    return title


def nav_pages() -> list[dict]:
    """The pages that appear in the navigation, in their registry order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav")]
    return sorted(pages, key=lambda p: (p.get("order", 99), p["path"]))


def forbidden(req: Request):
    """A unit outside a unit head's scope was asked for (the request reader's 403): say so, show
    nothing of it, offer the user's own unit."""
    lang = req.lang
    home = getattr(req.scope, "home", None)
    blocks = [html.H1(t("auth_forbidden_title", lang), className="page-title"),
              dbc.Alert(t("auth_forbidden_unit", lang), color="danger", id="unit-forbidden")]
    if home:
        blocks.append(dcc.Link(t("auth_to_my_unit", lang), href=href(f"/unit/{home}", lang=lang_param(lang))))
    return html.Div(blocks, id="page-forbidden")


def shell(children, *, req: Request, active: str, path: str, warnings: list[str] | None = None):
    """The frame of a normal page: navigation, demo label, warnings, then the content in <main>."""
    lang = req.lang
    other = "en" if lang == "vi" else "vi"
    links = [
        dbc.NavItem(dbc.NavLink(t(page["nav"], lang), href=href(page["path"], lang=lang_param(lang)),
                                active=(page.get("name") == active), className="nav-link-main"))
        for page in nav_pages()
    ]
    links += account_links(lang, path, req.query())
    links.append(dbc.NavItem(dbc.NavLink(t("switch_lang", lang), id="lang-switch",
                                         href=href(path, **req.query(lang=other)), className="lang-switch")))
    province = province_name()
    search = search_box(lang)
    brand = html.Div([
        html.Div(t("department_of", lang, name=province) if province else "", className="brand-dept"),
        html.Div(t("app_title", lang), className="brand-title"),
    ])
    top = dbc.Navbar(dbc.Container([
        dbc.NavbarBrand(brand, href=href("/", lang=lang_param(lang))),
        html.Button(html.Span(className="navbar-toggler-icon"), id="nav-toggler", className="navbar-toggler",
                    type="button", n_clicks=0, **{"aria-label": t("nav_menu", lang), "aria-controls": "nav-collapse"}),
        dbc.Collapse([search, dbc.Nav(links, className="ms-auto", navbar=True)], id="nav-collapse", navbar=True),
    ], fluid=True), color="primary", dark=True, expand="lg", className="mb-3 no-print-nav", tag="header")
    if req.forbidden:
        # The reader refused a unit outside the user's scope: the page says so, and nothing else.
        children, warnings = forbidden(req), []
    body = []
    if demo_loaded():
        body.append(html.Div(t("demo_banner", lang), className="demo-banner", id="demo-banner", role="note"))
    for warning in (warnings if warnings is not None else req.warnings()):
        body.append(dbc.Alert(warning, color="warning", className="param-warning", dismissable=True))
    body.append(children)
    # Last: it reports on every read above (figures from a fallback, or none at all).
    outage = outage_banner(lang)
    if outage is not None:
        body.insert(0, outage)
    return html.Div([
        top,
        html.Main(dbc.Container(body, fluid=True, className="page-body"), id="main"),
        html.Footer(dbc.Container(t("footer_credit", lang), fluid=True), className="page-footer"),
    ], lang=lang, className=f"page page-{active}")


def search_box(lang: str) -> html.Form:
    """'Tìm đơn vị' on every page: suggestions as you type (links to the unit's page and its map,
    a Tab away), and Enter opens /search with every match. A plain GET form, so it also works
    before the page's scripts have run."""
    return html.Form([
        html.Label(t("search_label", lang), htmlFor="unit-search", className="visually-hidden"),
        dcc.Input(id="unit-search", name="q", type="search", debounce=0.25, autoComplete="off",
                  placeholder=t("search_placeholder", lang), className="form-control form-control-sm unit-search-input"),
        dcc.Input(type="hidden", name="lang", value=lang, id="unit-search-lang") if lang != "vi" else None,
        html.Button(t("search_go", lang), type="submit", className="btn btn-light btn-sm unit-search-go"),
        html.Span(t("search_help", lang), id="unit-search-help", className="visually-hidden", role="note"),
        dcc.Store(id="unit-search-store", data=lang),
        html.Div(id="unit-search-results", className="unit-search-results", role="region",
                 **{"aria-live": "polite", "aria-label": t("search_results", lang)}),
    ], action="/search", method="get", role="search", className="unit-search d-flex align-items-start",
        id="unit-search-form")


def search_results(found: list[dict], lang: str, list_id: str, query: str = "") -> html.Div:
    """The matches as a list: the unit's name (its page) and a link to its map."""
    from dashboard import hierarchy

    keep = lang_param(lang)
    if not found:
        return html.Div(t("search_none", lang, query=query), className="unit-search-none", id=f"{list_id}-none")
    items = []
    for unit in found:
        where = ", ".join(x for x in (hierarchy.label(unit["level"], lang), unit.get("parent_name")) if x)
        former = "" if unit.get("current") else f" · {t('search_former', lang)}"
        until = unit.get("until")
        old = (" " + t("rf_search_old", lang, month=fmt_month(until))) if until else ""
        item_id = unit["code"].replace("@", "-at-")
        links = [dcc.Link(unit["name"] + old, href=href(f"/unit/{unit['code']}", lang=keep),
                          className="unit-search-page", id=f"{list_id}-unit-{item_id}"),
                 html.Span(f" ({where}{former}) ", className="unit-search-where")]
        if not until:  # an old unit has no map of today's boundaries: its page is its home
            links.append(dcc.Link(t("search_map", lang), href=href("/map", unit=unit["code"], lang=keep),
                                  className="unit-search-map", id=f"{list_id}-map-{item_id}",
                                  title=t("search_map_of", lang, name=unit["name"])))
        items.append(html.Li(links, **{"data-code": unit["code"]}))
    return html.Ul(items, className="unit-search-list", id=list_id)


@dash.callback(dash.Output("unit-search-results", "children"), dash.Input("unit-search", "value"),
               dash.State("unit-search-store", "data"), prevent_initial_call=True)
def _suggest(query, lang):
    from dashboard import request as reader, unitsearch

    lang = lang if lang in ("vi", "en") else "vi"
    if not isinstance(query, str) or not unitsearch.normalise(query):
        return None
    try:
        found = unitsearch.find(query, scope=reader.current_scope(), limit=8)
    except Exception:  # noqa: BLE001 - a suggestion list never breaks the page
        return None
    return search_results(found, lang, "unit-search-list", query[:80])


def data_until_stamp(month: str | None, lang: str) -> html.Div:
    if not month:
        return html.Div(t("no_data_yet", lang), className="data-until")
    return html.Div(t("data_until", lang, month=fmt_month(month)), className="data-until", id="data-until")


def period_options(months: list[str], lang: str) -> list[dict]:
    """Months with data, newest first, then their quarters and years."""
    options = [{"label": period_label(parse_period(m), lang), "value": m} for m in months]
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months}, reverse=True)
    years = sorted({m[:4] for m in months}, reverse=True)
    options += [{"label": period_label(parse_period(q), lang), "value": q} for q in quarters]
    options += [{"label": period_label(parse_period(y), lang), "value": y} for y in years]
    return options


def export_links(req: Request, slide: str, **data):
    """'Xuất ảnh' (the server-rendered PNG of the view) and 'Xuất dữ liệu' (CSV, XLSX) for a page.
    Both carry the view's own request, so the files say exactly what the page shows; `data`
    changes the table's parameters where they differ from the view's."""
    lang = req.lang
    params = req.query()
    table = {**params, **{k: v for k, v in data.items()}}
    table = {k: v for k, v in table.items() if v not in (None, "")}
    image = html.A(t("exp2_image", lang), href=href(f"/export/{slide}.png", **{**params, "lang": lang}), download="",
                   className="btn btn-outline-primary btn-sm export-link", id=f"export-png-{slide}",
                   title=t("exp2_image_title", lang), **{"data-busy": t("exp2_busy", lang)})
    csv = html.A(t("exp2_data", lang) + " (CSV)", href=href("/export/data.csv", **{**table, "lang": lang}), download="",
                 className="btn btn-outline-secondary btn-sm export-link", id=f"export-csv-{slide}")
    xlsx = html.A("XLSX", href=href("/export/data.xlsx", **{**table, "lang": lang}), download="",
                  className="btn btn-outline-secondary btn-sm export-link", id=f"export-xlsx-{slide}")
    return html.Div([image, csv, xlsx], className="export-links no-print", role="group",
                    **{"aria-label": t("exp2_group", lang)})


@dash.callback(dash.Output("nav-collapse", "is_open"), dash.Input("nav-toggler", "n_clicks"),
               dash.State("nav-collapse", "is_open"), prevent_initial_call=True)
def _toggle_nav(clicks, is_open):
    return not is_open if isinstance(is_open, bool) else True
