"""First start: schema, built-in indicators, and the demo province if the database is empty.

Two ways in:

* :func:`prepare_database` does it now, in the caller's thread (tests, benches, the CLI).
* :func:`start_in_background` is what the web application does: the same routine in a
  daemon thread of each process, under the first-start lock (so of several gunicorn
  workers exactly one migrates and loads the demo while the others wait), retried with
  back-off until it succeeds. Importing the app or booting a worker therefore never waits
  for, or fails on, the database: pages say they are getting ready and fill in by
  themselves once :func:`is_ready`; ``/readyz`` reports the same state.
"""
from __future__ import annotations

import fcntl
import logging
import os
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, text

from . import aggregates, store
from .database import is_up_to_date, set_meta, upgrade

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo:hai-phong-2025"


@contextmanager
def first_start_lock(engine: Engine) -> Iterator[None]:
    """Serialise first-start work between processes (several gunicorn workers start at
    once): a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(20250701)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(20250701)"))
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_suffix(Path(database).suffix + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_database(engine: Engine, load_demo: bool = True) -> bool:
    """Upgrade the schema, make sure the catalogue's indicators exist, and fill an empty
    database with the demo province. Returns True if the demo was loaded now."""
    with first_start_lock(engine):
        return _prepare(engine, load_demo)


def _prepare(engine: Engine, load_demo: bool) -> bool:
    if not is_up_to_date(engine):
        upgrade(engine)
    with engine.connect() as conn:
        has_indicators = conn.execute(text("SELECT COUNT(*) FROM indicators")).scalar_one() > 0
        has_units = conn.execute(text("SELECT COUNT(*) FROM units")).scalar_one() > 0
    if not has_indicators:
        with store.write_transaction(engine) as conn:
            store.load_builtin_indicators(conn)
    if load_demo and not has_units:
        load_demo_province(engine)
        aggregates.ensure(engine)
        return True
    aggregates.ensure(engine)
    return False


#: The steps load_demo_province reports to its `progress` callback, in order.
DEMO_STEPS = ("Tạo dữ liệu minh họa / generating the demo",
              "Chỉ tiêu, đơn vị, cơ sở, bảng chuyển đổi / indicators, units, facilities, crosswalk",
              "Ranh giới bản đồ / map boundaries", "Mục tiêu / targets", "Số liệu / values",
              "Tính số liệu tổng hợp và ghi / computing the figures and committing")


def load_demo_province(engine: Engine, user: str | None = None, progress=None) -> dict[str, int]:
    """(Re)load the illustrative Hải Phòng province in one transaction. Idempotent: the
    generator is deterministic and every row is keyed, so a second run replaces each row
    with itself. `progress(label)` is called as each of :data:`DEMO_STEPS` starts."""
    from .demo import build_demo  # the generator pulls in geopandas: only when needed

    say = progress or (lambda label: None)
    say(DEMO_STEPS[0])
    demo = build_demo()
    counts: dict[str, int] = {}
    with store.write_transaction(engine) as conn:
        say(DEMO_STEPS[1])
        store.load_builtin_indicators(conn)
        counts["units"] = sum(store.upsert_units(conn, demo.units))
        counts["facilities"] = sum(store.upsert_facilities(conn, demo.facilities))
        # The 2025 reform: old units → the new ones (demo.reform_links), before the closure.
        counts["links"] = sum(store.upsert_links(conn, demo.links))
        store.rebuild_hierarchy(conn)
        # Map boundaries: the communes from geodata/, then zones and province outline, by
        # the same functions as `dashboard geodata import` / `build-zones`.
        from .boundaries import load_demo_boundaries

        say(DEMO_STEPS[2])
        counts["boundaries"] = sum(r.stored for r in load_demo_boundaries(conn).values())
        say(DEMO_STEPS[3])
        counts["targets"] = sum(store.upsert_targets(conn, demo.targets))
        say(DEMO_STEPS[4])
        load_id = store.record_load(conn, kind="values", source_file=DEMO_SOURCE,
                                    checksum=store.frame_checksum(demo.values), user=user, is_demo=True)
        added, replaced = store.upsert_values(conn, demo.values, load_id)
        store.finish_load(conn, load_id, added, replaced)
        counts["values"] = added + replaced
        set_meta(conn, "demo_seed", "hai-phong-2025")
        say(DEMO_STEPS[5])  # the stored aggregates are refreshed as the transaction ends
    log.info("demo province loaded: %s", counts)
    return counts


# --- in the background, for the web application ------------------------------------------

#: Seconds between attempts: 0.5, 1, 2, … up to one minute, with some jitter so workers
#: that failed together do not knock together again.
RETRY_FIRST, RETRY_CAP = 0.5, 30.0
#: Set when something in this process has just reached the database (a probe, a page's read):
#: a first start waiting out its back-off tries again at once instead of for up to RETRY_CAP.
_wake = threading.Event()

_lock = threading.Lock()
_status: dict = {"state": "idle", "attempts": 0, "error": None, "pid": None, "thread": None}


def start_in_background(engine: Engine, load_demo: bool = True, auto_upgrade: bool = True) -> None:
    """Run the first-start routine in a daemon thread of this process (once per process: a
    forked child starts its own). With `auto_upgrade` off the web app writes nothing: it
    waits until ``dashboard db upgrade`` has brought the schema to head."""
    if _status["pid"] == os.getpid() and _status["state"] != "idle":
        return  # the common case, called before every request: no lock
    with _lock:
        if _status["pid"] == os.getpid() and _status["state"] in ("running", "retrying", "ready"):
            return
        _status.update(state="running", attempts=0, error=None, pid=os.getpid())
        thread = threading.Thread(target=_run_until_done, args=(engine, load_demo, auto_upgrade),
                                  name="first-start", daemon=True)
        _status["thread"] = thread
    thread.start()


def _run_until_done(engine: Engine, load_demo: bool, auto_upgrade: bool) -> None:
    delay = RETRY_FIRST
    while True:
        _status["attempts"] += 1
        try:
            if auto_upgrade:
                prepare_database(engine, load_demo=load_demo)
            elif not is_up_to_date(engine):
                raise RuntimeError("schema not at head: run `dashboard db upgrade` "
                                   "(DB_AUTO_UPGRADE=false, so the web app does not migrate)")
        except Exception as exc:  # noqa: BLE001 - keep trying; the web app serves meanwhile
            _status.update(state="retrying", error=f"{exc.__class__.__name__}: {_first_line(exc)}")
            log.warning("first start: attempt %d failed (%s); retrying in %.1f s",
                        _status["attempts"], _status["error"], delay,
                        exc_info=_status["attempts"] == 1)
            _wake.clear()
            if _wake.wait(delay * random.uniform(0.8, 1.2)):
                delay = RETRY_FIRST  # the database answered someone else: it is back
            else:
                delay = min(RETRY_CAP, delay * 2)
            continue
        _status.update(state="ready", error=None)
        log.info("first start: database ready after %d attempt(s)", _status["attempts"])
        return


def database_answered() -> None:
    """Tell a waiting first start that the database is reachable again (cheap, any thread)."""
    if _status["state"] == "retrying":
        _wake.set()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:300] if text else ""


def status() -> dict:
    """{"state": idle|running|retrying|ready, "attempts", "error"} of this process's first start.
    "idle" means it was never started here (tests, the CLI): nothing to wait for."""
    return {k: _status[k] for k in ("state", "attempts", "error")} if _status["pid"] == os.getpid() \
        else {"state": "idle", "attempts": 0, "error": None}


def is_ready() -> bool:
    return status()["state"] in ("ready", "idle")


def wait_ready(timeout: float) -> bool:
    """Block until the background first start is done (True) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready():
            return True
        time.sleep(0.1)
    return is_ready()
