"""Memoised queries on flask-caching.

Keys carry the data version (bumped by every write transaction), so a figure computed
before a load is never served after it, in any worker, without flushing anything.
The backend is per process by default (SimpleCache) and Redis when configured, which
lets several gunicorn workers share results.
"""
from __future__ import annotations

import hashlib
import logging
from functools import wraps
from typing import Any, Callable

from flask import Flask
from flask_caching import Cache

from .config import Settings, load_settings

_cache: Cache | None = None
log = logging.getLogger(__name__)


def cache_config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "CACHE_TYPE": settings.cache_type,
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout,
        # SimpleCache/FileSystemCache silently evict past 500 entries by default.
        "CACHE_THRESHOLD": 100_000,
        "CACHE_KEY_PREFIX": "sytdash:",
        # A cache outage must not take the wall screen down: fall through to the database.
        "CACHE_IGNORE_ERRORS": True,
    }
    if settings.cache_type == "RedisCache":
        config["CACHE_REDIS_URL"] = settings.cache_redis_url
    if settings.cache_type == "FileSystemCache":
        config["CACHE_DIR"] = settings.cache_dir or "data/cache"
    return config


def init_cache(server: Flask, settings: Settings) -> Cache:
    global _cache
    _cache = Cache(app=server, config=cache_config(settings))
    return _cache


def backend():
    """The cache backend itself, reached through the app it was built for: flask-caching's
    proxies look in whatever app context is current, which may be another Flask app."""
    cache = get_cache()
    return cache.app.extensions["cache"][cache]


def get_cache() -> Cache:
    """The configured cache; outside the web app (CLI, tests) a private one on a bare Flask app."""
    global _cache
    if _cache is None:
        init_cache(Flask("dashboard"), load_settings())
    return _cache


def clear() -> None:
    backend().clear()


_MISSING = object()


def memoized(version: Callable[[], int], name: str | None = None) -> Callable:
    """Decorator: cache a function's result on (name, arguments, data version).

    Arguments must have a stable ``repr`` (strings, numbers, tuples)."""

    def decorate(fn: Callable) -> Callable:
        key_name = name or f"{fn.__module__}.{fn.__qualname__}"

        @wraps(fn)
        def wrapper(*args, **kwargs):
            raw = f"{key_name}|{version()}|{args!r}|{sorted(kwargs.items())!r}"
            key = hashlib.sha1(raw.encode("utf-8")).hexdigest()
            store = backend()
            try:
                hit = store.get(key)
            except Exception as exc:  # noqa: BLE001 - a cache outage must not take pages down
                log.warning("cache unavailable (%s): computing %s directly", exc.__class__.__name__, key_name)
                return fn(*args, **kwargs)
            if hit is not None:
                return hit[0]
            result = fn(*args, **kwargs)
            try:
                store.set(key, (result,))
            except Exception as exc:  # noqa: BLE001
                log.warning("cache unavailable (%s): %s not stored", exc.__class__.__name__, key_name)
            return result

        wrapper.uncached = fn  # type: ignore[attr-defined]
        return wrapper

    return decorate
