"""Tools for fault tests that never touch the machine's shared servers.

* :class:`TcpProxy` sits between the app and PostgreSQL; the test cuts it (every open
  connection is closed, new ones are closed as soon as they arrive, as when a database
  server restarts or a network link drops) and restores it.
* :class:`PrivateRedis` is a ``redis-server`` of the test's own on a free port, which the
  test may kill and start again on the same port.
* :class:`Gunicorn` runs ``gunicorn -c gunicorn.conf.py app:server`` in a subprocess.
* :func:`render_page` asks a running app for a page the way the browser does (Dash Pages'
  router callback), and :func:`component` finds a component in the answer by id.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


class TcpProxy:
    """127.0.0.1:<port> -> target, in threads of the test process."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.cut_off = False
        self.closed = False
        self.accepted = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.cut_off:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.closed:
                readable, _, _ = select.select([a, b], [], [], 0.5)
                for src in readable:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._sockets.discard(a)
                self._sockets.discard(b)
            _close(a)
            _close(b)

    def cut(self) -> None:
        """The database goes away: open connections are closed, new ones refused at once."""
        self.cut_off = True
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for s in sockets:
            _close(s)

    def restore(self) -> None:
        self.cut_off = False

    def close(self) -> None:
        self.closed = True
        self.cut()
        _close(self.listener)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def redis_server_or_skip() -> str:
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    return path


class PrivateRedis:
    """A redis-server of the test's own, no persistence."""

    def __init__(self, workdir: Path):
        self.binary = redis_server_or_skip()
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py app:server` with `workers` workers, in `workdir`."""

    def __init__(self, workdir: Path, env_extra: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "gunicorn.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "WEB_CONCURRENCY": str(workers),
               "GUNICORN_THREADS": "2", "HOST": "127.0.0.1", "PORT": str(self.port)}
        env.pop("CACHE_REDIS_URL", None)
        # The production shape: a real secret, the demo loaded on first start, and anonymous reading
        # on (a wall screen without a token), so what is tested is the outage, not the sign-in.
        env.update({"SECRET_KEY": "fault-tests-" + "k" * 40, "LOAD_DEMO": "true", "ANONYMOUS_READ": "true"})
        env.update(env_extra)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                                      "--chdir", str(ROOT), "app:server"], cwd=workdir, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def worker_pids(self) -> set[int]:
        """The master's children, from /proc (no psutil needed)."""
        out = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                out.add(int(entry.name))
        return out

    def wait_workers(self, n: int, exclude: set[int] = frozenset(), timeout: float = 90) -> set[int]:
        """Wait until `n` workers not in `exclude` answer /healthz; their pids."""
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("gunicorn exited:\n" + self.log()[-4000:])
            try:
                status, body, _ = get(self.url + "/healthz", timeout=5)
                if status == 200:
                    pid = json.loads(body)["pid"]
                    if pid not in exclude:
                        seen.add(pid)
            except OSError:
                time.sleep(0.2)
            if len(seen & self.worker_pids()) >= n:
                return seen & self.worker_pids()
        raise RuntimeError(f"{n} workers did not answer; saw {seen}:\n" + self.log()[-4000:])

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def get(url: str, timeout: float = 30, headers: dict | None = None) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace"), dict(err.headers)
    except OSError as err:  # not listening (yet), reset: no HTTP answer at all
        return 0, str(err), {}


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout} s (last: {last!r})")


def post_oversized(base_url: str, declared: int, sent: int, timeout: float = 20) -> tuple[int, float]:
    """Start a POST declaring `declared` bytes, send only `sent` of them, and wait for the
    answer: (status, seconds). A server that reads the whole body first never answers."""
    import time as _time
    from urllib.parse import urlparse

    parsed = urlparse(base_url)
    started = _time.monotonic()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout) as sock:
        sock.sendall((f"POST /_dash-update-component HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n").encode())
        try:
            sock.sendall(b"x" * sent)
        except OSError:
            pass  # the server may close early: its answer is still there to read
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, _time.monotonic() - started


# --- pages as the browser gets them --------------------------------------------------------

ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."


def router_body(path: str, search: str = "") -> dict:
    return {"output": ROUTER_OUTPUT,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def render_page(base_url: str, path: str, search: str = "", timeout: float = 60) -> tuple[int, dict | str]:
    """POST the router callback of Dash Pages: (status, the page's component tree or the text)."""
    data = json.dumps(router_body(path, search)).encode()
    req = urllib.request.Request(base_url + "/_dash-update-component", data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())["response"]["_pages_content"]["children"]
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def component(tree, component_id: str) -> dict | None:
    """The props of the component with id `component_id` anywhere in a Dash layout tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if props.get("id") == component_id:
                    return props
                stack.append(props.get("children"))
                stack.extend(v for v in props.values() if isinstance(v, (dict, list)))
    return None


def text_of(tree) -> str:
    """Every string in a layout tree, joined (for "does the page say …")."""
    out: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            props = node.get("props", node)  # a component, or the props component() returns
            if isinstance(props, dict):
                stack.append(props.get("children"))
    return " ".join(out)
