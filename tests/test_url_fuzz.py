"""Generated URLs and callback payloads, with hypothesis: no page, download, API route or Dash
callback ever answers 500, shows a traceback, or takes longer than 2 s on the demo.

What is generated is enumerated from the app itself, not listed here:

* pages: every path of ``dash.page_registry`` (``/unit/<code>`` with codes good and bad) plus
  unknown paths, asked for as the browser does (the HTML shell, then the Dash Pages router
  callback that renders the page);
* downloads: ``/export/data.<ext>`` and ``/export/<slide>.png`` (``exports.SLIDES``);
* the API: every rule of the ``api_v1`` blueprint, with any method;
* callbacks: every entry of ``app.callback_map`` (its real inputs and states), with values of
  the wrong shape, and envelopes of the wrong shape.

Query strings mix each view's own parameters (``request.VIEWS``, their aliases, ``OPTIONS``'
values) with unknown ones, repeated, of the wrong type, with control characters, over-long,
in any script, and valid values too. Default run: > 1,000 requests on the demo (SQLite), each
family derandomised so CI sees the same cases; ``pytest -m slow`` runs five times more, at random.
"""
from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import urlencode

import dash
import pytest
from dash._utils import split_callback_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import exports, figures, request, security
from tests.app_helpers import web_app
from tests.fault_helpers import ROUTER_OUTPUT, router_body

# Requests per family in the default run (each example is one request, pages two).
SAMPLE = {"pages": 260, "exports": 120, "images": 10, "api": 220, "callbacks": 300, "envelopes": 60}
FULL = {name: n * 5 for name, n in SAMPLE.items()}
BUDGET_S = 2.0


def crowding() -> float:
    """How many times over the machine is booked (1 on a quiet one): CI and the agents' shared
    2-core machine run other suites next to this one, which stretches the wall clock, not the work."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
# A PNG is a Chromium render of 3840×2160 pixels: measured 1–3 s on a loaded 2-core machine.
IMAGE_BUDGET_S = 8.0

# On the demo in SQLite: the fuzz is about reading parameters, not the database.
on_the_demo = pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|"
                       r"\b(?:KeyError|TypeError|ValueError|AttributeError|IndexError)\b: ")


@pytest.fixture(scope="module")
def app():
    return web_app()


@pytest.fixture(scope="module")
def fuzz_db(app, demo_engine):
    """The demo, read by the app for the whole module (one cache: every test asks the same views)."""
    from dashboard import cache, viewcache

    figures.set_engine(demo_engine)
    cache.clear()
    app.server.test_client().get("/")  # Dash registers its callbacks at the first request
    # As after every load: the default views are built once (what the 2 s are not about).
    paths = tuple(p["path"] for p in dash.page_registry.values() if not p.get("path_template"))
    viewcache._warmed.clear()
    viewcache.warm(app, paths + (f"/unit/{figures.root_code()}",))
    yield demo_engine
    figures.set_engine(None)
    cache.clear()


@pytest.fixture
def client(app, fuzz_db):
    return app.server.test_client()


# --- what the demo holds ------------------------------------------------------------------------

class Known:
    """A few real values of each parameter (a few: every one is a view to compute)."""

    def __init__(self):
        table = figures.indicators()
        units = figures.units()
        self.indicators = list(table["code"])
        self.root = figures.root_code()
        by_level = {lvl: list(units.loc[units["level"] == lvl, "code"]) for lvl in units["level"].unique()}
        self.units = [self.root] + [codes[0] for lvl, codes in sorted(by_level.items()) if codes and codes[0] != self.root]
        self.facilities = list(figures.facilities()["code"][:1])
        latest = figures.latest_month()
        year, month = int(latest[:4]), int(latest[5:7])
        earlier = f"{year:04d}-{month - 1:02d}" if month > 1 else f"{year - 1:04d}-12"
        self.periods = [latest, earlier, f"{year:04d}-Q{(month - 1) // 3 + 1}", str(year), f"{year + 1:04d}-01"]
        self.levels = sorted(set(units["level"])) + ["facility"]


@pytest.fixture(scope="module")
def known(fuzz_db):
    return Known()


# --- values -------------------------------------------------------------------------------------

CONTROL = st.sampled_from(["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\ufeff"])
ODD_TEXT = st.sampled_from([
    "２０２６-１０", "٢٠٢٦", "2026-13", "2026-Q5", "0000-00", "9999-12", "-1", "1e9", "nan", "inf", "0x1f", "3.5",
    "true", "null", "[]", "{}", "'; DROP TABLE units; --", "../../etc/passwd", "%00", "%0A", "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\")", "+cmd|'/C calc'!A0", "Hà Nội", "Ha\u0300 No\u0302\u0323i", "ẞ", "🏥", "\u0130",
    "hssk,hssk,hssk", ",,,", " ", "  hssk  ", "HSSK",
])


def text_values(known: Known, name: str) -> st.SearchStrategy[str]:
    """Values for parameter `name`: its real ones, near misses and junk."""
    valid: list[str] = []
    if name in ("indicator", "ind"):
        valid = known.indicators
    elif name == "indicators":
        valid = known.indicators + [",".join(known.indicators[:3]), ",".join(known.indicators * 2)]
    elif name in ("unit", "zone", "code", "parent"):
        valid = known.units + known.facilities
    elif name == "period":
        valid = known.periods
    elif name == "level":
        valid = known.levels
    elif name == "lang":
        valid = ["vi", "en", "fr", "EN"]
    else:
        spec = request.OPTIONS.get(name)
        if isinstance(spec, request.Choice):
            valid = list(spec.values)
        elif isinstance(spec, request.Number):
            valid = [str(spec.low), str(spec.high), str(spec.default), str(spec.high + 1), "0", "-5", "30.0", "abc"]
        elif isinstance(spec, request.Flag):
            valid = ["1", "0", "true", "no", "maybe"]
    junk = st.one_of(
        st.text(max_size=24),
        st.builds(lambda a, c, b: a + c + b, st.sampled_from(valid or ["x"]), CONTROL, st.text(max_size=3)),
        st.builds(lambda c, n: c * n, st.sampled_from(["x", "9", "ệ", "%"]), st.integers(190, 1200)),
        ODD_TEXT,
    )
    return st.one_of(st.sampled_from(valid), junk) if valid else junk


def parameter_names(view: str) -> list[str]:
    names = []
    for field in request.VIEWS[view].fields:
        names.append(field)
        names.extend(request.ALIASES.get(field, ()))
    return names


UNKNOWN_NAMES = st.sampled_from(["x", "utm_source", "indicator[]", "__proto__", "page", "next", "callback",
                                 "Indicator", "LANG", "", "ind ", "ệ"])


@st.composite
def queries(draw, known: Known, view: str) -> list[tuple[str, str]]:
    """A query string as (name, value) pairs: the view's names (repeated at times), unknown ones."""
    names = parameter_names(view)
    pairs: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.one_of(st.sampled_from(names), UNKNOWN_NAMES) if draw(st.integers(0, 5)) == 0
                    else st.sampled_from(names))
        repeats = draw(st.integers(1, 3)) if draw(st.integers(0, 4)) == 0 else 1
        for _ in range(repeats):
            pairs.append((name, draw(text_values(known, name))))
    return pairs


def encoded(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


# --- the checks ---------------------------------------------------------------------------------

class Seen:
    """What was asked and answered: the count, the slowest, and every status."""

    def __init__(self):
        self.count = 0
        self.slowest = (0.0, "")
        self.most_work = (0.0, "")
        self.statuses: dict[int, int] = {}

    def check(self, what: str, call, *, allow_503: bool = False, budget: float = BUDGET_S):
        started, cpu = time.perf_counter(), time.thread_time()
        resp = call()  # the test client serves in this thread: its CPU time is the request's work
        took, work = time.perf_counter() - started, time.thread_time() - cpu
        self.count += 1
        self.statuses[resp.status_code] = self.statuses.get(resp.status_code, 0) + 1
        self.slowest = max(self.slowest, (took, what))
        self.most_work = max(self.most_work, (work, what))
        binary = resp.mimetype.startswith("image/") or "spreadsheetml" in resp.mimetype
        body = "" if binary else resp.get_data().decode("utf-8", "replace")
        assert resp.status_code != 500, (what, body[:500])
        assert resp.status_code < 500 or (allow_503 and resp.status_code == 503
                                          and "Retry-After" in resp.headers), (what, resp.status_code, body[:300])
        assert not TRACEBACK.search(body), (what, TRACEBACK.search(body).group(0))
        assert work < budget, (what, round(work, 2))
        assert took < budget * crowding(), (what, round(took, 2), round(crowding(), 1))
        for name, value in resp.headers.items():  # never a header built from the user's text
            assert "\n" not in value and "\r" not in value and "\x00" not in value, (what, name)
        return resp


def run(budget: int, strategy, check_one, *, random: bool) -> None:
    @settings(max_examples=budget, deadline=None, database=None, derandomize=not random,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(strategy)
    def one(example):
        check_one(example)

    one()


CORPORA = [pytest.param(SAMPLE, id="sample"), pytest.param(FULL, id="full", marks=pytest.mark.slow)]


# --- pages ----------------------------------------------------------------------------------------

def page_paths(known: Known) -> st.SearchStrategy[tuple[str, str]]:
    """(path, the view whose parameters it reads) for every registered page, and unknown paths."""
    options = []
    for page in dash.page_registry.values():
        template = page.get("path_template")
        view = {"layouts.overview": "overview", "layouts.map": "map", "layouts.targets": "targets",
                "layouts.wall": "wall", "layouts.unit": "unit"}.get(page["module"], "overview")
        if template:
            codes = st.one_of(st.sampled_from(known.units + known.facilities), st.text(min_size=1, max_size=20),
                              ODD_TEXT)
            options.append(st.tuples(codes.map(lambda c, t=template: re.sub(r"<[^>]+>", c.replace("/", "%2F"), t)),
                                     st.just(view)))
        else:
            options.append(st.just((page["path"], view)))
    options.append(st.tuples(st.sampled_from(["/nope", "/map/extra", "/unit", "/unit/", "/export", "/api",
                                              "/%00", "/" + "a" * 300, "/wall/../map", "//map", "/mapp"]),
                             st.just("overview")))
    options.append(st.tuples(st.sampled_from(["/login", "/logout", "/admin/wall-tokens", "/healthz", "/readyz"]),
                             st.just("overview")))
    return st.one_of(options)


@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_generated_page_urls_never_fail(client, known, corpus):
    seen = Seen()

    @st.composite
    def example(draw):
        path, view = draw(page_paths(known))
        return path, draw(queries(known, view))

    def one(ex):
        path, pairs = ex
        query = encoded(pairs)
        url = path + ("?" + query if query else "")
        seen.check("GET " + url, lambda: client.get(url))
        if path.startswith(("/login", "/logout", "/admin", "/healthz", "/readyz")):
            return
        resp = seen.check("page " + url, lambda: client.post("/_dash-update-component",
                                                             json=router_body(path, "?" + query if query else "")))
        if resp.status_code == 200:
            assert "_pages_content" in resp.get_json()["response"], url

    run(corpus["pages"], example(), one, random=corpus is FULL)
    assert seen.count >= corpus["pages"] * 1.5, seen.count  # two requests for most examples
    record(seen, "pages")


# --- downloads ------------------------------------------------------------------------------------

@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_generated_download_urls_never_fail(client, known, corpus):
    seen = Seen()
    names = st.one_of(st.sampled_from(["csv", "xlsx"]), st.sampled_from(["pdf", "json", "CSV", "csv%0A", "x" * 300]))

    def one(ex):
        ext, pairs = ex
        url = f"/export/data.{ext}?{encoded(pairs)}"
        resp = seen.check("GET " + url, lambda: client.get(url))
        if resp.status_code == 200:
            assert resp.headers["Content-Disposition"].startswith("attachment;")
            if ext == "csv":
                assert resp.mimetype == "text/csv"

    run(corpus["exports"], st.tuples(names, queries(known, "export")), one, random=corpus is FULL)
    assert seen.count >= corpus["exports"]
    record(seen, "exports")


@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_generated_image_urls_never_fail(client, known, corpus):
    """A few real renders (each one is a Chromium render) and many refused slide names."""
    seen = Seen()
    # The shared browser starts once (seconds): not what a request costs.
    client.get("/export/overview.png")

    def one(ex):
        slide, pairs = ex
        url = f"/export/{slide}.png?{encoded(pairs)}"
        resp = seen.check("GET " + url, lambda: client.get(url), allow_503=True,
                          budget=IMAGE_BUDGET_S if slide in exports.SLIDES else BUDGET_S)
        if resp.status_code == 200:
            assert resp.mimetype == "image/png" and resp.data[:8] == b"\x89PNG\r\n\x1a\n"

    slides = st.sampled_from(exports.SLIDES)
    run(corpus["images"], st.tuples(slides, queries(known, "export")), one, random=corpus is FULL)
    bad = st.one_of(st.text(min_size=1, max_size=30).filter(lambda s: s not in exports.SLIDES and "/" not in s),
                    ODD_TEXT.filter(lambda s: "/" not in s))
    run(corpus["images"] * 4, st.tuples(bad.map(lambda s: s.replace("?", "%3F").replace("#", "%23")),
                                        queries(known, "export")), one, random=corpus is FULL)
    assert seen.count >= corpus["images"] * 5
    record(seen, "images")


# --- the API --------------------------------------------------------------------------------------

def api_routes(app) -> dict[str, str]:
    """Path -> the request view it reads, for every rule of the API blueprint."""
    out = {}
    for rule in app.server.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1.") and rule.endpoint != "api_v1.not_found":
            name = rule.rule.rsplit("/", 1)[-1]
            # The document reads no parameter: it gets the catalogue's (lang only), ignored.
            out[rule.rule] = "api.indicators" if name == "openapi.json" else "api." + name
    return out


@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_generated_api_urls_never_fail(app, client, known, corpus):
    seen = Seen()
    routes = api_routes(app)
    assert set(routes.values()) <= set(request.VIEWS), routes
    paths = st.one_of(st.sampled_from(sorted(routes)).map(lambda p: (p, routes[p])),
                      st.sampled_from(["/api/v1/", "/api/v1/nope", "/api/v1/values/", "/api/v1/Values",
                                       "/api/v1/values/x", "/api/v2/values", "/api/v1/%00"]).map(lambda p: (p, "api.values")))
    methods = st.sampled_from(["GET"] * 8 + ["POST", "PUT", "DELETE", "PATCH"])

    @st.composite
    def example(draw):
        path, view = draw(paths)
        return draw(methods), path, draw(queries(known, view))

    def one(ex):
        method, path, pairs = ex
        url = f"{path}?{encoded(pairs)}"
        resp = seen.check(f"{method} {url}", lambda: client.open(url, method=method))
        if not path.startswith("/api/v1/"):
            assert resp.status_code in (404, 405), url  # not the API: a page that is not found
            return
        assert resp.mimetype == "application/json", (url, resp.mimetype)
        body = resp.get_json()
        if resp.status_code >= 400:
            assert " / " in body["error"] and set(body["message"]) == {"vi", "en"}, (url, body)

    run(corpus["api"], example(), one, random=corpus is FULL)
    assert seen.count >= corpus["api"]
    record(seen, "api")


# --- callbacks ------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 12, 10 ** 12) | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=8)


def callback_values(known: Known, prop: str, component: str) -> st.SearchStrategy:
    """A value for one input or state: its plausible kind (from the property) or anything."""
    plausible = {
        "value": st.sampled_from(known.indicators + known.periods + known.levels + known.units + [None, [], ["1"]]),
        "n_intervals": st.one_of(st.integers(-3, 10 ** 9), st.just(None)),
        "n_clicks": st.one_of(st.integers(0, 10), st.just(None)),
        "is_open": st.booleans(),
        "pathname": st.sampled_from([p["path"] for p in dash.page_registry.values()] + ["/unit/" + known.units[-1],
                                                                                          "/nope"]),
        "search": st.lists(st.tuples(st.sampled_from(["indicator", "period", "level", "unit", "lang", "rotate"]),
                                     text_values(known, "period")), max_size=3).map(lambda p: "?" + encoded(p)),
        "data": st.fixed_dictionaries({}, optional={k: text_values(known, k) for k in
                                                    ("indicator", "indicators", "period", "level", "unit", "lang",
                                                     "sort", "dir", "view", "rotate", "refresh", "theme", "root")}),
        "clickData": st.fixed_dictionaries({"points": st.lists(st.fixed_dictionaries(
            {}, optional={"location": st.sampled_from(known.units) | JSON, "customdata": JSON}), max_size=2)}),
        "active_cell": st.fixed_dictionaries({}, optional={"row": st.integers(-2, 10 ** 6) | JSON,
                                                           "column_id": st.text(max_size=10) | JSON,
                                                           "row_id": st.sampled_from(known.units) | JSON}),
        "children": JSON,
    }
    if component == "_pages_location" and prop == "pathname":
        plausible["pathname"] = st.one_of(plausible["pathname"], st.text(max_size=30).map(lambda s: "/" + s))
    base = plausible.get(prop)
    return st.one_of(base, base, JSON) if base is not None else JSON


def callbacks(app) -> dict[str, dict]:
    """The server-side callbacks (a clientside one is only in the browser: asking the server for
    it is a malformed request, see envelopes)."""
    assert app.callback_map, "callbacks are registered at the first request"
    return {k: v for k, v in app.callback_map.items() if callable(v.get("callback"))}


@st.composite
def callback_bodies(draw, app, known: Known):
    cbs = callbacks(app)
    key = draw(st.sampled_from(sorted(cbs)))
    cb = cbs[key]

    def filled(items):
        return [{"id": i["id"], "property": i["property"],
                 "value": draw(callback_values(known, i["property"], i["id"]))} for i in items]

    inputs, state = filled(cb["inputs"]), filled(cb.get("state", []))
    ids = [f"{i['id']}.{i['property']}" for i in cb["inputs"]]
    changed = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True))
    return {"output": key, "outputs": split_callback_id(key), "inputs": inputs, "state": state,
            "changedPropIds": changed}


@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_generated_callback_payloads_never_fail(app, client, known, corpus):
    seen = Seen()
    cbs = callbacks(app)
    asked: set[str] = set()

    def one(body):
        asked.add(body["output"])
        resp = seen.check("callback " + json.dumps(body, ensure_ascii=True)[:400],
                          lambda: client.post("/_dash-update-component", json=body))
        if resp.status_code == 200:
            assert "response" in resp.get_json()
        elif resp.status_code == 400:  # a value Dash's own router takes on trust (a pathname of 3)
            assert not security.callback_envelope_ok(app, body), body
        else:
            assert resp.status_code == 204, resp.status_code  # no update

    run(corpus["callbacks"], callback_bodies(app, known), one, random=corpus is FULL)
    assert asked == set(cbs), set(cbs) - asked  # every callback was asked
    assert seen.count >= corpus["callbacks"]
    record(seen, "callbacks")


@st.composite
def envelopes(draw, app, known: Known):
    """Bodies that are not what the renderer sends: keys missing or of the wrong type, unknown outputs."""
    body = draw(callback_bodies(app, known))
    how = draw(st.sampled_from(["drop", "retype", "unknown_output", "not_json", "json_scalar", "extra"]))
    if how == "drop":
        for key in draw(st.lists(st.sampled_from(sorted(body)), min_size=1, unique=True)):
            del body[key]
    elif how == "retype":
        body[draw(st.sampled_from(sorted(body)))] = draw(JSON)
    elif how == "unknown_output":
        clientside = sorted(k for k, v in app.callback_map.items() if not callable(v.get("callback")))
        body["output"] = draw(st.sampled_from(["nope.children", "..a.b...c.d..", "", ROUTER_OUTPUT + "x"] + clientside))
    elif how == "not_json":
        return draw(st.sampled_from([b"", b"{", b"\xff\xfe", b"output=x", b"[1,2", b"null"]))
    elif how == "json_scalar":
        return json.dumps(draw(JSON)).encode()
    else:
        body[draw(st.text(min_size=1, max_size=8))] = draw(JSON)
    return json.dumps(body).encode()


@on_the_demo
@pytest.mark.parametrize("corpus", CORPORA)
def test_callback_envelopes_of_the_wrong_shape_never_fail(app, client, known, corpus):
    seen = Seen()

    def one(data):
        resp = seen.check("envelope " + data[:300].decode("utf-8", "replace"),
                          lambda: client.post("/_dash-update-component", data=data, content_type="application/json"))
        assert resp.status_code in (200, 204, 400), resp.status_code
        if resp.status_code == 400:
            body = resp.get_json()
            assert " / " in body["error"] and set(body["message"]) == {"vi", "en"}, body

    run(corpus["envelopes"], envelopes(app, known), one, random=corpus is FULL)
    assert seen.count >= corpus["envelopes"]
    record(seen, "envelopes")


# --- the total --------------------------------------------------------------------------------------

TOTALS: dict[str, Seen] = {}


def record(seen: Seen, family: str) -> None:
    TOTALS[family] = seen
    print(f"\n{family}: {seen.count} requests, statuses {dict(sorted(seen.statuses.items()))}, "
          f"slowest {seen.slowest[0]:.2f} s ({seen.slowest[1][:100]}), "
          f"most work {seen.most_work[0]:.2f} s CPU ({seen.most_work[1][:100]})")


def test_the_default_run_asks_over_a_thousand_requests():
    per_example = {"pages": 1.5, "images": 5}  # as each test asserts it asked
    assert sum(n * per_example.get(name, 1) for name, n in SAMPLE.items()) >= 1000
