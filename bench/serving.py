"""Benchmark: how the dashboard serves, one run, one table of figures and ratios.

For each database (SQLite, PostgreSQL) and data set (the demo province; with ``--national``
the country: 34 provinces, 3,321 communes, 12 indicators × 60 months), against gunicorn over
real HTTP:

1. **drill-down** p50/p95 through ``POST /_dash-update-component`` (Dash Pages' router: the
   page content for a URL), province → zone → commune, warm (asked before) and cold (the first
   ask after a load), as a ratio to a no-op callback (the navbar toggler) measured in the same
   run on the same server;
2. **bytes on the wire** of the map per level, raw and compressed (gzip, brotli);
3. **first paint** of ``/`` and ``/map`` in headless Chromium (until the first card's value /
   the first map shape is drawn), cold browser cache;
4. **RSS per gunicorn worker** after the run;
5. **import**: a one-month load of every entity through ``dashboard import values`` — its time
   and peak memory, and the time until the new month is on every page;
6. **50 concurrent viewers** for 60 s (``--viewers``, ``--seconds``) against 4 workers with Redis
   (and PostgreSQL), a realistic mix — page loads, drill-downs, the API, CSV exports — p50, p95,
   p99 and errors.

Goals (issue 10): warm drill-down ≤ 1.5 × no-op; cold ≤ 250 ms; first /map paint ≤ 1.5 s; map
≤ 100 KB on the wire (demo communes), ≤ 250 KB (national provinces); 50 viewers p95 < 500 ms with
0 errors; a national month visible within 30 s of the command starting.

Run: python bench/serving.py [--data demo,national] [--db sqlite,postgresql] [--viewers 50] [--seconds 60]
     [--no-browser] [--no-load] [--reuse sqlite-national=URL ...]
(default: both data sets on both databases, one table; each full load is timed with its peak RSS)
The machine is shared and noisy: compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(url: str, workers: int, redis: bool) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "b" * 48, "ANONYMOUS_READ": "true",
           "WEB_CONCURRENCY": str(workers), "PYTHONPATH": str(ROOT), "LOAD_DEMO": "false"}
    if redis:
        env["CACHE_REDIS_URL"] = REDIS_URL
    return env


def dashboard(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", "--database", url, *args], cwd=ROOT,
                          env=env_for(url, 1, False), capture_output=True, text=True, check=True)


def timed_dashboard(url: str, *args: str) -> tuple[float, float]:
    """Run a `dashboard` command; (wall seconds, the child's own peak RSS in MB via wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--database", url, *args], cwd=ROOT,
                            env=env_for(url, 1, False), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"dashboard {' '.join(args)} failed: {err[-1500:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


LOADS: dict[str, tuple[float, float]] = {}


def prepare(kind: str, national: bool, reuse: str | None = None) -> tuple[str, callable]:
    """A database of `kind` holding the data set; returns (url, cleanup). `reuse`: the URL of a
    database that already holds it (its load is not timed again)."""
    if reuse:
        return reuse, (lambda: None)
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
        url = f"sqlite:///{folder / 'bench.db'}"
        cleanup = lambda: None  # noqa: E731 - the temp folder is left for inspection
    else:
        from sqlalchemy import create_engine, text

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"

        def cleanup():
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    dashboard(url, "db", "upgrade")
    took, peak = timed_dashboard(url, "load-demo", *(["--national"] if national else []))
    LOADS[(kind, national)] = (took, peak)
    print(f"  [{kind}] data loaded in {took:.0f} s, peak {peak:.0f} MB", file=sys.stderr)
    return url, cleanup


class Server:
    def __init__(self, url: str, workers: int, redis: bool):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = env_for(url, workers, redis) | {"PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log = open(Path(tempfile.gettempdir()) / f"bench-gunicorn-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"gunicorn did not get ready; see {self.log.name}")

    def worker_rss_mb(self) -> list[float]:
        out = []
        for child in Path(f"/proc/{self.proc.pid}/task").parent.parent.glob("[0-9]*"):
            try:
                status = (child / "status").read_text()
            except OSError:
                continue
            if f"PPid:\t{self.proc.pid}\n" in status:
                rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
                out.append(rss / 1024)
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def router_body(path: str, search: str = "") -> dict:
    return {"output": ROUTER_OUTPUT,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


NOOP = {"output": "nav-collapse.is_open", "outputs": {"id": "nav-collapse", "property": "is_open"},
        "inputs": [{"id": "nav-toggler", "property": "n_clicks", "value": 1}],
        "state": [{"id": "nav-collapse", "property": "is_open", "value": False}],
        "changedPropIds": ["nav-toggler.n_clicks"]}


def timed_post(session, base: str, body: dict) -> float:
    started = time.perf_counter()
    resp = session.post(base + "/_dash-update-component", json=body, headers={"Origin": base})
    elapsed = (time.perf_counter() - started) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"{resp.status_code}: {resp.text[:200]}")
    return elapsed


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def drill_path(base: str, session) -> list[tuple[str, str]]:
    """Province → its first child → that child's first child, as the map drills."""
    units = session.get(base + "/api/v1/units").json()["units"]
    root = next(u for u in units if not u.get("parent_code"))
    children = [u for u in units if u.get("parent_code") == root["code"]]
    child = sorted(children, key=lambda u: u["code"])[0]
    grand = sorted([u for u in units if u.get("parent_code") == child["code"]], key=lambda u: u["code"])
    steps = [("/map", ""), ("/map", f"?unit={child['code']}")]
    if grand:
        steps.append(("/map", f"?unit={grand[0]['code']}"))
    return steps


def measure_latency(server: Server, rounds: int = 40) -> dict:
    session = requests.Session()
    steps = drill_path(server.base, session)
    noop = [timed_post(session, server.base, NOOP) for _ in range(rounds * 2)]
    cold = {s: timed_post(session, server.base, router_body(*s)) for s in steps}  # first asks of this version
    warm = [timed_post(session, server.base, router_body(*s)) for _ in range(rounds) for s in steps]
    return {"noop_p50": statistics.median(noop), "warm_p50": statistics.median(warm), "warm_p95": pct(warm, 0.95),
            "cold": cold, "steps": steps}


def measure_bytes(server: Server) -> dict:
    out = {}
    session = requests.Session()
    for label, search in (("top level", ""), ("one unit's children", None)):
        if search is None:
            search = drill_path(server.base, session)[1][1]
        body = json.dumps(router_body("/map", search))
        raw = session.post(server.base + "/_dash-update-component", data=body, headers={
            "Content-Type": "application/json", "Accept-Encoding": "identity", "Origin": server.base})
        enc = {}
        for name in ("gzip", "br"):
            resp = session.post(server.base + "/_dash-update-component", data=body, stream=True, headers={
                "Content-Type": "application/json", "Accept-Encoding": name, "Origin": server.base})
            enc[name] = len(resp.raw.read(decode_content=False))
        out[label] = {"raw": len(raw.content), **enc}
        # The outlines come once per boundary version by URL (/geo/…): their bytes beside.
        layers = set(re.findall(r'"geojson":\s*"([^"]+)"', raw.content.decode("utf-8").replace("\\u002f", "/")))
        for url in layers:
            plain = session.get(server.base + url, headers={"Accept-Encoding": "identity"})
            packed = {name: len(session.get(server.base + url, stream=True, headers={"Accept-Encoding": name})
                                .raw.read(decode_content=False)) for name in ("gzip", "br")}
            out[f"{label}, its layer (once)"] = {"raw": len(plain.content), **packed}
    return out


def measure_paint(server: Server) -> dict:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for path, selector in (("/", "[id^=kpi-value-]"), ("/map", "#map-graph path.choroplethlocation")):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(server.base + path)
            page.wait_for_selector(selector, timeout=60_000)
            out[path] = (time.perf_counter() - started) * 1000
            context.close()
        browser.close()
    return out


def measure_import(url: str, server: Server) -> dict:
    """A new month for every entity that reported the latest one, through `dashboard import
    values`; and how long until the overview shows it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT MAX(period) FROM kpi_values")).scalar()
        rows = conn.execute(text("SELECT indicator_code, entity_code, numerator, denominator FROM kpi_values "
                                 "WHERE period = :p"), {"p": last}).all()
    engine.dispose()
    year, month = int(last[:4]), int(last[5:7])
    new = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    path = Path(tempfile.mkdtemp()) / "month.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("indicator,unit_code,period,numerator,denominator\n")
        for ind, code, num, den in rows:
            out.write(f"{ind},{code},{new},{int(num)},{int(den)}\n")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--database", url, "import", "values", str(path)],
                            cwd=ROOT, env=env_for(url, 1, False), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    # The page is polled while the import runs: "visible" counts from the command's start.
    result: dict = {}

    def wait():
        result["stderr"] = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        result["took"] = time.perf_counter() - started
        result["peak"] = usage.ru_maxrss / 1024

    waiter = threading.Thread(target=wait)
    waiter.start()
    visible = None
    session = requests.Session()
    while time.perf_counter() - started < 120:
        stamp = f"{new[5:7]}/{new[:4]}"
        resp = session.post(server.base + "/_dash-update-component", json=router_body("/"),
                            headers={"Origin": server.base})
        if stamp in json.dumps(resp.json(), ensure_ascii=False):  # Dash writes "/" as "\/"
            visible = time.perf_counter() - started
            break
        time.sleep(0.5)
    waiter.join()
    if proc.returncode != 0:
        print(f"  import failed: {result['stderr'][-1500:]}", file=sys.stderr)
    return {"rows": len(rows), "seconds": result["took"], "peak_mb": result["peak"], "visible_s": visible,
            "ok": proc.returncode == 0}


def load_test(server: Server, viewers: int, seconds: int) -> dict:
    session_local = threading.local()
    steps = drill_path(server.base, requests.Session())
    indicators = [i["code"] for i in requests.get(server.base + "/api/v1/indicators").json()["indicators"]]
    actions = [
        ("page", lambda s, i: s.get(server.base + "/", timeout=30)),
        ("router /", lambda s, i: s.post(server.base + "/_dash-update-component", json=router_body("/"),
                                         headers={"Origin": server.base}, timeout=30)),
        ("drill", lambda s, i: s.post(server.base + "/_dash-update-component",
                                      json=router_body(*steps[i % len(steps)]), headers={"Origin": server.base},
                                      timeout=30)),
        ("targets", lambda s, i: s.post(server.base + "/_dash-update-component", json=router_body("/targets"),
                                        headers={"Origin": server.base}, timeout=30)),
        ("api", lambda s, i: s.get(server.base + f"/api/v1/values?indicator={indicators[i % len(indicators)]}",
                                   timeout=30)),
        ("csv", lambda s, i: s.get(server.base + f"/export/data.csv?indicator={indicators[i % len(indicators)]}",
                                   timeout=30)),
    ]
    weights = [2, 3, 6, 2, 3, 1]
    plan = [a for a, w in zip(actions, weights) for _ in range(w)]
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def viewer(n: int):
        s = getattr(session_local, "s", None) or requests.Session()
        session_local.s = s
        i = n
        while time.monotonic() < stop_at:
            name, act = plan[i % len(plan)]
            started = time.perf_counter()
            try:
                resp = act(s, i)
                ok = resp.status_code == 200
                detail = f"{name} {resp.status_code}"
            except requests.RequestException as exc:
                ok, detail = False, f"{name} {exc.__class__.__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                times.append(elapsed)
                if not ok:
                    errors.append(detail)
            i += 7
            time.sleep(0.2)  # a person reads before the next click

    with ThreadPoolExecutor(viewers) as pool:
        list(pool.map(viewer, range(viewers)))
    return {"requests": len(times), "p50": pct(times, 0.5), "p95": pct(times, 0.95), "p99": pct(times, 0.99),
            "errors": len(errors), "error_kinds": sorted(set(errors))[:5]}


def bench_one(kind: str, national: bool, args) -> tuple:
    reuse = dict(r.split("=", 1) for r in args.reuse).get(f"{kind}-{'national' if national else 'demo'}")
    url, cleanup = prepare(kind, national, reuse)
    try:
        server = Server(url, workers=1, redis=False)
        try:
            time.sleep(2)
            lat = measure_latency(server)
            size = measure_bytes(server)
            paint = {} if args.no_browser else measure_paint(server)
            imp = None if args.no_import else measure_import(url, server)
            lat_after = measure_latency(server, rounds=5)  # the cold column: first asks after the load
            rss = server.worker_rss_mb()
        finally:
            server.stop()
        load = None
        if not args.no_load and kind == "postgresql":
            server = Server(url, workers=4, redis=True)
            try:
                load = load_test(server, args.viewers, args.seconds)
            finally:
                server.stop()
        return (kind, national, lat, lat_after, size, paint, imp, rss, load)
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="demo,national", help="demo, national or both (comma-separated)")
    parser.add_argument("--national", action="store_true", help="the same as --data national")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="skip the 50-viewer run (PostgreSQL only)")
    parser.add_argument("--no-import", action="store_true", help="skip the one-month import (its cold column too)")
    parser.add_argument("--reuse", action="append", default=[], metavar="KIND-DATA=URL",
                        help="use a database already loaded, e.g. sqlite-national=sqlite:////tmp/n.db "
                             "(a copy: the one-month import writes to it)")
    args = parser.parse_args()
    data_sets = ["national"] if args.national else args.data.split(",")
    rows = [bench_one(kind, data == "national", args) for data in data_sets for kind in args.db.split(",")]
    print(f"\n## Serving benchmark — {time.strftime('%Y-%m-%d %H:%M')}\n")
    print("| data | database | no-op p50 | warm drill p50 / p95 (× no-op) | cold drill after a load, per step | "
          "map bytes raw → gzip / br | first paint / · /map | worker RSS | full load (time, peak) | "
          "one-month import | visible after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, national, lat, after, size, paint, imp, rss, _load in rows:
        cold = " · ".join(f"{ms:.0f}" for ms in after["cold"].values())
        sizes = "; ".join(f"{k}: {v['raw'] / 1024:.0f} KB → {v['gzip'] / 1024:.0f} / {v['br'] / 1024:.0f} KB"
                          for k, v in size.items())
        paints = " · ".join(f"{v:.0f} ms" for v in paint.values()) or "—"
        full = LOADS.get((kind, national))
        full_text = f"{full[0]:.0f} s, {full[1]:.0f} MB" if full else "(reused)"
        imp = imp or {"rows": 0, "seconds": 0.0, "peak_mb": 0.0, "visible_s": None}
        visible = f"{imp['visible_s']:.1f} s" if imp["visible_s"] else "not within 120 s / not run"
        print(f"| {'national' if national else 'demo'} | {kind} | {lat['noop_p50']:.1f} ms | "
              f"{lat['warm_p50']:.1f} / {lat['warm_p95']:.1f} ms (× {lat['warm_p50'] / lat['noop_p50']:.2f}) | "
              f"{cold} ms | {sizes} | {paints} | {', '.join(f'{r:.0f}' for r in rss)} MB | {full_text} | "
              f"{imp['rows']} rows in {imp['seconds']:.1f} s, {imp['peak_mb']:.0f} MB | {visible} |")
    for kind, national, *_rest, load in rows:
        if load:
            print(f"\n{args.viewers} viewers × {args.seconds} s, 4 workers + Redis, {kind}, "
                  f"{'national' if national else 'demo'}: {load['requests']} requests, p50 {load['p50']:.0f} ms, "
                  f"p95 {load['p95']:.0f} ms, p99 {load['p99']:.0f} ms, errors {load['errors']} "
                  f"{load['error_kinds'] or ''}")


if __name__ == "__main__":
    main()
