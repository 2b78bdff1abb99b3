"""Server-side PNG/PDF rendering of plotly figures with kaleido 1.x and Debian's Chromium.

One Chromium is started on first use and reused (about 0.2 s per image instead of 3 s).
It runs in a background thread with its own asyncio loop; callers from any thread
(Flask's request threads, the briefing command) submit a figure and wait with a timeout,
so a hung browser never hangs a request forever: the renderer is then restarted.

Fonts: the page kaleido renders in has no web fonts, so Chromium must find the font in
the system. We ship Be Vietnam Pro as TTF in ``assets/fonts/ttf`` (full Vietnamese
diacritics, SIL OFL) and point fontconfig at it through ``FONTCONFIG_FILE`` for the
Chromium process, keeping the system's configuration (Noto, DejaVu) as fallback.
Nothing is downloaded: MathJax (a CDN script by default) is switched off.

A bounded queue in front of the browser: one image renders at a time (kaleido's single
tab; concurrent calls into one kaleido session failed under load), at most ``RENDER_QUEUE``
requests of this process are admitted (rendering or waiting), each waits at most
``RENDER_TIMEOUT`` seconds for its turn and renders in at most as long. Past the queue, or
after the wait, :class:`RenderBusy` says when to come back (the export routes answer 503
with ``Retry-After``). A browser that crashed is restarted and the image tried once more;
one that hangs is killed at the time limit and restarted for the next request.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import tempfile
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "assets" / "fonts" / "ttf"
FONT_FAMILY = "Be Vietnam Pro, Noto Sans, DejaVu Sans, sans-serif"
# plotly's base topology for go.Choropleth maps, served from assets/ (plotly.js would fetch it
# from a CDN otherwise, and offline the image fails with "Error 525 ... world_110m.json").
TOPOJSON_DIR = ROOT / "assets" / "topojson"
RENDER_TIMEOUT = 45.0
RENDER_QUEUE = 16


class RenderError(RuntimeError):
    """The image could not be rendered (no Chromium, a crash, a time-out). Bilingual message."""


class RenderBusy(RenderError):
    """Too many images asked for at once: come back in `retry_after` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"Máy chủ đang bận xuất ảnh, vui lòng thử lại sau {retry_after} giây / "
                         f"the server is busy rendering images, please try again in {retry_after} s")


_lock = threading.Lock()  # starting and stopping the browser
_turn = threading.Lock()  # one image at a time
_state: dict = {}
_queue = {"admitted": 0, "limit": RENDER_QUEUE, "timeout": RENDER_TIMEOUT, "seconds_per_image": 1.0}
_queue_lock = threading.Lock()


def configure(queue: int | None = None, timeout: float | None = None) -> None:
    """Queue length and time limit (the web app passes RENDER_QUEUE and RENDER_TIMEOUT)."""
    with _queue_lock:
        if queue is not None:
            _queue["limit"] = int(queue)
        if timeout is not None:
            _queue["timeout"] = float(timeout)


def queue_status() -> dict:
    with _queue_lock:
        return dict(_queue)


def _retry_after(waiting: int) -> int:
    """Seconds until a slot is likely free: the images ahead at the recent pace."""
    return int(min(120, max(2, math.ceil(waiting * _queue["seconds_per_image"]))))


def _busy(waiting: int) -> RenderBusy:
    busy = RenderBusy(_retry_after(waiting))
    try:  # let the HTTP answer carry the same delay as the message
        from flask import g, has_request_context

        if has_request_context():
            g.retry_after = busy.retry_after
    except ImportError:  # pragma: no cover - Flask is a dependency
        pass
    return busy


def fontconfig_file() -> Path:
    """A fontconfig file that adds the shipped fonts to the system's (written once per process)."""
    if "fontconfig" in _state:
        return _state["fontconfig"]
    folder = Path(tempfile.mkdtemp(prefix="sytdash-fonts-"))
    (folder / "cache").mkdir()
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{FONT_DIR}</dir>\n"
        f"  <cachedir>{folder / 'cache'}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    _state["fontconfig"] = conf
    return conf


def _start() -> None:
    import kaleido

    # Chromium inherits the environment: our fonts first, the system's after.
    os.environ["FONTCONFIG_FILE"] = str(fontconfig_file())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    async def main():
        try:
            k = kaleido.Kaleido(n=1, timeout=_queue["timeout"], mathjax=False)
            await k.open()
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            holder["error"] = exc
            ready.set()
            return
        holder["kaleido"] = k
        holder["stop"] = asyncio.Event()
        ready.set()
        await holder["stop"].wait()
        try:
            await k.close()
        except Exception:  # noqa: BLE001
            log.warning("kaleido close failed", exc_info=True)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True,
                              name="kaleido-renderer")
    thread.start()
    if not ready.wait(60) or "error" in holder:
        exc = holder.get("error")
        raise RenderError("Không khởi động được trình duyệt để xuất ảnh (cần Chromium) / "
                          f"could not start the browser that renders images (Chromium needed): {exc}")
    _state.update(loop=loop, thread=thread, holder=holder)
    if not _state.get("atexit"):
        import atexit

        atexit.register(stop)  # close Chromium with the process
        _state["atexit"] = True


def stop() -> None:
    """Close the shared browser (the briefing command calls this when done)."""
    with _lock:
        _stop_locked()


def _stop_locked() -> None:
    loop = _state.pop("loop", None)
    holder = _state.pop("holder", None)
    thread = _state.pop("thread", None)
    if loop is None or holder is None:
        return
    try:
        loop.call_soon_threadsafe(holder["stop"].set)
        if thread is not None:
            thread.join(15)
    except Exception:  # noqa: BLE001
        log.warning("kaleido stop failed", exc_info=True)
    # A hung browser may not close when asked: never leave it running behind us.
    proc = getattr(holder.get("kaleido"), "subprocess", None)
    if proc is not None and proc.poll() is None:
        log.warning("browser did not close; killing pid %s", proc.pid)
        proc.kill()


def browser_pid() -> int | None:
    """The process id of the shared Chromium, None when none is running (tests crash it)."""
    holder = _state.get("holder") or {}
    proc = getattr(holder.get("kaleido"), "subprocess", None)
    return proc.pid if proc is not None and proc.poll() is None else None


def render(fig, *, width: int = 1920, height: int = 1080, scale: float = 2, fmt: str = "png") -> bytes:
    """The figure as PNG (or PDF/SVG) bytes, width×height CSS pixels at `scale`, through the
    bounded queue. Raises RenderBusy when the queue is full or the turn does not come in time,
    RenderError when the browser cannot produce the image."""
    spec = fig.to_dict() if hasattr(fig, "to_dict") else fig
    opts = {"format": fmt, "width": width, "height": height, "scale": scale}
    with _queue_lock:
        if _queue["admitted"] >= _queue["limit"]:
            waiting = _queue["admitted"]
            log.warning("render queue full (%d): refusing an image", waiting)
            raise _busy(waiting)
        _queue["admitted"] += 1
        timeout = _queue["timeout"]
    try:
        if not _turn.acquire(timeout=timeout):
            raise _busy(queue_status()["admitted"])
        try:
            started = time.monotonic()
            body = _render_now(spec, opts, timeout)
            with _queue_lock:  # the pace behind Retry-After
                _queue["seconds_per_image"] = 0.7 * _queue["seconds_per_image"] + 0.3 * (time.monotonic() - started)
            return body
        finally:
            _turn.release()
    finally:
        with _queue_lock:
            _queue["admitted"] -= 1


def _render_now(spec: dict, opts: dict, timeout: float) -> bytes:
    error: Exception | None = None
    for attempt in (1, 2):
        with _lock:
            if "loop" not in _state:
                _start()
            loop, k = _state["loop"], _state["holder"]["kaleido"]
        topojson = TOPOJSON_DIR.as_uri() + "/" if TOPOJSON_DIR.is_dir() else None
        future = asyncio.run_coroutine_threadsafe(k.calc_fig(spec, opts=opts, topojson=topojson), loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            log.warning("render took over %.0f s: restarting the browser", timeout)
            with _lock:
                _stop_locked()
            # A figure that hangs the browser would hang it again: no second attempt.
            raise RenderError(f"Xuất ảnh quá {timeout:.0f} giây / the image took over {timeout:.0f} s "
                              "to render") from None
        except Exception as exc:  # noqa: BLE001 - a crashed browser: restart once
            error = exc
        log.warning("render attempt %d failed: %s", attempt, error)
        with _lock:
            _stop_locked()
    raise RenderError(f"Không xuất được ảnh / the image could not be rendered: {error}")
