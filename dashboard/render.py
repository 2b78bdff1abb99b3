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
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "assets" / "fonts" / "ttf"
FONT_FAMILY = "Be Vietnam Pro, Noto Sans, DejaVu Sans, sans-serif"
# plotly's base topology for go.Choropleth maps, served from assets/ (plotly.js would fetch it
# from a CDN otherwise, and offline the image fails with "Error 525 ... world_110m.json").
TOPOJSON_DIR = ROOT / "assets" / "topojson"
RENDER_TIMEOUT = 120.0


class RenderError(RuntimeError):
    """The image could not be rendered (no Chromium, a crash, a time-out). Bilingual message."""


_lock = threading.Lock()
_state: dict = {}


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
            k = kaleido.Kaleido(n=1, timeout=90, mathjax=False)
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


def render(fig, *, width: int = 1920, height: int = 1080, scale: float = 2, fmt: str = "png") -> bytes:
    """The figure as PNG (or PDF/SVG) bytes, width×height CSS pixels at `scale`."""
    spec = fig.to_dict() if hasattr(fig, "to_dict") else fig
    opts = {"format": fmt, "width": width, "height": height, "scale": scale}
    for attempt in (1, 2):
        with _lock:
            if "loop" not in _state:
                _start()
            loop, k = _state["loop"], _state["holder"]["kaleido"]
        topojson = TOPOJSON_DIR.as_uri() + "/" if TOPOJSON_DIR.is_dir() else None
        future = asyncio.run_coroutine_threadsafe(k.calc_fig(spec, opts=opts, topojson=topojson), loop)
        try:
            return future.result(RENDER_TIMEOUT)
        except FutureTimeout:
            future.cancel()
            error: Exception = TimeoutError(f"no image after {RENDER_TIMEOUT:.0f} s")
        except Exception as exc:  # noqa: BLE001 - a crashed browser: restart once
            error = exc
        log.warning("render attempt %d failed: %s", attempt, error)
        with _lock:
            _stop_locked()
    raise RenderError(f"Không xuất được ảnh / the image could not be rendered: {error}")
