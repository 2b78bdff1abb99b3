"""The download routes: pictures of a view and the figures behind it.

* ``/export/<slide>.png`` with slide ∈ :data:`SLIDES` — a 1920×1080 PNG at scale 2, rendered on
  the server (kaleido, ``dashboard.render``), captioned inside (``dashboard.captions``);
* ``/export/data.csv`` and ``/export/data.xlsx`` — the figure rows of ``dashboard.table``: one
  indicator over the units of a level, every indicator over them, or every indicator of a unit.

Both read their parameters through the one request reader (``dashboard.request``, view
"export"), the same names as the pages: ``indicator``, ``period``, ``level``, ``unit``, ``lang``.
A bad parameter never gives a traceback: the default is used and the file says so (inside the
image, in the notes sheet, in a plain-ASCII ``X-Dashboard-Warning`` header made from our own
messages, never from the user's text).
"""
from __future__ import annotations

import logging
import unicodedata

from . import figures, request, table
from .captions import EXPORT_HEIGHT, EXPORT_SCALE, EXPORT_WIDTH, export_filename
from .i18n import lang_or_default, t

log = logging.getLogger(__name__)

SLIDES = ("overview", "unit", "map", "scorecard", "units_behind", "completeness", "chart")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "png": "image/png"}


def register(server) -> None:
    """Add the /export routes to the Flask server (idempotent)."""
    from flask import Blueprint

    if "exports" in server.blueprints:
        return
    bp = Blueprint("exports", __name__, url_prefix="/export")
    bp.add_url_rule("/data.<ext>", "data", _data_route)
    bp.add_url_rule("/<slide>.png", "image", _image_route)
    server.register_blueprint(bp)


def _text_response(message: str, status: int):
    from flask import Response

    return Response(message + "\n", status=status, mimetype="text/plain; charset=utf-8")


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in text if 32 <= ord(ch) < 127)


def _attachment(body: bytes, ext: str, filename: str, req: request.Request):
    from flask import Response

    resp = Response(body, mimetype=MIMETYPES[ext])
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    if req.problems:
        # HTTP headers are Latin-1: the English half of our own message, never the user's value.
        resp.headers["X-Dashboard-Warning"] = _ascii(" | ".join(
            t(p.key, "en", **{k: "?" for k, _ in p.values}) for p in req.problems))[:500]
    return resp


def _refusal(req: request.Request) -> str:
    problem = next(p for p in req.problems if p.status == 403)
    return problem.sentence(req.lang)


def data_filename(req: request.Request, ext: str) -> str:
    return export_filename(req.indicator or ("scorecard" if req.level else "all"),
                           req.unit or figures.root_code(), req.period_label or "none", ext)


def data_file(req: request.Request, ext: str) -> tuple[bytes, int]:
    """The figures of a request as CSV or XLSX bytes (the same table as the API's JSON), and
    the number of rows."""
    shown = table.shown(table.figure_rows(req), req.lang)
    if ext == "csv":
        return table.to_csv(shown, req.lang), len(shown)
    return table.to_xlsx(shown, req.lang, table.notes_lines(req, req.lang)), len(shown)


def _data_route(ext: str):
    from flask import request as flask_request

    lang = lang_or_default(flask_request.args.get("lang"))
    if ext not in ("csv", "xlsx"):
        return _text_response(t("exp2_bad_format", lang, value=_ascii(ext)[:20]), 404)
    try:
        req = request.from_flask("export")
        if req.forbidden:  # the reader's refusal: nothing of the unit is drawn or written
            return _text_response(_refusal(req), 403)
        body, _rows = data_file(req, ext)
    except Exception:  # noqa: BLE001 - a download never shows a traceback
        log.exception("data export failed")
        return _text_response(t("exp2_failed", lang), 503)
    return _attachment(body, ext, data_filename(req, ext), req)


def _image_route(slide: str):
    from flask import request as flask_request

    from . import slides
    from .render import RenderError, render

    lang = lang_or_default(flask_request.args.get("lang"))
    if slide not in SLIDES:
        return _text_response(t("exp2_bad_slide", lang, value=_ascii(slide)[:40], known=", ".join(SLIDES)), 404)
    try:
        req = request.from_flask("export")
        if req.forbidden:  # the reader's refusal: nothing of the unit is drawn or written
            return _text_response(_refusal(req), 403)
        fig, filename = slides.slide_for_export(slide, req)
        body = render(fig, width=EXPORT_WIDTH, height=EXPORT_HEIGHT, scale=EXPORT_SCALE)
    except RenderError as exc:
        log.warning("image export: %s", exc)
        return _text_response(str(exc), 503)
    except Exception:  # noqa: BLE001
        log.exception("image export failed")
        return _text_response(t("exp2_failed", lang), 503)
    return _attachment(body, "png", filename + ".png", req)
