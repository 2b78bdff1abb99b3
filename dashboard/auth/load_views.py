"""Admin pages for data: upload (check, preview, confirm) and the loads page (list, undo).

Server-rendered forms like the sign-in and wall-token pages (CSRF token on every form, admins
only). The upload page posts its file to ``/admin/upload``, the one route with the upload
limit (``security.upload_route``: MAX_UPLOAD_BYTES, 413 past it). The file is staged on the
server under a token (``importer.staging``); the page shows every problem the importer's
checks find (file, row, column, message), or the preview of what the load would change
(``importer.preview``: the real loader in a rolled-back transaction). Confirming re-checks the
staged file and loads it with the same loader as ``dashboard import``, the signed-in admin
recorded in the audit. The loads page lists ``data_loads`` with what each load changed, and
undoes one (``dashboard.undo``) after a confirmation that names the later loads in its way.
"""
from __future__ import annotations

import logging

import pandas as pd
from flask import request
from sqlalchemy import bindparam, text

from .. import figures, formatting, importer, security, undo
from ..i18n import t
from ..importer import staging
from ..importer.pipeline import check_files, detect_kind
from ..importer.preview import preview
from . import access

log = logging.getLogger(__name__)

UPLOAD_PATH = security.upload_route("/admin/upload")
LOADS_PATH = "/admin/loads"
#: Problems listed on the page at most (all are counted).
SHOWN_ISSUES = 500


def _settings():
    return access.state().settings


def _root():
    return staging.folder(getattr(_settings(), "upload_dir", None))


def register(bp, views) -> None:
    """Add the pages to the auth blueprint (`views` is dashboard.auth.views: render, guards)."""

    @bp.route(UPLOAD_PATH, methods=["GET", "POST"])
    def upload_page():
        denied = views.admin_only()
        if denied is not None:
            return denied
        lang = views.page_lang()
        ctx = _upload_context(lang)
        if request.method == "GET":
            return views.render("auth/upload.html", **ctx)
        if request.form.get("action") == "confirm":
            return _confirm(views, lang, ctx)
        return _check(views, lang, ctx)

    @bp.route(LOADS_PATH, methods=["GET", "POST"])
    def loads_page():
        denied = views.admin_only()
        if denied is not None:
            return denied
        lang = views.page_lang()
        user = access.current_user()
        ctx: dict = {"title": t("loads_title", lang), "action": LOADS_PATH, "when": views._when}
        status = 200
        if request.method == "POST":
            try:
                load_id = int(request.form.get("id", ""))
            except ValueError:
                load_id = 0
            cascade = request.form.get("cascade") == "1"
            try:
                if request.form.get("action") == "ask":
                    with figures.engine().connect() as conn:
                        first = undo.plan(conn, load_id)
                        plans = [undo.plan(conn, lid) for lid in first.later] + [first]
                    ctx.update(ask=first, plans=plans,
                               refusal=undo.refusal(first).message(lang) if first.later else None)
                elif request.form.get("action") == "undo":
                    done = undo.undo(figures.engine(), load_id, actor=user.username, cascade=cascade)
                    log.info("loads undone by %s: %s", user.username, [p.load_id for p in done])
                    ctx["notices"] = [t("loads_undone", lang, id=p.load_id, kind=p.kind, file=p.source_file,
                                        removed=p.removed, restored=p.restored) for p in done]
            except undo.UndoRefused as exc:
                ctx["error"] = exc.message(lang)
                status = 409
        ctx["loads"] = _loads(lang)
        return views.render("auth/loads.html", status, **ctx)


def _upload_context(lang: str) -> dict:
    return {"title": t("upload_title", lang), "action": UPLOAD_PATH, "kinds": importer.KINDS,
            "number_formats": importer.NUMBER_FORMATS, "limit": formatting.number(_settings().max_upload_bytes / 1048576,
                                                                                   1, lang),
            "kind": request.form.get("kind", "auto"), "number_format": request.form.get("number_format", "plain")}


def _check(views, lang: str, ctx: dict):
    user = access.current_user()
    upload = request.files.get("file")
    kind = request.form.get("kind", "auto")
    number_format = request.form.get("number_format", "plain")
    if kind not in (*importer.KINDS, "auto") or number_format not in importer.NUMBER_FORMATS:
        return views.render("auth/upload.html", 400, error=t("upload_err_choice", lang), **ctx)
    if upload is None or not upload.filename:
        return views.render("auth/upload.html", 400, error=t("upload_err_no_file", lang), **ctx)
    name = staging.clean_name(upload.filename)
    if staging.suffix_of(name) is None:
        return views.render("auth/upload.html", 400, error=t("upload_err_type", lang, file=name), **ctx)
    data = upload.read()
    if not data:
        return views.render("auth/upload.html", 400, error=t("upload_err_empty", lang, file=name), **ctx)
    root = _root()
    staged = staging.stage(root, data, name, owner=user.username, kind=kind, number_format=number_format)
    if kind == "auto":
        kind = detect_kind(staged.path)
        if kind is None:
            staging.discard(root, staged.token)
            return views.render("auth/upload.html", 400, error=t("upload_err_kind", lang, file=name), **ctx)
    checked = check_files(figures.engine(), kind, [staged.path], dry_run=True, number_format=number_format,
                          names=[name])
    report = checked.report
    ctx.update(kind=kind, file=name, report=report, issues=_issues(report.errors, lang),
               warnings=_issues(report.warnings, lang))
    if report.errors:
        staging.discard(root, staged.token)
        return views.render("auth/upload.html", 422, **ctx)
    shown = preview(figures.engine(), checked, user.username)
    _remember_kind(root, staged, kind)
    ctx.update(token=staged.token, preview=shown, changes=_changes(shown, lang), moves=_moves(shown, lang),
               rows=report.rows)
    return views.render("auth/upload.html", **ctx)


def _remember_kind(root, staged, kind: str) -> None:
    import json

    meta = staged.path.parent / "meta.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    data["kind"] = kind
    meta.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _confirm(views, lang: str, ctx: dict):
    user = access.current_user()
    root = _root()
    staged = staging.get(root, request.form.get("token"), user.username)
    if staged is None or staged.kind not in importer.KINDS:
        return views.render("auth/upload.html", 400, error=t("upload_err_token", lang), **ctx)
    report = importer.import_files(figures.engine(), staged.kind, [staged.path], user=user.username,
                                   number_format=staged.number_format, names=[staged.filename])
    ctx.update(kind=staged.kind, file=staged.filename, report=report, issues=_issues(report.errors, lang))
    if report.errors:  # the data changed since the preview: nothing written, say why
        staging.discard(root, staged.token)
        return views.render("auth/upload.html", 422, **ctx)
    staging.discard(root, staged.token)
    log.info("upload loaded by %s: %s (%s), %d added, %d replaced", user.username, staged.filename, staged.kind,
             report.added, report.replaced)
    ctx["loaded"] = t("upload_loaded", lang, file=staged.filename, added=report.added, replaced=report.replaced,
                      ids=", ".join(f"#{f.load_id}" for f in report.files))
    return views.render("auth/upload.html", **ctx)


def _issues(issues, lang: str) -> list[dict]:
    return [{"file": i.file, "line": "" if i.line is None else i.line, "column": i.column or "",
             "cell": i.cell or "", "value": "" if i.value is None else str(i.value)[:80], "message": i.reason(lang),
             "message_vi": i.reason("vi")} for i in issues[:SHOWN_ISSUES]]


def _indicator(code: str) -> dict:
    try:
        frame = figures.indicators()
        row = frame[frame["code"] == code]
        return row.iloc[0].to_dict() if len(row) else {"code": code}
    except Exception:  # noqa: BLE001 - a name is not worth a failed page
        return {"code": code}


def _label(ind: dict, lang: str) -> str:
    return str(ind.get(f"name_{lang}") or ind.get("name_vi") or ind.get("code"))


def _changes(shown, lang: str) -> list[dict]:
    return [{"what": c.what, "name": _label(_indicator(c.what), lang) if c.what not in
             ("units", "facilities", "indicators") else c.what, "month": c.month,
             "added": formatting.number(c.added, 0, lang), "replaced": formatting.number(c.replaced, 0, lang)}
            for c in shown.changes]


def _moves(shown, lang: str) -> list[dict]:
    out = []
    for m in shown.moves:
        ind = _indicator(m.indicator)
        out.append({"indicator": _label(ind, lang), "period": m.period, "entity": m.entity_name or m.entity_code,
                    "code": m.entity_code, "before": formatting.value(m.before, ind, lang),
                    "after": formatting.value(m.after, ind, lang)})
    return out


def _loads(lang: str) -> list[dict]:
    frame = undo.loads(figures.engine())
    changed = _what_changed([int(i) for i in frame["id"]]) if len(frame) else {}
    out = []
    for r in frame.itertuples():
        undone = not pd.isna(r.undone_at)
        out.append({"id": int(r.id), "at": str(pd.to_datetime(r.loaded_at, utc=True, format="mixed"))[:16],
                    "user": r.user_name, "kind": r.kind, "file": r.source_file, "added": int(r.rows_added),
                    "replaced": int(r.rows_replaced), "checksum": str(r.checksum)[:12], "full_checksum": r.checksum,
                    "demo": bool(r.is_demo), "changed": changed.get(int(r.id), ""),
                    "undone": (f"{str(pd.to_datetime(r.undone_at, utc=True, format='mixed'))[:16]} {r.undone_by}"
                               if undone else "")})
    return out


def _what_changed(ids: list[int]) -> dict[int, str]:
    """Per load: the indicators and months its rows still stored cover ('stockind 2025-07…2025-09 (12)')."""
    out: dict[int, list[str]] = {}
    statement = text("SELECT load_id, indicator_code, MIN(period), MAX(period), COUNT(*) FROM kpi_values "
                     "WHERE load_id IN :ids GROUP BY load_id, indicator_code ORDER BY load_id, indicator_code"
                     ).bindparams(bindparam("ids", expanding=True))
    with figures.engine().connect() as conn:
        for start in range(0, len(ids), 500):
            for lid, ind, first, last, n in conn.execute(statement, {"ids": ids[start:start + 500]}):
                span = first if first == last else f"{first}…{last}"
                out.setdefault(int(lid), []).append(f"{ind} {span} ({n})")
    return {k: "; ".join(v) for k, v in out.items()}

