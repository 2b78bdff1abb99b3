"""The one request reader: every page, export, API route, the wall and the CLI turn their raw
parameters into one frozen :class:`Request` here.

``read(view, raw)`` accepts any mapping — Dash Pages' ``layout(**query)`` keyword arguments
(repeated parameters arrive as lists), Flask's ``request.args`` (a MultiDict), a JSON body, a
callback's values, CLI options — and returns a ``Request`` with one vocabulary:

* ``indicator`` (alias ``ind``), ``indicators`` (a comma list, the wall and the briefing),
  ``period`` (parsed once into a :class:`~dashboard.periods.Period`), ``level``,
  ``unit`` (aliases ``zone``, ``code``, ``parent``: every name a link ever used), ``lang``;
* view options (``colouring``, ``sort``, ``dir``, ``behind``, ``view``, ``rotate``, ``refresh``,
  ``theme``, ``token``, ``format``) declared per view in :data:`VIEWS`.

It never raises on user input. Every problem — a repeated parameter, a value of the wrong type
from a callback payload, a control character, an over-long value, an unknown code, a period in
the future — becomes a :class:`Problem` carried by the request, and the field takes its default.
Each face renders the problems its own way (a page warning, a note in an image, a notes sheet,
a 400 JSON from the API, a CLI exit code). The request is also where access scope lives and
what finished views are cached on (:meth:`Request.cache_key`).
"""
from __future__ import annotations

import logging
import math
import threading
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from . import figures, hierarchy
from .i18n import LANGS, lang_or_default, t
from .periods import Period, PeriodError, parse_period

log = logging.getLogger(__name__)

#: Longest value read for one parameter; a code column is 32 wide, a list of codes longer.
MAX_VALUE = 200
MAX_LIST = 1000
MAX_CODES = 12


# --- problems --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One thing wrong with a parameter. ``status`` is what an API answers for it."""

    parameter: str
    key: str
    values: tuple[tuple[str, Any], ...] = ()
    status: int = 400

    def detail(self, lang: str) -> str:
        return t(self.key, lang, **dict(self.values))

    def text(self, lang: str) -> str:
        """The sentence a page shows: what was wrong and that the default is shown."""
        return t("bad_param", lang, detail=self.detail(lang))

    def sentence(self, lang: str) -> str:
        """The detail as a sentence on its own (an API error, a CLI message)."""
        text = self.detail(lang)
        return text[:1].upper() + text[1:]

    def bilingual(self) -> str:
        return f"{self.sentence('vi')} / {self.sentence('en')}"

    def payload(self) -> dict:
        """The API's 400/403 body."""
        return {"error": self.bilingual(), "parameter": self.parameter,
                "message": {lang: self.sentence(lang) for lang in LANGS}}


def _shown(value: Any) -> str:
    """A user's value as quoted in a message: printable and short."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else "\ufffd" for ch in text)
    return text if len(text) <= 40 else text[:39] + "…"


# --- fields -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """An option with a fixed set of values."""

    values: tuple[str, ...]
    default: str | None = None


@dataclass(frozen=True)
class Number:
    """A whole number in [low, high]; out of range is clamped (and said)."""

    default: int
    low: int
    high: int


@dataclass(frozen=True)
class Flag:
    default: bool = False


@dataclass(frozen=True)
class Text:
    """Opaque text (a wall token): checked for type, length and control characters only."""

    limit: int = 128


#: Canonical name -> the other names links and callers have used for it.
ALIASES = {
    "indicator": ("ind",),
    "unit": ("zone", "code", "parent"),
    "colouring": ("coloring",),
}

OPTIONS: dict[str, Choice | Number | Flag | Text] = {
    "colouring": Choice(("status", "scale"), "status"),
    "dir": Choice(("asc", "desc"), "asc"),
    "behind": Flag(),
    "view": Choice(("completeness",), None),
    "rotate": Number(30, 1, 600),
    "refresh": Number(300, 2, 3600),
    "theme": Choice(("dark", "light"), "dark"),
    "token": Text(),
    "format": Choice(("csv", "xlsx", "json", "png", "pdf"), None),
    "sort": Text(64),
    "q": Text(80),
    # A period before the 2025 reform as today's units (derived from their predecessors; the
    # scorecard's default) or as the units were then (the old units' own reported figures).
    # Not given: each face's default (a download: the units of the period, as the map lists them).
    "units": Choice(("today", "then"), None),
}


@dataclass(frozen=True)
class View:
    """What one face reads. ``level`` chooses the allowed levels and the default from the unit's
    level; ``indicator`` gives the default indicator (None: no default, the face decides)."""

    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    levels: Callable[[], list[str]] = hierarchy.all_levels
    default_level: Callable[[str], str | None] = lambda unit_level: None
    default_indicator: Callable[[], str | None] = lambda: None
    unit_default_root: bool = True
    level_below_unit: bool = False
    #: The unit is in the path (/unit/<code>), not in the query string.
    unit_in_path: bool = False
    #: The API's views whose default is the whole province: for a reader who may not see the
    #: root, leaving the unit out (or asking for the root level) is refused (403 naming this
    #: parameter) instead of falling back to their own unit as a page does.
    root_default_refused: str | None = None


def _map_default_indicator() -> str | None:
    """The first headline indicator reported at the lowest unit level (it fills the map)."""
    kinds = figures.reported_by()
    heads = figures.headline_codes() or list(figures.indicator_codes())
    lowest = hierarchy.lowest_level()
    for code in heads:
        if lowest in kinds.get(code, ()):
            return code
    return heads[0] if heads else None


VIEWS: dict[str, View] = {
    "overview": View(("lang", "period", "unit")),
    "map": View(("lang", "indicator", "period", "level", "unit", "colouring"),
                levels=hierarchy.map_levels, default_level=hierarchy.map_child,
                default_indicator=_map_default_indicator),
    "targets": View(("lang", "period", "level", "unit", "indicator", "behind", "sort", "dir", "view", "units"),
                    default_level=lambda _unit_level: hierarchy.middle_level(), unit_default_root=False),
    "unit": View(("lang", "unit", "period"), unit_default_root=False, unit_in_path=True),
    # the wall always shows each indicator's latest month; a period asked is read only to say so
    "wall": View(("lang", "indicators", "period", "rotate", "refresh", "theme", "token")),
    "search": View(("lang", "q")),
    "export": View(("lang", "indicator", "period", "level", "unit", "format", "colouring", "view", "units")),
    "briefing": View(("lang", "period", "unit", "indicators")),
    "api.indicators": View(("lang",)),
    "api.units": View(("lang", "level", "unit"), unit_default_root=False),
    "api.values": View(("lang", "indicator", "period", "level", "unit", "units"), required=("indicator",),
                       default_level=lambda _unit_level: hierarchy.middle_level(), level_below_unit=True,
                       root_default_refused="parent"),
    "api.completeness": View(("lang", "indicator", "period", "unit"), required=("indicator",),
                             root_default_refused="code"),
}


# --- the request ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    view: str
    lang: str = "vi"
    indicator: str | None = None
    indicators: tuple[str, ...] = ()
    period: Period | None = None
    level: str | None = None
    unit: str | None = None
    options: tuple[tuple[str, Any], ...] = ()
    problems: tuple[Problem, ...] = ()
    #: What was asked for before defaults (the URL a page keeps), canonical names only.
    asked: tuple[tuple[str, str], ...] = ()
    scope: Any = None

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    @property
    def period_label(self) -> str | None:
        return self.period.label if self.period else None

    @property
    def ok(self) -> bool:
        return not self.problems

    def status(self) -> int:
        """What an API answers: 200, or the worst problem's status (403 before 400)."""
        return max((p.status for p in self.problems), default=200)

    def warnings(self) -> list[str]:
        return [p.text(self.lang) for p in self.problems]

    def query(self, **changes) -> dict[str, str]:
        """The URL parameters of this request (with `changes`), canonical names, defaults left out:
        the shareable form of the view."""
        values: dict[str, Any] = {
            "indicator": self.indicator,
            "indicators": ",".join(self.indicators) if self.indicators else None,
            "period": self.period_label,
            "level": self.level,
            "unit": self.unit,
            **dict(self.options),
            "lang": self.lang,
        }
        spec = VIEWS.get(self.view)
        if spec is not None:
            values = {k: v for k, v in values.items() if k in spec.fields and not (k == "unit" and spec.unit_in_path)}
        values.update(changes)
        root = _safe(figures.root_code) if values.get("unit") is not None else None
        out: dict[str, str] = {}
        for name, value in values.items():
            option = OPTIONS.get(name)
            if value in (None, "", False):
                continue
            if name == "unit" and value == root:
                continue
            if name == "lang" and value == "vi":
                continue
            if isinstance(option, (Choice, Number, Flag)) and value == option.default:
                continue
            out[name] = "1" if value is True else str(value)
        return out

    def href(self, path: str, **changes) -> str:
        from urllib.parse import urlencode

        query = self.query(**changes)
        return f"{path}?{urlencode(query)}" if query else path

    def cache_key(self) -> str:
        """Identifies the finished view: the view, its canonical parameters and who may see it.
        (The data version is added by the cache.)"""
        params = "&".join(f"{k}={v}" for k, v in sorted(self.query().items()))
        scope = getattr(self.scope, "key", None) if self.scope is not None else None
        # The warnings a view shows are part of it: ?period=2030-01 is not ?period=2026-10.
        problems = ";".join(f"{p.parameter}:{p.key}:{p.values!r}" for p in self.problems)
        return f"{self.view}?{params}#{scope or '*'}!{problems}"

    @property
    def sees_everything(self) -> bool:
        return self.scope is None or bool(getattr(self.scope, "is_everything", False))

    # --- scope: the one place a face asks what its reader may see ---------------------------

    @property
    def forbidden(self) -> bool:
        """A unit outside the reader's scope was asked for: a page shows "Không có quyền xem
        đơn vị này" (403 over HTTP), the API and downloads answer 403."""
        return any(p.status == 403 for p in self.problems)

    def allows(self, code: Any) -> bool:
        """May this request's reader see the unit or facility `code` (itself or beneath their unit)?"""
        return allows(self.scope, code)

    def visible(self, codes) -> list:
        """The codes of `codes` (any iterable) the reader may see, in order."""
        return [c for c in codes if self.allows(c)]

    def in_scope(self, frame, column: str = "code", context: bool = False):
        """The rows of a frame with one unit per row (codes in `column`) the reader may see; with
        `context`, also their unit's ancestors (a province total next to their own figure)."""
        return in_scope(frame, column, context, scope=self.scope)

    def with_(self, **changes) -> "Request":
        return replace(self, **changes)


# --- reading raw parameters -------------------------------------------------------------------

def _values(raw: Any, name: str) -> list[Any]:
    """Every value given for `name`: MultiDicts and lists keep repeats."""
    if raw is None:
        return []
    getlist = getattr(raw, "getlist", None)
    if callable(getlist):
        return list(getlist(name))
    if name not in raw:
        return []
    value = raw[name]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _clean(name: str, values: list[Any], limit: int, problems: list[Problem]) -> str | None:
    """One string for a parameter, or None with a problem recorded."""
    values = [v for v in values if v is not None and v != ""]
    if not values:
        return None
    if len(values) > 1:
        if len({repr(v) for v in values}) > 1:
            problems.append(Problem(name, "req_repeated", (("name", name),)))
        values = values[:1]
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.append(Problem(name, "req_wrong_type", (("name", name), ("value", _shown(value)))))
        return None
    text = value if isinstance(value, str) else (
        str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    if any(unicodedata.category(ch) == "Cc" for ch in text):  # before trimming: "\n" is not "absent"
        problems.append(Problem(name, "req_control", (("name", name),)))
        return None
    text = text.strip()
    if len(text) > limit:
        problems.append(Problem(name, "req_too_long", (("name", name), ("limit", limit))))
        return None
    text = unicodedata.normalize("NFC", text)
    return text or None


def _gather(view: View, raw: Any, problems: list[Problem]) -> dict[str, str]:
    """Canonical name -> cleaned string, from the canonical name or any alias."""
    out: dict[str, str] = {}
    for name in view.fields:
        limit = MAX_LIST if name == "indicators" else MAX_VALUE
        found: list[tuple[str, str]] = []
        for given in (name, *ALIASES.get(name, ())):
            value = _clean(given, _values(raw, given), limit, problems)
            if value is not None:
                found.append((given, value))
        if not found:
            continue
        if len({v for _, v in found}) > 1:
            problems.append(Problem(name, "req_repeated", (("name", "/".join(g for g, _ in found)),)))
        out[name] = found[0][1]
    return out


def _safe(fn: Callable, default=None):
    from .cache import DataUnavailable, strict

    try:
        return fn()
    except DataUnavailable:
        if strict():  # the API and downloads answer 503 rather than judge parameters blind
            raise
        return default
    except Exception:  # noqa: BLE001 - a default that needs the database must not break reading
        log.warning("request default unavailable (%s)", getattr(fn, "__name__", fn))
        return default


def read(view_name: str, raw: Mapping | None = None, *, lang: str | None = None, scope: Any = None) -> Request:
    """Turn raw parameters into a :class:`Request` for `view_name`. Never raises on user input."""
    view = VIEWS[view_name]
    problems: list[Problem] = []
    given = _gather(view, raw or {}, problems)

    lang_value = given.get("lang") or lang
    if lang_value is not None and lang_value not in LANGS:
        problems.append(Problem("lang", "req_bad_choice", (("name", "lang"), ("value", _shown(lang_value)),
                                                           ("allowed", ", ".join(LANGS)))))
    req_lang = lang_or_default(lang_value)
    if scope is None:
        scope = current_scope()

    known = _safe(lambda: list(figures.indicator_codes()), default=[])

    indicator = None
    if "indicator" in view.fields:
        asked = given.get("indicator")
        if asked is not None and asked not in known:
            problems.append(Problem("indicator", "req_bad_indicator",
                                    (("value", _shown(asked)), ("known", ", ".join(known)))))
            asked = None
        if asked is None and "indicator" in view.required and not any(p.parameter == "indicator"
                                                                       for p in problems):
            problems.append(Problem("indicator", "req_missing", (("name", "indicator"),)))
        indicator = asked or _safe(view.default_indicator)

    indicators: tuple[str, ...] = ()
    if "indicators" in view.fields and given.get("indicators"):
        chosen, unknown = [], []
        for code in (c.strip() for c in given["indicators"].split(",")):
            if not code:
                continue
            if code in known:
                if code not in chosen:
                    chosen.append(code)
            else:
                unknown.append(_shown(code))
        if unknown:
            problems.append(Problem("indicators", "req_unknown_codes", (("codes", ", ".join(unknown[:10])),)))
        if len(chosen) > MAX_CODES:
            problems.append(Problem("indicators", "req_too_many", (("limit", MAX_CODES),)))
        indicators = tuple(chosen[:MAX_CODES])

    period = None
    if "period" in view.fields:
        period = _read_period(given.get("period"), indicator, problems)

    month = period.end if period is not None and given.get("period") is not None else None
    _refuse_units_outside(raw or {}, problems, scope, month)
    unit = None
    if "unit" in view.fields:
        unit = _read_unit(given.get("unit"), view_name, problems, scope, month)
        if view.root_default_refused:
            _refuse_root_default(view, given, problems, scope)

    level = None
    if "level" in view.fields:
        level = _read_level(given.get("level"), view, unit, problems)

    options = []
    for name in view.fields:
        spec = OPTIONS.get(name)
        if spec is not None:
            options.append((name, _read_option(name, spec, given.get(name), problems)))

    asked_pairs = tuple((k, v) for k, v in given.items())
    return Request(view=view_name, lang=req_lang, indicator=indicator, indicators=indicators, period=period,
                   level=level, unit=unit, options=tuple(options), problems=tuple(problems),
                   asked=asked_pairs, scope=scope)


def _read_period(asked: str | None, indicator: str | None, problems: list[Problem]) -> Period | None:
    latest = _safe(lambda: figures.latest_month(indicator) if indicator else None) or \
        _safe(lambda: figures.latest_month())
    if asked is not None:
        try:
            period = parse_period(asked)
        except PeriodError:
            problems.append(Problem("period", "req_bad_period", (("value", _shown(asked)),)))
        else:
            if latest is not None and period.start > latest:
                from .periods import month_label

                problems.append(Problem("period", "req_future_period",
                                        (("value", _shown(asked)), ("latest", month_label(latest)))))
            else:
                return period
    return parse_period(latest) if latest else None


def resolve_unit(text: str, month: str | None = None) -> str:
    """The unit key a URL's code names (``dashboard.unitkeys``): a stored key is itself
    (``31150@2025-06``); ``<code>@<YYYY-MM>`` the unit of that code valid that month; a plain code
    the unit of that code valid today, else the one valid at `month` (the period viewed), else the
    latest. A code no unit has (a facility, an unknown one) comes back as given."""
    res = figures.resolver()
    key = res.resolve(text)
    if key is not None and month is not None:
        span = res.span(key)
        if span is not None and span.valid_to is not None:  # nothing of that code is valid today
            key = res.resolve(text, month) or key
    return key if key is not None else text


def _read_unit(asked: str | None, view_name: str, problems: list[Problem], scope: Any,
               month: str | None = None) -> str | None:
    view = VIEWS[view_name]
    root = _safe(figures.root_code)
    code = None
    if asked is not None:
        try:
            ent = figures.entity(resolve_unit(asked, month))
        except figures.UnknownUnit:
            # The unit page is the unit: an unknown one is "not found" there, a bad parameter elsewhere.
            problems.append(Problem("unit", "req_bad_unit", (("value", _shown(asked)),),
                                    status=404 if view_name == "unit" else 400))
        except Exception:  # noqa: BLE001 - the database may be away: keep the code, the face will say
            code = asked
        else:
            code = str(ent["code"])
    if code is not None and not allows(scope, code):
        if not any(p.key == "req_forbidden" for p in problems):
            problems.append(Problem("unit", "req_forbidden", (("value", _shown(code)),), status=403))
        code = None
    if code is None:
        if scope is not None and getattr(scope, "home", None):
            return scope.home
        return root if view.unit_default_root else None
    return code


def _refuse_units_outside(raw: Any, problems: list[Problem], scope: Any, month: str | None = None) -> None:
    """Every known unit named under any of the unit's names (``unit``, ``zone``, ``code``,
    ``parent``), in any view, must lie in the reader's scope: a 403 problem naming the
    parameter as given otherwise. (Unknown codes are the unit reader's to report.)"""
    if scope is None or getattr(scope, "is_everything", False):
        return
    for name in ("unit", *ALIASES["unit"]):
        for value in _values(raw, name):
            code = _clean(name, [value], MAX_VALUE, [])
            if code is not None:
                code = _safe(lambda: resolve_unit(code, month), default=code)
            if code is None or _safe(lambda: _known_entity(code), default=True) is False:
                continue
            if not allows(scope, code):
                problems.append(Problem(name, "req_forbidden", (("value", _shown(code)),), status=403))
                return


def _known_entity(code: str) -> bool:
    try:
        figures.entity(code)
    except figures.UnknownUnit:
        return False
    return True


def _refuse_root_default(view: View, given: dict[str, str], problems: list[Problem], scope: Any) -> None:
    """The API's province-wide default is refused to a reader who may not see the province."""
    if scope is None or getattr(scope, "is_everything", False) or any(p.status == 403 for p in problems):
        return
    root_level = _safe(hierarchy.root_level)
    if "unit" in given and not (root_level is not None and given.get("level") == root_level):
        return
    root = _safe(figures.root_code)
    if root is None or allows(scope, root):
        return  # no units: nothing to leak
    name = view.root_default_refused
    problems.append(Problem(name, "auth_forbidden_default",
                            (("param", name), ("code", getattr(scope, "home", None) or "…")), status=403))


def _unit_level(unit: str | None) -> str | None:
    if unit is None:
        return None
    return _safe(lambda: figures.entity(unit)["level"])


def _read_level(asked: str | None, view: View, unit: str | None, problems: list[Problem]) -> str | None:
    allowed = _safe(view.levels, default=[]) or []
    unit_level = _unit_level(unit) or _safe(hierarchy.root_level)
    if asked is not None:
        if asked not in allowed:
            problems.append(Problem("level", "req_bad_level",
                                    (("value", _shown(asked)), ("allowed", ", ".join(allowed)))))
        elif view.level_below_unit and unit_level is not None and not _safe(
                lambda: hierarchy.is_above(unit_level, asked), default=True):
            # The unit asked for is not above the level: the unit is what does not fit.
            problems.append(Problem("unit", "req_level_not_below",
                                    (("value", asked), ("unit", unit or ""))))
        else:
            return asked
    return _safe(lambda: view.default_level(unit_level)) if unit_level else None


def _whole_number(text: str) -> int | None:
    """ASCII digits only ("３０" is not thirty here); "30.0" is 30."""
    if not text.isascii():
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None


def _read_option(name: str, spec, asked: str | None, problems: list[Problem]):
    if isinstance(spec, Choice):
        if asked is None:
            return spec.default
        if asked in spec.values:
            return asked
        problems.append(Problem(name, "req_bad_choice", (("name", name), ("value", _shown(asked)),
                                                         ("allowed", ", ".join(spec.values)))))
        return spec.default
    if isinstance(spec, Flag):
        if asked is None:
            return spec.default
        word = asked.lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        problems.append(Problem(name, "req_bad_choice", (("name", name), ("value", _shown(asked)),
                                                         ("allowed", "1, 0"))))
        return spec.default
    if isinstance(spec, Number):
        if asked is None:
            return spec.default
        value = _whole_number(asked)
        if value is None:
            problems.append(Problem(name, "req_bad_number", (("name", name), ("value", _shown(asked)),
                                                             ("used", spec.default))))
            return spec.default
        if not spec.low <= value <= spec.high:
            used = min(max(value, spec.low), spec.high)
            problems.append(Problem(name, "req_clamped", (("name", name), ("value", _shown(asked)),
                                                          ("low", spec.low), ("high", spec.high), ("used", used))))
            return used
        return value
    if isinstance(spec, Text):
        if asked is not None and len(asked) > spec.limit:
            problems.append(Problem(name, "req_too_long", (("name", name), ("limit", spec.limit))))
            return None
        return asked
    raise TypeError(spec)


# --- access scope -----------------------------------------------------------------------------

_scope_provider: Callable[[], Any] | None = None


def set_scope_provider(provider: Callable[[], Any] | None) -> None:
    """The accounts module registers how to find the logged-in user's scope (None: everything)."""
    global _scope_provider
    _scope_provider = provider


_override = threading.local()


def current_scope() -> Any:
    forced = getattr(_override, "scope", None)
    if forced is not None:
        return forced
    if _scope_provider is None:
        return None
    try:
        return _scope_provider()
    except Exception:  # noqa: BLE001
        log.exception("scope provider failed; refusing every unit")
        return _NOTHING


class as_reader:
    """Within this block the request reader reads as `scope` (the warm-up builds views as a
    reader of everything, whoever is signed in)."""

    def __init__(self, scope: Any):
        self.scope = scope

    def __enter__(self):
        self.previous = getattr(_override, "scope", None)
        _override.scope = self.scope
        return self

    def __exit__(self, *exc):
        _override.scope = self.previous
        return False


class _Nothing:
    key = "none"
    home = None
    is_everything = False

    def allows(self, code: str) -> bool:
        return False


def allows(scope: Any, code: Any) -> bool:
    """May a reader of `scope` (None: everything) see the unit or facility `code`?"""
    if scope is None or getattr(scope, "is_everything", False):
        return True
    if not code:
        return False
    # The closure may be unreadable (an outage): refuse then, never raise from the reader.
    return bool(_safe(lambda: scope.allows(str(code)), default=False))


def in_scope(frame, column: str = "code", context: bool = False, *, scope: Any = "current"):
    """The rows of a frame (one unit per row, codes in `column`) a reader of `scope` (by default
    the current reader's, :func:`current_scope`) may see: a ranking, a table or a list of units
    never holds another branch's units. With `context`, also the rows of their ancestors."""
    if isinstance(scope, str) and scope == "current":
        scope = current_scope()
    if scope is None or getattr(scope, "is_everything", False) or column not in frame or frame.empty:
        return frame
    filter_ = getattr(scope, "filter", None)
    if callable(filter_):
        return filter_(frame, column, context=context)
    keep = [allows(scope, c) or (context and bool(getattr(scope, "is_context", lambda _c: False)(str(c))))
            for c in frame[column]]
    return frame[keep]


_NOTHING = _Nothing()


def from_flask(view_name: str, **extra) -> Request:
    """The request of the current Flask request's query string (API routes, downloads)."""
    from flask import request as flask_request

    raw = flask_request.args.copy()
    for key, value in extra.items():
        raw.setlist(key, [value])
    return read(view_name, raw)

