"""Production shape: gunicorn workers (gunicorn.conf.py) sharing one Redis cache, a first start by
several at once, and an app that imports and boots whatever state its database is in."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

from tests.browser_helpers import free_port
from tests.fault_helpers import render_page

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return client


def wait_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("not up: " + log.read_text()[-3000:])


def test_two_gunicorn_workers_start_together_and_share_the_redis_cache(tmp_path, monkeypatch):
    from dashboard import cache

    client = redis_or_skip()
    monkeypatch.setattr(cache, "_cache", None)  # the probe below must not leave Redis to later tests
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "CACHE_REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT), "LOAD_DEMO": "true"}
    before = set(client.keys("sytdash:*"))
    with open(log, "w") as out:
        # Both workers start on an empty database at once: the first-start lock must let
        # exactly one of them migrate and load the demo.
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                                 "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "app:server"],
                                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_up(f"http://127.0.0.1:{port}/readyz", proc, log)
            # Ask several times: whichever worker answers, the figures land in Redis, and the
            # later answers are Redis hits.
            hits_start = client.info("stats")["keyspace_hits"]
            for _ in range(4):
                status, _page = render_page(f"http://127.0.0.1:{port}", "/")
                assert status == 200
            assert client.info("stats")["keyspace_hits"] > hits_start
            from dashboard import figures
            from dashboard.cache import init_cache
            from dashboard.config import load_settings
            from dashboard.database import make_engine
            from flask import Flask

            assert set(client.keys("sytdash:*")) - before
            assert "Traceback" not in log.read_text()
            engine = make_engine(env["DATABASE_URL"])
            with engine.connect() as conn:
                from sqlalchemy import text

                loads = conn.execute(text("SELECT COUNT(*) FROM data_loads WHERE is_demo")).scalar_one()
            engine.dispose()
            assert loads == 1  # one worker loaded the demo, the other waited and reused it
            # A worker's cached figure is visible to a process that only shares Redis.
            settings = load_settings({"DATABASE_URL": env["DATABASE_URL"], "CACHE_REDIS_URL": REDIS_URL})
            init_cache(Flask(f"probe-{uuid.uuid4().hex}"), settings)
            figures.set_engine(make_engine(env["DATABASE_URL"]))
            try:
                hits_before = client.info("stats")["keyspace_hits"]
                figures.latest_month()  # computed by a worker for the overview
                assert client.info("stats")["keyspace_hits"] > hits_before
            finally:
                figures.set_engine(None)
        finally:
            proc.terminate()
            proc.wait(15)
    for key in set(client.keys("sytdash:*")) - before:
        client.delete(key)


def test_a_redis_outage_falls_through_to_the_database(use_engine, monkeypatch):
    """Redis down (nothing listens on the port): figures are still computed, never an error."""
    from flask import Flask

    from dashboard import cache, figures
    from dashboard.config import load_settings
    from tests.world import load_world

    load_world(use_engine)
    monkeypatch.setattr(cache, "_cache", None)
    cache.init_cache(Flask("redis-down"), load_settings({"CACHE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    table = figures.figures("stockind", "2025-09", "commune").set_index("code")
    assert table.loc["00004", "value"] == pytest.approx(70.0)


def test_the_app_imports_with_its_database_unreachable(tmp_path):
    """No database work at import or boot can fail: `import app` with PostgreSQL nowhere."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "import app; print(type(app.server).__name__)"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "Flask"
    assert time.monotonic() - started < 60


def test_a_bad_setting_stops_gunicorn_once_with_its_message(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAX_REQUEST_BYTES": "lots", "PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--chdir",
                           str(ROOT), "app:server"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "MAX_REQUEST_BYTES" in output and "Biến môi trường" in output
    assert "Booting worker" not in output  # stopped in the master, before any worker
