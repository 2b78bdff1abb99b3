"""The download routes: pictures of a view and the figures behind it.

* ``/export/<slide>.png`` with slide ∈ :data:`SLIDES` — a 1920×1080 PNG at scale 2, rendered on
  the server (kaleido, ``dashboard.render``), captioned inside (``dashboard.captions``);
* ``/export/data.csv`` and ``/export/data.xlsx`` — the figure rows of ``dashboard.table``: one
  indicator over the units of a level, every indicator over them, or every indicator of a unit.

Both read their parameters through the one request reader (``dashboard.request``, view
"export"), the same names as the pages: ``indicator``, ``period``, ``level``, ``unit``, ``lang``.
A bad parameter never gives a traceback: the default is used and the file says so (inside the
image, in the notes sheet, in an ``X-Dashboard-Warning`` header made from our own messages,
never from the user's text).

HTTP headers carry ASCII, so the header says each problem in Vietnamese without its diacritics
(đ → d, Vietnamese as it is typed without accents, readable by a Vietnamese speaker) and then in
English, as ``vi / en``, problems joined by `` | ``: ``cap "?" khong hop le (chi nhan: province,
commune) / invalid level "?" (allowed: province, commune)``. Our own values (the allowed
choices, the latest month, a limit) are written out; what the user typed (``value``, ``codes``)
stands as ``?``.
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


#: Letters and signs our messages use that have no ASCII decomposition.
_ASCII_SIGNS = str.maketrans({"đ": "d", "Đ": "D", "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'",
                              "–": "-", "—": "-", "−": "-", "×": "x", "≥": ">=", "≤": "<=", "→": "->",
                              "\u00a0": " ", "\u202f": " "})
#: Values of a problem that are the user's own text: never echoed in a header.
USER_VALUES = ("value", "codes")
WARNING_LIMIT = 500


def _ascii(text: str) -> str:
    """`text` in printable ASCII: Vietnamese without its diacritics (đ → d), typographic quotes
    and dashes as their plain forms; anything else left without an equivalent is dropped."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_SIGNS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.encode("ascii", "ignore").decode("ascii") if 32 <= ord(ch) < 127)


def warning_header(problems) -> str:
    """The ``X-Dashboard-Warning`` value for a request's problems (see the module's notes)."""
    def said(p, lang: str) -> str:
        values = {k: ("?" if k in USER_VALUES else v) for k, v in p.values}
        return _ascii(t(p.key, lang, **values))

    return " | ".join(f"{said(p, 'vi')} / {said(p, 'en')}" for p in problems)[:WARNING_LIMIT]


def _attachment(body: bytes, ext: str, filename: str, req: request.Request):
    from flask import Response

    resp = Response(body, mimetype=MIMETYPES[ext])
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    if req.problems:
        # HTTP headers are ASCII: our own message, Vietnamese without diacritics then English.
        resp.headers["X-Dashboard-Warning"] = warning_header(req.problems)
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
