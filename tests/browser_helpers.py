"""A real server and a real browser for end-to-end tests.

`live_server` starts ``python app.py`` in a subprocess on a free port with its own SQLite
file (the first start creates it and loads the demo, as a user's would). `browser` is
Debian's Chromium driven by Playwright; `page` records console and page errors, and the
test fails if any appear.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, workdir: Path, env_extra: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = workdir / "dashboard.db"
        self.log_path = workdir / "server.log"
        env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1",
               "DATABASE_URL": f"sqlite:///{self.db_path}", "PYTHONUNBUFFERED": "1",
               # a configured DATABASE_URL no longer loads the demo by default: ask for it
               "LOAD_DEMO": "true"}
        env.pop("CACHE_REDIS_URL", None)
        env.update(env_extra or {})
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=workdir, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                # Ready, not just listening: the first start (schema, demo) runs in the background.
                with urllib.request.urlopen(self.url + "/readyz", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server did not start in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ErrorLog(list):
    def assert_clean(self):
        assert not self, "browser console errors:\n" + "\n".join(self)


@pytest.fixture
def page(browser):
    # Playwright evaluates string predicates (wait_for_function) with eval, which the app's CSP
    # forbids: the harness bypasses it. tests/test_platform_browser.py checks the CSP itself.
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN", bypass_csp=True)
    pg = context.new_page()
    errors = ErrorLog()
    pg.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.errors = errors
    yield pg
    context.close()
    errors.assert_clean()
