"""PNG/PDF rendering through a bounded queue: concurrent exports all succeed, past the queue
a clear 503 with Retry-After, a time limit, and a crashed Chromium replaced."""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import plotly.graph_objects as go
import pytest

from dashboard import render
from tests.app_helpers import web_app

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def chromium_or_skip():
    if shutil.which("chromium") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Chromium is not installed")
        pytest.skip("Chromium is not installed")


@pytest.fixture
def queue_settings():
    before = render.queue_status()
    yield
    render.configure(queue=before["limit"], timeout=before["timeout"])


def small_figure(n: int = 0) -> go.Figure:
    return go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 2, 3 + n]))


def render_concurrently(n: int, **kwargs) -> list[object]:
    results: list[object] = [None] * n

    def one(i: int) -> None:
        try:
            results[i] = render.render(small_figure(i), **kwargs)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def test_eight_concurrent_images_all_render(queue_settings):
    results = render_concurrently(8, width=1920, height=1080, scale=2)
    assert all(isinstance(r, bytes) and r.startswith(PNG) for r in results), results


def test_past_the_queue_a_clear_refusal_with_a_delay(queue_settings):
    render.render(small_figure())  # a warm browser: the refusals below are about the queue only
    render.configure(queue=2)
    results = render_concurrently(6, width=1920, height=1080, scale=2)
    done = [r for r in results if isinstance(r, bytes)]
    busy = [r for r in results if isinstance(r, render.RenderBusy)]
    assert len(done) >= 2 and len(busy) >= 1 and len(done) + len(busy) == 6, results
    for refusal in busy:
        assert 2 <= refusal.retry_after <= 120
        assert "thử lại sau" in str(refusal) and "try again" in str(refusal)


def test_the_time_limit_stops_a_render_and_the_next_one_works(queue_settings):
    render.render(small_figure())
    render.configure(timeout=0.01)
    with pytest.raises(render.RenderError) as info:
        render.render(small_figure(), width=1920, height=1080, scale=2)
    assert "took over" in str(info.value)
    assert render.browser_pid() is None  # the browser was killed with the render
    render.configure(timeout=45)
    assert render.render(small_figure()).startswith(PNG)


def test_a_crashed_chromium_is_replaced(queue_settings):
    render.render(small_figure())
    pid = render.browser_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    assert render.render(small_figure()).startswith(PNG)
    assert render.browser_pid() not in (None, pid)


@pytest.mark.parametrize("demo_engine", ["sqlite"], indirect=True)
def test_the_export_route_answers_503_with_retry_after_when_full(demo_db, queue_settings, monkeypatch):
    client = web_app().server.test_client()
    url = "/export/chart.png?indicator=hssk&unit=31&period=2026-10"
    ok = client.get(url)
    assert ok.status_code == 200 and ok.data.startswith(PNG)
    render.configure(queue=1)
    monkeypatch.setitem(render._queue, "admitted", 1)  # someone else's image is in the only slot
    busy = client.get(url)
    assert busy.status_code == 503
    assert 2 <= int(busy.headers["Retry-After"]) <= 120
    text = busy.get_data(as_text=True)
    assert "thử lại sau" in text and "try again" in text
