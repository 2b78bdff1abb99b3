"""The web application defends itself: security headers, size limits, 404s, compression,
asset lifetimes, the two probes, and one data-version read per request."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import brotli
import pandas as pd
import pytest
from sqlalchemy import event, text

from dashboard import figures, health, security, store
from dashboard.config import ConfigError, load_settings
from dashboard.periods import add_months
from tests.app_helpers import IOC_ORIGIN, MAX_REQUEST, MAX_UPLOAD, UPLOAD_PROBE, web_app
from tests.browser_helpers import free_port
from tests.fault_helpers import component, router_body, text_of


@pytest.fixture(scope="session")
def web():
    return web_app()


@pytest.fixture
def client(web):
    return web.server.test_client()


def page(client, path: str, search: str = "", **headers):
    return client.post("/_dash-update-component", json=router_body(path, search), headers=headers)


def tree_of(resp):
    return resp.get_json()["response"]["_pages_content"]["children"]


# --- headers ---------------------------------------------------------------------------------

def test_every_kind_of_response_carries_the_security_headers(client, demo_db):
    html = client.get("/").get_data(as_text=True)
    asset = re.search(r'href="(/assets/[^"]+\.css\?m=[^"]+)"', html).group(1)
    answers = {
        "shell": client.get("/"),
        "callback": page(client, "/"),
        "asset": client.get(asset),
        "api": client.get("/api/v1/indicators"),
        "api 404": client.get("/api/v1/nope"),
        "page 404": client.get("/nope"),
        "probe": client.get("/healthz"),
        "download": client.get("/export/data.csv?indicator=hssk"),
        "too large": client.post("/_dash-update-component", data=b"x" * (MAX_REQUEST + 1)),
    }
    for name, resp in answers.items():
        csp = resp.headers.get("Content-Security-Policy", "")
        assert f"frame-ancestors 'self' {IOC_ORIGIN}" in csp, name
        assert "default-src 'self'" in csp and "object-src 'none'" in csp, name
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", name
        assert resp.headers.get("Referrer-Policy") == "same-origin", name
        # An embedding origin is allowed: the legacy header (which cannot say so) is left out.
        assert "X-Frame-Options" not in resp.headers, name


FRESH_WORKER = r"""
import json, sys, tempfile, threading
from pathlib import Path
from dashboard.config import load_settings
from dashboard.webapp import create_app
from tests.fault_helpers import router_body

folder = Path(tempfile.mkdtemp())
settings = load_settings({"DATABASE_URL": f"sqlite:///{folder / 'fresh.db'}", "ANONYMOUS_READ": "true",
                          "SECRET_KEY": "t" * 48})
app = create_app(settings, prepare=False)
server = app.server
answers = []

def first(path):
    resp = server.test_client().post("/_dash-update-component", json=router_body(path))
    answers.append((resp.status_code, sorted((resp.get_json() or {}).get("response", {}))))

# the process's first requests: four threads at once, before anything else was asked
threads = [threading.Thread(target=first, args=(p,)) for p in ("/", "/map", "/targets", "/")]
for th in threads: th.start()
for th in threads: th.join()
body = router_body("/")
body["inputs"] = body["inputs"][:1]  # a missing input: malformed
bad = server.test_client().post("/_dash-update-component", json=body)
print(json.dumps({"first": answers, "bad": [bad.status_code, bad.get_json()]}))
"""


def test_a_fresh_workers_first_request_may_be_a_callback():
    """A restarted worker's first request is often a callback from a screen left open (the wall):
    the envelope check must judge it against the callbacks Dash registers at its first request,
    not against an empty map. Run in a new process, as a gunicorn worker starts."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", FRESH_WORKER], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert [status for status, _ in out["first"]] == [200] * 4, out
    assert all(keys == ["_pages_content", "_pages_store"] for _, keys in out["first"]), out
    status, bad = out["bad"]
    assert status == 400
    assert bad["message"]["vi"].startswith("Yêu cầu cập nhật trang không đúng dạng")
    assert bad["message"]["en"].startswith("Malformed page update request")


def test_the_csp_allows_exactly_the_inline_scripts_dash_writes(client):
    client.get("/")  # Dash Pages adds its inline title script at the first request
    resp = client.get("/map")
    html = resp.get_data(as_text=True)
    csp = dict(part.strip().split(" ", 1) for part in resp.headers["Content-Security-Policy"].split(";"))
    script_src = csp["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    body = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # Dash's IE warning sits in a comment
    inline = [m.group(2) for m in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", body, flags=re.S)
              if "application/json" not in m.group(1)]
    assert inline, "Dash writes at least its renderer inline"
    for script in inline:
        digest = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        assert digest in script_src, script[:80]


def test_frame_ancestors_default_and_bad_values():
    default = load_settings({})
    assert default.frame_ancestors == "'self'"
    headers = security.security_headers(web_app(), default)
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert load_settings({"FRAME_ANCESTORS": "self https://ioc.haiphong.gov.vn:8443"}).frame_ancestors == \
        "'self' https://ioc.haiphong.gov.vn:8443"
    for bad in ("'self'; script-src *", "https://a.vn,https://b.vn", "javascript:alert(1)", "'none' https://a.vn",
                "https://a.vn\r\nX-Evil: 1"):
        with pytest.raises(ConfigError) as info:
            load_settings({"FRAME_ANCESTORS": bad})
        assert "FRAME_ANCESTORS" in str(info.value) and "Biến môi trường" in str(info.value)


@pytest.mark.parametrize("name", ["MAX_REQUEST_BYTES", "MAX_UPLOAD_BYTES"])
def test_size_settings_read_units_and_refuse_nonsense(name):
    field = name.lower()
    assert getattr(load_settings({name: "2M"}), field) == 2 * 1024 * 1024
    assert getattr(load_settings({name: "512K"}), field) == 512 * 1024
    assert getattr(load_settings({name: "3000000"}), field) == 3_000_000
    for bad in ("lots", "1", "-5M", "2 parsecs"):
        with pytest.raises(ConfigError) as info:
            load_settings({name: bad})
        assert name in str(info.value) and " / " in str(info.value)


# --- size limits -------------------------------------------------------------------------------

class CountingStream(io.RawIOBase):
    """A body of `size` bytes that counts how much of it anybody reads (seekable only so the
    test client can measure it)."""

    def __init__(self, size: int):
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer):
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"x" * n
        self.pos += n
        self.read_bytes += n
        return n


def test_a_50_mb_post_is_refused_before_it_is_read(client):
    body = CountingStream(50 * 1024 * 1024)
    resp = client.post("/_dash-update-component", input_stream=body, content_type="application/json")
    assert resp.status_code == 413
    assert body.read_bytes == 0
    message = resp.get_json()["message"]
    assert "quá lớn" in message["vi"] and "too large" in message["en"] and "1 MB" in message["en"]


def chunked(client, path: str, body):
    return client.post(path, input_stream=body, content_type="application/octet-stream",
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})


def test_a_chunked_body_is_refused_past_the_limit_never_truncated(client):
    body = CountingStream(50 * 1024 * 1024)
    assert chunked(client, "/_dash-update-component", body).status_code == 413
    assert body.read_bytes == MAX_REQUEST + 1  # one byte past the limit, not the 50 MB
    body = CountingStream(MAX_UPLOAD + 1)
    assert chunked(client, UPLOAD_PROBE, body).status_code == 413
    small = chunked(client, UPLOAD_PROBE, io.BytesIO(b"u" * 1000))
    assert small.status_code == 200 and small.get_json()["bytes"] == 1000


def test_uploads_have_their_own_limit(client):
    three_mb = b"u" * (3 * 1024 * 1024)
    ok = client.post(UPLOAD_PROBE, data=three_mb, content_type="application/octet-stream")
    assert ok.status_code == 200 and ok.get_json()["bytes"] == len(three_mb)
    assert client.post("/_dash-update-component", data=three_mb, content_type="application/json").status_code == 413
    too_big = client.post(UPLOAD_PROBE, data=b"u" * (MAX_UPLOAD + 1), content_type="application/octet-stream")
    assert too_big.status_code == 413 and "4 MB" in too_big.get_data(as_text=True)


# --- unknown pages and API paths ----------------------------------------------------------------

def test_unknown_pages_are_404_with_a_helpful_translated_page(client, demo_db):
    for path in ("/nope", "/map/extra", "/404", "/export/nothing"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "text/html" in resp.content_type and "_dash-config" in resp.get_data(as_text=True)
    for path in ("/", "/map", "/targets", "/wall", "/unit/31", "/map?lang=en"):
        assert client.get(path).status_code == 200, path
    vi = tree_of(page(client, "/mapp"))
    assert text_of(component(vi, "not-found-title")) == "Không tìm thấy trang"
    assert "/mapp" in text_of(component(vi, "not-found-path"))
    assert component(vi, "not-found-suggestion")["href"] == "/map"
    en = tree_of(page(client, "/nope", "?lang=en"))
    assert text_of(component(en, "not-found-title")) == "Page not found"
    assert component(en, "not-found-pages") is not None


def test_unknown_api_paths_and_methods_answer_json(client, demo_db):
    resp = client.get("/api/v1/nope")
    assert resp.status_code == 404 and resp.is_json
    body = resp.get_json()
    assert "/api/v1/values" in body["message"]["en"] and "Không có địa chỉ API" in body["message"]["vi"]
    resp = client.post("/api/v1/indicators")
    assert resp.status_code == 405 and resp.is_json and resp.headers["Allow"] == "GET"
    assert client.get("/api/v1/").status_code == 404
    assert client.get("/api/v1/indicators").status_code == 200


# --- compression and asset lifetimes ------------------------------------------------------------

def test_callbacks_are_compressed_when_the_browser_asks(client, demo_db):
    plain = page(client, "/map")
    assert "Content-Encoding" not in plain.headers
    raw = plain.get_data()
    br = page(client, "/map", **{"Accept-Encoding": "br, gzip"})
    assert br.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(br.get_data())) == json.loads(raw)
    gz = page(client, "/map", **{"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(gz.get_data())) == json.loads(raw)
    assert len(br.get_data()) < 0.3 * len(raw)
    assert "Accept-Encoding" in br.headers["Vary"]
    # A stored view is compressed once per process, then sent from memory.
    from dashboard import compression

    kept = [k for k, _alg in compression._views if k.startswith(f"view:{figures.version()}:")]
    assert kept
    again = page(client, "/map", **{"Accept-Encoding": "br"})
    assert again.get_data() == br.get_data() and again.headers["Content-Encoding"] == "br"


def compressed(client, url: str, accept: str, wait: float = 20):
    """The answer once the bundle's background compression has finished."""
    deadline = time.monotonic() + wait
    while True:
        resp = client.get(url, headers={"Accept-Encoding": accept})
        if "Content-Encoding" in resp.headers or time.monotonic() > deadline:
            return resp
        time.sleep(0.1)


def test_fingerprinted_files_are_cached_for_a_year_and_compressed_once(client):
    html = client.get("/").get_data(as_text=True)
    suite = re.search(r'src="(/_dash-component-suites/dash/dcc/dash_core_components\.v[^"]+\.js)"', html).group(1)
    first = compressed(client, suite, "br")
    again = client.get(suite, headers={"Accept-Encoding": "br"})
    for resp in (first, again):
        assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "br"
        cc = resp.cache_control
        assert cc.max_age == 365 * 24 * 3600 and cc.immutable and cc.public
    assert first.get_data() == again.get_data()
    asset = re.search(r'href="(/assets/01-bootstrap\.min\.css\?m=[^"]+)"', html).group(1)
    resp = client.get(asset, headers={"Accept-Encoding": "gzip"})
    assert resp.cache_control.max_age == 365 * 24 * 3600 and resp.cache_control.immutable
    assert resp.headers["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(resp.get_data())) > 4 * len(resp.get_data())
    # Without its stamp the same file may change under the same URL: revalidated, not kept.
    bare = client.get("/assets/01-bootstrap.min.css")
    assert not bare.cache_control.immutable and bare.cache_control.max_age != 365 * 24 * 3600


def test_plotly_is_never_held_back_while_it_is_compressed(client):
    """4.8 MB of plotly.min.js: the first visitor gets it at once, uncompressed; once the
    background compression is done, everybody gets brotli."""
    from dashboard import compression

    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    raw = client.get(url).get_data()
    assert len(raw) > compression.COMPRESS_NOW_BYTES
    first = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert first.status_code == 200
    later = compressed(client, url, "gzip, deflate, br, zstd")
    assert brotli.decompress(later.get_data()) == raw and len(later.get_data()) < 0.35 * len(raw)
    if "Content-Encoding" not in first.headers:  # it was sent at once, in full
        assert first.get_data() == raw


@pytest.mark.parametrize("header,expected", [
    ("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0.5, gzip", "gzip"), ("identity", None),
    ("*", "br"), ("br;q=0, *;q=0.1", "gzip"), ("", None), ("gzip;q=nonsense", None),
])
def test_the_encoding_follows_the_browsers_preferences(header, expected):
    from dashboard import compression

    assert compression.choose(header) == expected


# --- one data-version read per request ---------------------------------------------------------

def _count_version_reads(engine):
    seen = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_the_data_version_is_read_once_per_request(client, demo_db):
    seen, stop = _count_version_reads(demo_db)
    try:
        for _cold_then_warm in range(2):
            seen.clear()
            assert page(client, "/map").status_code == 200
            statements = list(seen)
            assert sum("data_version" in s for s in statements) == 1, statements
        # Warm: the one version read is all the database sees.
        assert len(statements) == 1
        seen.clear()
        assert page(client, "/").status_code == 200
        assert sum("data_version" in s for s in seen) == 1
    finally:
        stop()


def test_outside_a_request_every_read_sees_the_latest_write(use_engine):
    from tests.world import load_world

    load_world(use_engine)
    seen, stop = _count_version_reads(use_engine)
    try:
        before = figures.latest_month()
        figures.latest_month()
        assert sum("data_version" in s for s in seen) == 2  # no per-process memo outside a request
        later = add_months(before, 1)
        with store.write_transaction(use_engine) as conn:  # a load as the product writes one
            load_id = store.record_load(conn, kind="values", source_file="later.csv", checksum="later")
            store.upsert_values(conn, pd.DataFrame([("stockind", "00004", later, 1.0, 2.0)],
                                                   columns=["indicator", "entity_code", "period", "numerator",
                                                            "denominator"]), load_id)
        assert figures.latest_month() == later
    finally:
        stop()


def test_a_write_during_a_request_is_seen_by_its_later_reads(web, use_engine):
    from tests.world import load_world

    load_world(use_engine)
    with web.server.test_request_context("/"):
        first = figures.version()
        assert figures.version() == first
        with store.write_transaction(use_engine) as conn:
            conn.execute(text("DELETE FROM kpi_values WHERE period = '2025-09'"))
        assert figures.version() == first + 1


# --- probes -------------------------------------------------------------------------------------

def test_healthz_needs_no_database_and_readyz_says_what_is_missing(client, monkeypatch):
    from dashboard.database import make_engine

    nowhere = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
                          connect_args={"connect_timeout": 2})
    monkeypatch.setattr(figures, "_engine", nowhere)
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.get_json()["status"] == "alive"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0
    checks = ready.get_json()["checks"]
    assert checks["database"]["ok"] is False and checks["migrations"]["ok"] is False
    assert checks["first_start"]["ok"] is True  # nothing was started in this process


def test_readyz_takes_further_checks(client, demo_db, monkeypatch):
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr(health, "READINESS_CHECKS", [])
    health.readiness_check("aggregates")(lambda: (False, "stale since 2026-10"))
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["aggregates"] == {"ok": False, "detail": "stale since 2026-10"}
