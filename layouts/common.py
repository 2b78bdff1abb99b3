"""Pieces every page shares: the frame (navigation, language switch, demo label), status
colours and words, and reading URL parameters without ever raising."""
from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import html

from dashboard import figures
from dashboard.formatting import month as fmt_month
from dashboard.i18n import lang_or_default, t
from layouts.outage import banner as outage_banner

# Colour-blind-safe and distinct in greyscale print when paired with the status word.
STATUS_COLORS = {
    "achieved": "#1a7f37",
    "on_track": "#1f6feb",
    "at_risk": "#d4a72c",
    "off_track": "#cf222e",
    "no_data": "#8c959f",
    "no_target": "#57606a",
}
STATUS_TEXT_COLORS = {"at_risk": "#1f2328"}


def status_word(status: str, lang: str) -> str:
    return t(f"status_{status}", lang)


def status_badge(status: str, lang: str, **kwargs) -> html.Span:
    return html.Span(
        status_word(status, lang),
        className="status-badge",
        style={"backgroundColor": STATUS_COLORS.get(status, "#57606a"),
               "color": STATUS_TEXT_COLORS.get(status, "#ffffff")},
        **kwargs,
    )


def href(path: str, **params) -> str:
    """A link that keeps the page's state in the URL, dropping empty parameters."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


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


def shell(children, *, lang: str, active: str, path: str, params: dict, warnings: list[str] | None = None):
    """The frame of a normal page: navigation bar, demo label, warnings, then the content."""
    lang = lang_or_default(lang)
    other = "en" if lang == "vi" else "vi"
    nav_items = [
        ("overview", "/", "nav_overview"),
        ("map", "/map", "nav_map"),
        ("targets", "/targets", "nav_targets"),
        ("wall", "/wall", "nav_wall"),
    ]
    links = [
        dbc.NavItem(dbc.NavLink(t(key, lang), href=href(url, lang=lang if lang != "vi" else None),
                                active=(name == active), className="nav-link-main"))
        for name, url, key in nav_items
    ]
    links.append(dbc.NavItem(dbc.NavLink(t("switch_lang", lang), id="lang-switch",
                                         href=href(path, **{**params, "lang": other if other != "vi" else None}),
                                         className="lang-switch")))
    province = province_name()
    brand = html.Div([
        html.Div(t("department_of", lang, name=province) if province else "", className="brand-dept"),
        html.Div(t("app_title", lang), className="brand-title"),
    ])
    top = dbc.Navbar(dbc.Container([dbc.NavbarBrand(brand, href=href("/", lang=lang if lang != "vi" else None)),
                                    dbc.Nav(links, className="ms-auto", navbar=True)], fluid=True),
                     color="primary", dark=True, className="mb-3 no-print-nav")
    blocks = [top]
    body = []
    if demo_loaded():
        body.append(html.Div(t("demo_banner", lang), className="demo-banner", id="demo-banner", role="note"))
    for warning in warnings or []:
        body.append(dbc.Alert(warning, color="warning", className="param-warning", dismissable=True))
    body.append(children)
    body.append(html.Footer(t("footer_credit", lang), className="page-footer"))
    # Last: it reports on every read above (figures from a fallback, or none at all).
    outage = outage_banner(lang)
    if outage is not None:
        body.insert(0, outage)
    blocks.append(dbc.Container(body, fluid=True, className="page-body"))
    return html.Div(blocks, lang=lang, className=f"page page-{active}")


def period_param(period: str | None, lang: str, warnings: list[str], indicator: str | None = None):
    """The period a URL asks for; a bad one adds a translated warning and falls back to the
    latest month with data (a hand-edited URL never raises)."""
    from dashboard.periods import PeriodError, parse_period

    if period:
        try:
            return parse_period(period)
        except PeriodError as exc:
            warnings.append(t("bad_param", lang, detail=str(exc)))
    return figures.resolve_period(None, indicator)


def data_until_stamp(month: str | None, lang: str) -> html.Div:
    if not month:
        return html.Div(t("no_data_yet", lang), className="data-until")
    return html.Div(t("data_until", lang, month=fmt_month(month)), className="data-until", id="data-until")


def period_options(months: list[str], lang: str) -> list[dict]:
    """Months with data, newest first, then their quarters and years."""
    from dashboard.periods import parse_period, period_label

    options = [{"label": period_label(parse_period(m), lang), "value": m} for m in months]
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months}, reverse=True)
    years = sorted({m[:4] for m in months}, reverse=True)
    options += [{"label": period_label(parse_period(q), lang), "value": q} for q in quarters]
    options += [{"label": period_label(parse_period(y), lang), "value": y} for y in years]
    return options
