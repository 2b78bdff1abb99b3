"""Admin pages for data: upload (check, preview, confirm) and the loads page (list, undo).

Server-rendered forms like the sign-in and wall-token pages (CSRF token on every form, admins
only). The upload page posts its file to ``/admin/upload``, the one route with the upload
limit (``security.upload_route``: MAX_UPLOAD_BYTES, 413 past it). The file is staged on the
server under a token (``importer.staging``); the page shows every problem the importer's
checks find (file, row, column, message), or the preview of what the load would change
(``importer.preview``: the real loader in a rolled-back transaction). Confirming re-checks the
staged file and loads it with the same loader as ``dashboard import``, the signed-in admin
recorded in the audit. For values the page takes the importer's reading options (layout
detected or chosen, year, indicator, DHIS2 with its mapping file, a saved mapping); a wide
report's reading (``wide.Understood``) is shown as a table whose unit matches the admin
corrects and checks again (the corrections become the mapping's ``units``, kept with the
staged file), and the mapping can be saved by name (``importer.mappings``) for next month.
The loads page lists ``data_loads`` with what each load changed, and
undoes one (``dashboard.undo``) after a confirmation that names the later loads in its way.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from flask import request
from sqlalchemy import bindparam, text

from .. import figures, formatting, importer, security, undo
from ..i18n import t
from ..importer import mappings, staging
from ..importer.dhis2 import Dhis2Mapping
from ..importer.pipeline import LAYOUTS, check_files, detect_kind
from ..importer.wide import Mapping, Understood, looks_long
from ..importer.wide import Options as WideOptions
from ..importer.preview import preview
from . import access

log = logging.getLogger(__name__)

UPLOAD_PATH = security.upload_route("/admin/upload")
LOADS_PATH = "/admin/loads"
#: Problems listed on the page at most (all are counted).
SHOWN_ISSUES = 500
#: Where a values file comes from: a table (long or wide) or a DHIS2 dataValueSet.
SOURCES = ("table", "dhis2")
DHIS2_FILE = "dhis2-mapping.yaml"
#: Unit rows of a wide report the mapping table corrects at most.
MAX_MAPPED_ROWS = 5000


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
        action = request.form.get("action")
        if action == "confirm":
            return _confirm(views, lang, ctx)
        if action == "recheck":
            return _recheck(views, lang, ctx)
        if action == "save_mapping":
            return _save_mapping(views, lang, ctx)
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
    form = request.form
    return {"title": t("upload_title", lang), "action": UPLOAD_PATH, "kinds": importer.KINDS,
            "number_formats": importer.NUMBER_FORMATS, "limit": formatting.number(_settings().max_upload_bytes / 1048576,
                                                                                   1, lang),
            "kind": form.get("kind", "auto"), "number_format": form.get("number_format", "plain"),
            "layouts": LAYOUTS, "layout": form.get("layout", "auto"), "source": form.get("source", "table"),
            "year": form.get("year", ""), "indicator": form.get("indicator", ""),
            "mapping_id": form.get("mapping_id", ""), "saved_mappings": _saved_mappings()}


def _saved_mappings() -> list[dict]:
    try:
        return mappings.saved(figures.engine())
    except Exception:  # noqa: BLE001 - a database before 0008: the page still works without the list
        log.warning("saved mappings not read", exc_info=True)
        return []


def _form_options(lang: str) -> tuple[dict | None, str | None]:
    """The reading options of a new upload (layout, source, year, indicator, saved mapping), or
    the message saying which field is wrong."""
    form = request.form
    layout, source = form.get("layout", "auto"), form.get("source", "table")
    if layout not in LAYOUTS or source not in SOURCES:
        return None, t("upload_err_choice", lang)
    year = (form.get("year") or "").strip()
    if year and not (year.isdigit() and 1900 <= int(year) <= 2199):
        return None, t("upload_err_year", lang, value=year[:20])
    indicator = (form.get("indicator") or "").strip()[:64]
    out = {"layout": layout, "source": source, "year": int(year) if year else None, "indicator": indicator or None,
           "units": {}}
    mapping_id = (form.get("mapping_id") or "").strip()
    if mapping_id:
        found = mappings.get(figures.engine(), mapping_id)
        if found is None:
            return None, t("upload_err_mapping", lang)
        out["mapping_name"], mapping = found
        out["mapping"] = mapping.text()
    return out, None


def _check(views, lang: str, ctx: dict):
    user = access.current_user()
    upload = request.files.get("file")
    kind = request.form.get("kind", "auto")
    number_format = request.form.get("number_format", "plain")
    if kind not in (*importer.KINDS, "auto") or number_format not in importer.NUMBER_FORMATS:
        return views.render("auth/upload.html", 400, error=t("upload_err_choice", lang), **ctx)
    options, problem = _form_options(lang)
    if problem:
        return views.render("auth/upload.html", 400, error=problem, **ctx)
    if upload is None or not upload.filename:
        return views.render("auth/upload.html", 400, error=t("upload_err_no_file", lang), **ctx)
    name = staging.clean_name(upload.filename)
    suffix = staging.suffix_of(name)
    if suffix is None or (suffix == ".json" and options["source"] != "dhis2"):
        return views.render("auth/upload.html", 400, error=t("upload_err_type", lang, file=name), **ctx)
    dhis2_text = None
    if options["source"] == "dhis2":
        given = request.files.get("dhis2_mapping")
        dhis2_text = given.read().decode("utf-8", "replace") if given is not None and given.filename else ""
        problem = _dhis2_problem(dhis2_text, lang)
        if problem:
            return views.render("auth/upload.html", 400, error=problem, **ctx)
        kind = "values"
    data = upload.read()
    if not data:
        return views.render("auth/upload.html", 400, error=t("upload_err_empty", lang, file=name), **ctx)
    root = _root()
    staged = staging.stage(root, data, name, owner=user.username, kind=kind, number_format=number_format)
    if dhis2_text is not None:
        (staged.path.parent / DHIS2_FILE).write_text(dhis2_text, encoding="utf-8")
    if kind == "auto":
        kind = detect_kind(staged.path) if suffix != ".json" else None
        if kind is None and suffix == ".xlsx" and options["layout"] != "long" and not looks_long(staged.path):
            kind = "values"  # no kind's header on its first row: a report shaped for people
        elif kind is None and options["layout"] == "wide":
            kind = "values"
        if kind is None:
            staging.discard(root, staged.token)
            return views.render("auth/upload.html", 400, error=t("upload_err_kind", lang, file=name), **ctx)
    staging.remember(staged, kind=kind, options=options)
    staged = staging.get(root, staged.token, user.username)
    return _run_check(views, lang, ctx, staged)


def _dhis2_problem(source: str, lang: str) -> str | None:
    import tempfile

    if not source.strip():
        return t("upload_err_dhis2_mapping", lang, detail="—")
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / DHIS2_FILE
        path.write_text(source, encoding="utf-8")
        try:
            Dhis2Mapping.read(path)
        except Exception as exc:  # noqa: BLE001 - any YAML or shape problem is said, never a 500
            return t("upload_err_dhis2_mapping", lang, detail=str(exc)[:200])
    return None


def _reading(staged) -> dict:
    """How the staged file is read: check_files' layout, wide and dhis2 arguments."""
    opts = staged.options
    if staged.kind != "values":
        return {}
    if opts.get("source") == "dhis2":
        return {"dhis2": Dhis2Mapping.read(staged.path.parent / DHIS2_FILE)}
    base = Mapping.parse(opts["mapping"]) if opts.get("mapping") else Mapping()
    base.units.update(opts.get("units") or {})
    year = opts.get("year") or base.year
    wide = WideOptions(indicator=opts.get("indicator") or base.indicator, year=year, mapping=base)
    wide.learned = Mapping(indicator=wide.indicator, year=year)
    wide.understood = Understood()
    layout = opts.get("layout", "auto")
    if layout == "auto":
        layout = "long" if looks_long(staged.path) else "wide"
    return {"layout": layout, "wide": wide}


def _run_check(views, lang: str, ctx: dict, staged):
    """Check the staged file as its options say; the page with its problems (and, for a wide
    report, the mapping to correct) or its preview."""
    user = access.current_user()
    root = _root()
    opts = staged.options
    reading = _reading(staged)
    checked = check_files(figures.engine(), staged.kind, [staged.path], dry_run=True,
                          number_format=staged.number_format, names=[staged.filename], **reading)
    report = checked.report
    wide = reading.get("wide") if reading.get("layout") == "wide" else None
    ctx.update(kind=staged.kind, file=staged.filename, report=report, issues=_issues(report.errors, lang),
               warnings=_issues(report.warnings, lang), source=opts.get("source", "table"),
               layout=opts.get("layout", "auto"), mapping_name=opts.get("mapping_name"),
               corrections=len(opts.get("units") or {}))
    if staged.kind == "values" and opts.get("source") != "dhis2":
        ctx["layout_used"] = reading.get("layout")
        ctx["layout_detected"] = opts.get("layout", "auto") == "auto"
    if wide is not None:
        ctx.update(unit_rows=_unit_rows(wide.understood, lang), column_rows=_column_rows(wide.understood, lang),
                   mapping_token=staged.token)
    if report.errors:
        if wide is None or not wide.understood.units:
            staging.discard(root, staged.token)
            ctx.pop("mapping_token", None)
        return views.render("auth/upload.html", 422, **ctx)
    shown = preview(figures.engine(), checked, user.username)
    if wide is not None:
        staging.remember(staged, learned=wide.learned.text())
    ctx.update(token=staged.token, preview=shown, changes=_changes(shown, lang), moves=_moves(shown, lang),
               rows=report.rows, can_save=wide is not None)
    return views.render("auth/upload.html", **ctx)


def _unit_rows(understood, lang: str) -> list[dict]:
    out = []
    for i, u in enumerate(understood.units):
        out.append({"i": i, "sheet": u["sheet"], "cell": u["cell"], "written": u["written"], "key": u["key"],
                    "code": u["code"] or "", "status": u["status"], "status_text": t(f"upload_map_{u['status']}", lang),
                    "candidates": [{"code": c, "name": n, "kind": k.split(":")[-1]} for c, n, k in u["candidates"]]})
    return out


def _column_rows(understood, lang: str) -> list[dict]:
    out = []
    for c in understood.columns:
        months = c["months"]
        span = "" if not months else months[0] if len(months) == 1 else f"{months[0]}…{months[-1]}"
        ind = _indicator(c["indicator"]) if c["indicator"] else {}
        out.append({"where": c["letter"], "label": c["label"], "months": span,
                    "indicator": c["indicator"] or "", "name": _label(ind, lang) if ind else "",
                    "part": t(f"upload_part_{c['part']}", lang) if c["part"] else ""})
    return out


def _staged_of_form(views, lang: str, ctx: dict):
    user = access.current_user()
    staged = staging.get(_root(), request.form.get("token"), user.username)
    if staged is None or staged.kind not in importer.KINDS:
        return None, views.render("auth/upload.html", 400, error=t("upload_err_token", lang), **ctx)
    return staged, None


def _recheck(views, lang: str, ctx: dict):
    """The admin's corrections of the mapping table (unit row → code) kept, the file checked again."""
    staged, refused = _staged_of_form(views, lang, ctx)
    if refused is not None:
        return refused
    opts = dict(staged.options)
    units = dict(opts.get("units") or {})
    form = request.form
    for i in range(MAX_MAPPED_ROWS):
        key = form.get(f"key_{i}")
        if key is None:
            break
        code = (form.get(f"other_{i}") or "").strip() or (form.get(f"code_{i}") or "").strip()
        if code and code != (form.get(f"was_{i}") or ""):
            units[key[:300]] = code[:64]
    opts["units"] = units
    staging.remember(staged, options=opts)
    return _run_check(views, lang, ctx, staging.get(_root(), staged.token, staged.owner))


def _save_mapping(views, lang: str, ctx: dict):
    staged, refused = _staged_of_form(views, lang, ctx)
    if refused is not None:
        return refused
    meta = json.loads((staged.path.parent / "meta.json").read_text(encoding="utf-8"))
    name = " ".join((request.form.get("mapping_name") or "").split())
    if not meta.get("learned") or not name:
        ctx["error"] = t("upload_err_mapping_name", lang)
        return _run_check(views, lang, ctx, staged)
    user = access.current_user()
    mapping_id = mappings.save(figures.engine(), name, Mapping.parse(meta["learned"]), user.username)
    log.info("import mapping %r (#%d) saved by %s", name, mapping_id, user.username)
    ctx["saved_mappings"] = _saved_mappings()
    ctx["notice"] = t("upload_mapping_saved", lang, name=name[:mappings.NAME_MAX])
    return _run_check(views, lang, ctx, staged)


def _confirm(views, lang: str, ctx: dict):
    user = access.current_user()
    root = _root()
    staged, refused = _staged_of_form(views, lang, ctx)
    if refused is not None:
        return refused
    reading = _reading(staged)
    report = importer.import_files(figures.engine(), staged.kind, [staged.path], user=user.username,
                                   number_format=staged.number_format, names=[staged.filename], **reading)
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

