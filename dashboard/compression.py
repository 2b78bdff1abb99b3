"""Compressed responses: brotli or gzip, whichever the browser prefers.

* Pages, callbacks (JSON), the API and files under ``assets/``: flask-compress, compressed
  as they are sent (a 290 KB map callback becomes about 60 KB).
* Dash's component bundles (``/_dash-component-suites/…``: plotly.min.js alone is 4.8 MB)
  never change for a given URL, so each is compressed once per process and kept. A large
  one is compressed in a background thread while the first requests get it uncompressed:
  brotli on plotly.min.js costs about a second of CPU, which no visitor (and no wall screen
  loading after a worker restart) should wait for.
"""
from __future__ import annotations

import gzip
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import brotli
from flask import Flask, Response, request

log = logging.getLogger(__name__)

MIMETYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
             "application/x-javascript", "application/json", "image/svg+xml", "font/ttf"]
ALGORITHMS = ("br", "gzip")
#: Dash's bundles: immutable per URL, served from memory, not as file streams.
BUNDLE_ENDPOINT = "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"
GEO_ENDPOINT = "geo_layer"  # dashboard.geoserve.ENDPOINT (not imported: this module is imported first)
#: Bundles up to this size are compressed on the spot; larger ones in the background.
COMPRESS_NOW_BYTES = 256 * 1024
MIN_BYTES = 1024

_kept: dict[tuple[str, str], bytes] = {}
#: What is kept compressed is bounded: bundles are a fixed few, but boundary layers (``/geo/``)
#: are one per parent and version. Past this, everything is dropped and compressed again.
MAX_KEPT_BYTES = 96 * 1024 * 1024
_pending: set[tuple[str, str]] = set()
_lock = threading.Lock()
_pool: dict = {}


def choose(accept_encoding: str, offered=ALGORITHMS) -> str | None:
    """The algorithm to use for an Accept-Encoding header: the client's preference by q-value,
    ours (brotli first) among equals; None when it accepts neither."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip().lower()] = q
    scored = [(weights.get(a, weights.get("*", 0.0)), -i, a) for i, a in enumerate(offered)]
    best = max(scored)
    return best[2] if best[0] > 0 else None


def compress(data: bytes, algorithm: str) -> bytes:
    if algorithm == "br":
        return brotli.compress(data, quality=5, lgwin=22)
    return gzip.compress(data, compresslevel=6)


def _executor() -> ThreadPoolExecutor:
    """One background compressor per process (a forked worker makes its own)."""
    if _pool.get("pid") != os.getpid():
        _pool.update(pid=os.getpid(), executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="compress"))
    return _pool["executor"]


#: Finished views (``viewcache``) compressed once per process: a warm drill-down sends stored
#: bytes, and compressing a national commune page (400 KB) on every ask cost more than the rest
#: of the answer. Keyed on the view's cache key (which holds the data version), bounded.
_views: "OrderedDict[tuple[str, str], bytes]" = OrderedDict()
MAX_VIEW_BYTES = 32 * 1024 * 1024


def compressed_view(key: str, data: bytes, algorithm: str) -> bytes:
    """`data` (the bytes stored under `key`) compressed with `algorithm`, once per process."""
    found = _views.get((key, algorithm))
    if found is not None:
        _views.move_to_end((key, algorithm))
        return found
    body = compress(data, algorithm)
    with _lock:
        _views[(key, algorithm)] = body
        total = sum(map(len, _views.values()))
        while total > MAX_VIEW_BYTES and len(_views) > 1:
            total -= len(_views.popitem(last=False)[1])
    return body


def view_response(key: str | None, data: bytes) -> Response:
    """A stored view as a response, compressed for this request's Accept-Encoding (from memory
    when `key` names the bytes; None: bytes that are not the key's own, compressed afresh)."""
    response = Response(data, content_type="application/json")
    _vary(response)
    algorithm = choose(request.headers.get("Accept-Encoding", ""))
    if algorithm is None or len(data) < MIN_BYTES:
        return response
    response.set_data(compressed_view(key, data, algorithm) if key else compress(data, algorithm))
    response.headers["Content-Encoding"] = algorithm
    return response


def _keep(key: tuple[str, str], body: bytes) -> None:
    """Remember `body` under `key` (the caller holds ``_lock``)."""
    if sum(map(len, _kept.values())) + len(body) > MAX_KEPT_BYTES:
        _kept.clear()
    _kept[key] = body


def _compress_later(key: tuple[str, str], data: bytes) -> None:
    with _lock:
        if key in _pending or key in _kept:
            return
        _pending.add(key)

    def work() -> None:
        try:
            body = compress(data, key[0])
            with _lock:
                _keep(key, body)
        except Exception:  # noqa: BLE001 - the bundle is simply sent uncompressed
            log.warning("could not compress %s", key[1], exc_info=True)
        finally:
            with _lock:
                _pending.discard(key)

    _executor().submit(work)


def _vary(response: Response) -> None:
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


def compress_bundle(response: Response) -> Response:
    """A component bundle: from memory when already compressed, else now or in the background."""
    _vary(response)
    if (response.status_code != 200 or response.is_streamed or "Content-Encoding" in response.headers
            or response.mimetype not in MIMETYPES):
        return response
    algorithm = choose(request.headers.get("Accept-Encoding", ""))
    if algorithm is None:
        return response
    key = (algorithm, request.full_path)
    body = _kept.get(key)
    if body is None:
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        if len(data) > COMPRESS_NOW_BYTES:
            _compress_later(key, data)
            return response
        body = compress(data, algorithm)
        with _lock:
            _keep(key, body)
    response.set_data(body)
    response.headers["Content-Encoding"] = algorithm
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(f"{etag}:{algorithm}")
    return response


def enable(server: Flask) -> None:
    from flask_compress import Compress

    server.config.update(
        COMPRESS_REGISTER=False,  # registered below, beside the bundles' own path
        COMPRESS_ALGORITHM=list(ALGORITHMS),
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=MIN_BYTES,
        COMPRESS_MIMETYPES=MIMETYPES,
        # Files under assets/ are sent as file streams: compressed chunk by chunk (they are small).
        COMPRESS_STREAMS=True,
        COMPRESS_ALGORITHM_STREAMING=list(ALGORITHMS),
        COMPRESS_STREAMING_ENDPOINT_CONDITIONAL=["_dash_assets.static"],
    )
    compressor = Compress(server)

    @server.after_request
    def _compress(response: Response) -> Response:
        if request.endpoint == BUNDLE_ENDPOINT:
            return compress_bundle(response)
        if request.endpoint == GEO_ENDPOINT and "immutable" in (response.headers.get("Cache-Control") or ""):
            return compress_bundle(response)  # a layer of the current boundary version: same bytes for all
        return compressor.after_request(response)
