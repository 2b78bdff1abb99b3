"""Server-rendered pages: sign in, sign out, access messages, and the wall-token admin page.

Plain HTML forms (they work without JavaScript and before Dash has loaded), styled with
the app's own vendored Bootstrap and fonts. Every form carries a CSRF token (Flask-WTF);
failed sign-ins are rate-limited per account and per address (Flask-Limiter).
"""
from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, jsonify, make_response, redirect, render_template, request, session
from flask_login import login_user, logout_user

from .. import figures
from ..i18n import LANGS, t
from . import access, accounts, secret, walltokens
from .accounts import AccountError

log = logging.getLogger(__name__)


# --- helpers shared with the gate ---------------------------------------------------------------

def page_lang() -> str:
    lang = request.values.get("lang")
    if lang in LANGS:
        return lang
    st = access.state()
    return getattr(st.settings, "default_lang", "vi") if st else "vi"


def with_lang(path: str, lang: str, **params) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if lang != "vi":
        query["lang"] = lang
    return f"{path}?{urlencode(query)}" if query else path


def safe_next(raw: str | None) -> str:
    """A local path to return to after signing in; anything else (another site, a scheme,
    a protocol-relative //host) becomes the overview."""
    if not raw or not isinstance(raw, str):
        return "/"
    raw = raw.strip()
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    if raw.startswith(("/login", "/logout")):
        return "/"
    return raw


def _brand_dept(lang: str) -> str:
    try:
        return t("department_of", lang, name=figures.entity(figures.root_code())["name"])
    except Exception:  # noqa: BLE001 - these pages render even when the database does not
        return ""


def _demo() -> bool:
    try:
        return bool(figures.is_demo())
    except Exception:  # noqa: BLE001
        return False


def render(template: str, status: int = 200, **ctx):
    lang = ctx.pop("lang", None) or page_lang()
    other = "en" if lang == "vi" else "vi"
    args = {k: v for k, v in request.args.items() if k != "lang"}
    if other != "vi":
        args["lang"] = other
    switch_href = request.path + ("?" + urlencode(args) if args else "")
    context = {
        "lang": lang,
        "t": lambda key, **values: t(key, lang, **values),
        "asset": lambda name: f"/assets/{name}",
        "home_href": with_lang("/", lang),
        "switch_href": switch_href,
        "brand_dept": _brand_dept(lang),
        "demo": _demo(),
        "user": access.current_user(),
        "title": ctx.get("title") or t("app_title", lang),
    }
    context.update(ctx)
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def message_page(title_key: str, message: str, status: int, *, detail: str | None = None, tone: str = "warning",
                 links: list[dict] | None = None):
    lang = page_lang()
    return render("auth/message.html", status, title=t(title_key, lang), message=message, detail=detail,
                  tone=tone, links=links or [{"href": with_lang("/", lang), "text": t("auth_to_home", lang)}])


def _unit_name(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return figures.entity(code)["name"]
    except Exception:  # noqa: BLE001
        return code


def forbidden_unit_page():
    """The 403 page of a unit outside the reader's scope."""
    lang = page_lang()
    home = access.current_scope().home
    links = [{"href": with_lang(f"/unit/{home}", lang), "text": t("auth_to_my_unit", lang)}] if home else []
    return message_page("auth_forbidden_title", t("auth_forbidden_unit", lang), 403, tone="danger",
                        detail=t("auth_forbidden_unit_detail", lang, unit=_unit_name(home)) if home else None,
                        links=links)


def forbidden_json(parameter: str, value: str | None, *, key: str = "auth_forbidden_unit", **values):
    """403 JSON in the API's error shape: {"error", "parameter", "message": {"vi", "en"}}."""
    vi, en = t(key, "vi", **values), t(key, "en", **values)
    body = {"error": f"{vi} / {en}", "parameter": parameter, "message": {"vi": vi, "en": en}}
    if value is not None:
        body["value"] = value
    return jsonify(body), 403


def csrf_failed(_error):
    log.warning("CSRF check failed: %s %s", request.method, request.path)
    lang = page_lang()
    back = request.path if request.path.startswith(("/login", "/admin/")) else "/"
    return message_page("auth_csrf_title", t("auth_csrf_failed", lang), 400,
                        links=[{"href": with_lang(back, lang), "text": t("auth_cancel", lang)}])


def refusal(verdict) -> object:
    """Every request while the secret key is refused: 503, bilingual."""
    key = "auth_secret_missing" if verdict.problem == "missing" else "auth_secret_default"
    if request.path.startswith(("/api/", "/_dash-", "/export/")):
        vi, en = t(key, "vi", n=secret.MIN_LENGTH), t(key, "en", n=secret.MIN_LENGTH)
        return jsonify({"error": f"{vi} / {en}", "message": {"vi": vi, "en": en}}), 503
    lang = page_lang()
    return message_page("auth_secret_title", t(key, lang, n=secret.MIN_LENGTH), 503, tone="danger", links=[])


def _engine():
    return figures.engine()


# --- the blueprint ----------------------------------------------------------------------------

def make_blueprint(limiter) -> Blueprint:
    """The pages, with the rate limits of this app's limiter."""
    bp = Blueprint("auth", __name__, template_folder="templates")

    def account_key() -> str:
        # Never empty (Flask-Limiter skips a limit with an empty key, and logs it as an error).
        return "account:" + (request.form.get("username") or "").strip().lower()[:64]

    def address_key() -> str:
        return f"address:{request.remote_addr or 'unknown'}"

    def failed(response) -> bool:
        return response.status_code == 401

    def breached(limit):
        lang = page_lang()
        minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60))
        log.warning("sign-in rate limit reached (%s) from %s", limit.limit, request.remote_addr)
        return _login_page(lang, 429, error=t("auth_rate_limited", lang, minutes=minutes),
                           username=request.form.get("username", ""))

    def setting(name: str):
        return lambda: getattr(access.state().settings, name)

    @bp.route("/login", methods=["GET", "POST"])
    @limiter.limit(setting("login_limit_account"), key_func=account_key, methods=["POST"], deduct_when=failed,
                   on_breach=breached, scope="login-account")
    @limiter.limit(setting("login_limit_address"), key_func=address_key, methods=["POST"], deduct_when=failed,
                   on_breach=breached, scope="login-address")
    def login():
        lang = page_lang()
        next_url = safe_next(request.values.get("next"))
        if request.method == "GET":
            if access.current_user() is not None and "next" in request.args:
                return redirect(next_url)
            notice = t("auth_logged_out", lang) if request.args.get("bye") else None
            if notice is None and request.args.get("next"):
                notice = t("auth_login_required", lang)
            return _login_page(lang, 200, next_url=next_url, notice=notice)
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        if not username.strip() or not password:
            return _login_page(lang, 400, next_url=next_url, username=username, error=t("auth_login_missing", lang))
        try:
            user = accounts.authenticate(_engine(), username, password)
        except Exception:  # noqa: BLE001 - an outage is not a wrong password
            log.exception("sign-in failed: database unavailable")
            return _login_page(lang, 503, next_url=next_url, username=username, error=t("auth_db_unavailable", lang))
        if user is None:
            log.warning("failed sign-in for %r from %s", username.strip()[:64], request.remote_addr)
            return _login_page(lang, 401, next_url=next_url, username=username, error=t("auth_login_failed", lang))
        session.clear()  # nothing from before the sign-in carries over
        login_user(user)
        session.permanent = True
        log.info("sign-in: %s (%s) from %s", user.username, user.role, request.remote_addr)
        if next_url == "/" and user.role == "unit" and user.unit_code:
            next_url = with_lang(f"/unit/{user.unit_code}", lang)
        elif next_url == "/":
            next_url = with_lang("/", lang)
        return redirect(next_url)

    @bp.route("/logout", methods=["GET", "POST"])
    def logout():
        lang = page_lang()
        user = access.current_user()
        if user is None:
            return redirect(with_lang("/login", lang))
        if request.method == "GET":
            return render("auth/logout.html", title=t("auth_logout_title", lang), action="/logout")
        logout_user()
        session.clear()
        log.info("sign-out: %s", user.username)
        return redirect(with_lang("/login", lang, bye=1))

    @bp.route("/admin/wall-tokens", methods=["GET", "POST"])
    def wall_tokens_page():
        denied = admin_only()
        if denied is not None:
            return denied
        lang = page_lang()
        user = access.current_user()
        ctx: dict = {"title": t("auth_tokens_title", lang), "action": "/admin/wall-tokens",
                     "when": _when}
        status = 200
        if request.method == "POST":
            try:
                if request.form.get("action") == "create":
                    token, raw = walltokens.create(_engine(), request.form.get("name", ""), actor=user.username)
                    ctx.update(created_name=token.name, created_url=request.host_url.rstrip("/") + "/wall?token=" + raw)
                elif request.form.get("action") == "revoke":
                    token = walltokens.revoke(_engine(), request.form.get("id", ""), actor=user.username)
                    ctx["notice"] = t("auth_tokens_revoked", lang, name=token.name)
            except AccountError as exc:
                ctx["error"] = exc.message(lang)
                status = 400
        ctx["tokens"] = walltokens.list_tokens(_engine())
        return render("auth/wall_tokens.html", status, **ctx)

    from . import load_views, views as this

    load_views.register(bp, this)
    return bp


def _login_page(lang: str, status: int, **ctx):
    ctx.setdefault("next_url", safe_next(request.values.get("next")))
    ctx.setdefault("username", "")
    return render("auth/login.html", status, lang=lang, title=t("auth_login_title", lang), action="/login", **ctx)


def _when(value) -> str:
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text[:16]


def admin_only():
    """None for an admin; otherwise the sign-in redirect or a 403 page."""
    lang = page_lang()
    user = access.current_user()
    if user is None:
        return redirect(with_lang("/login", lang, next=request.full_path.rstrip("?")))
    if not user.is_admin:
        return message_page("auth_forbidden_title", t("auth_forbidden_admin", lang), 403, tone="danger")
    return None
