"""Does the wall screen leak memory in the page? Drive it through many rotations and refreshes.

    python bench/wall_memory.py [--rotations 200] [--refresh 5] [--every 20]

Starts the app (``python app.py``) on a free port with its own SQLite file (the demo loads on
first start), opens ``/wall?rotate=1&refresh=N`` in headless Debian Chromium, and every
``--every`` rotations forces a garbage collection (CDP ``HeapProfiler.collectGarbage``) and
samples ``Performance.getMetrics``: JS heap used, DOM nodes, event listeners. Prints the
samples and the ratio last/first of each. rotate=1 is the wall's test range (1–4 s).
Every ``--new-data-every`` seconds the bench commits a (empty) data load in the server's
database, so the following refresh sends and draws every slide anew, maps included.

A healthy page stays flat after warm-up: ratios near 1.0. A leak shows as a steady climb
(e.g. Dash's undo history grows by one entry per dcc.Interval tick, which is why the wall's
clock and rotation are plain browser timers: see assets/wall.js).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

METRICS = ("JSHeapUsedSize", "Nodes", "JSEventListeners", "Documents")


def sample(cdp) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.collectGarbage")
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {name: values.get(name, float("nan")) for name in METRICS}


def new_data_load(server: LiveServer) -> None:
    """What a load does to readers: one write transaction that bumps the data version."""
    from dashboard import store
    from dashboard.database import make_engine

    engine = make_engine(f"sqlite:///{server.db_path}")
    try:
        with store.write_transaction(engine):
            pass
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rotations", type=int, default=200)
    parser.add_argument("--refresh", type=int, default=5, help="seconds between data refreshes")
    parser.add_argument("--every", type=int, default=20, help="sample every N rotations")
    parser.add_argument("--new-data-every", type=float, default=10.0, metavar="S",
                        help="every S seconds commit a data load (bumps the data version, so the next refresh "
                             "replaces every slide); 0: never (a refresh with nothing new changes nothing)")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="wall-bench-") as tmp:
        server = LiveServer(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                url = f"{server.url}/wall?rotate=1&refresh={args.refresh}"
                page.goto(url)
                page.wait_for_selector("#wall-value-hssk", state="attached", timeout=60_000)
                n_slides = page.evaluate("document.querySelectorAll('.wall-slide').length")
                print(f"{url}: {n_slides} slides, {args.rotations} rotations, refresh every {args.refresh} s")
                started = time.monotonic()
                last_load = started
                loads = 0
                rows = []
                target = 0
                while True:
                    rotations = int(page.get_attribute("#wall-root", "data-rotations") or 0)
                    refreshes = int(__import__("json").loads(page.text_content("#wall-status"))["seq"])
                    if rotations >= target:
                        rows.append((rotations, refreshes, time.monotonic() - started, sample(cdp)))
                        r = rows[-1]
                        # Dash's undo history: one entry per dcc.Interval tick (only the refresh here)
                        history = page.evaluate("window.store ? window.store.getState().history.past.length : -1")
                        print(f"rotations {r[0]:4d}  refreshes {r[1]:3d}  t {r[2]:6.1f} s  "
                              f"heap {r[3]['JSHeapUsedSize'] / 1e6:7.2f} MB  nodes {r[3]['Nodes']:6.0f}  "
                              f"listeners {r[3]['JSEventListeners']:5.0f}  dash history {history:4d}", flush=True)
                        if rotations >= args.rotations:
                            break
                        target += args.every
                    if args.new_data_every and time.monotonic() - last_load >= args.new_data_every:
                        new_data_load(server)
                        loads += 1
                        last_load = time.monotonic()
                    page.wait_for_timeout(250)
                browser.close()
                print(f"data loads committed during the run: {loads}")
        finally:
            server.stop()
    # the first sample is taken at load; the second, after one round of slides, is the warm baseline
    first = rows[1][3] if len(rows) > 2 else rows[0][3]
    last = rows[-1][3]
    print()
    for name in METRICS[:3]:
        ratio = last[name] / first[name] if first[name] else float("nan")
        print(f"{name:17s} first {first[name]:14,.0f}  last {last[name]:14,.0f}  ratio last/first {ratio:5.3f}")
    peak = max(r[3]["JSHeapUsedSize"] for r in rows[1:])
    print(f"{'JSHeap peak':17s} {peak:14,.0f}  ({peak / first['JSHeapUsedSize']:5.3f} × first)")
    print(f"browser errors: {len(errors)}" + (f" (first: {errors[0][:200]})" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
