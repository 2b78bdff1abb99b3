"""Memoised queries on flask-caching, and the last good figures during an outage.

Keys carry the data version (bumped by every write transaction), so a figure computed
before a load is never served after it, in any worker, without flushing anything.
The backend is per process by default (SimpleCache) and Redis when configured, which
lets several gunicorn workers share results.

The data version is read **once per Flask request** (kept on ``flask.g``) and reused by
every memoised read of that request; a commit made during the request forgets it, so a
request that writes then reads sees its own write. Outside a request (the CLI, tests,
background threads) it is read at every call, so a write is seen at once.

Outages, inside a request only (the CLI and the tests see database errors as they happen):

* **Database unreachable.** The version read falls back to the last version known good
  (this process's memory, or the shared cache for a worker started during the outage) and
  memoised reads answer from the cache: first the entries of that version, then each read's
  own last good result ("lg:" entries, kept longer than normal entries and rewritten every
  time the read is computed). The request is marked degraded with the time those figures
  were last known current; pages show the banner from it. Nothing computed during a degraded
  request is stored, so no mixture of old and new figures is ever cached as current. A read
  with nothing to fall back on raises :class:`DataUnavailable`.
* **Strict requests** (the API and downloads: a file or a machine has no banner) never fall
  back: they raise :class:`DataUnavailable`, answered 503 with ``Retry-After``.
* **Circuit breakers.** After a failure the database (per URL) and the cache backend are left
  alone for a moment (1 s, doubling to 8 s), so an outage costs a request at most one quick
  refusal instead of one connection time-out per memoised read.
* **Cache backend down** (Redis): reads go to the database directly; one warning per breaker
  opening, not one per call.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Flask, g, has_request_context
from flask_caching import Cache
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

from .config import Settings, load_settings

_cache: Cache | None = None
log = logging.getLogger(__name__)

#: What counts as "the database is not there" (connection refused or lost, pool exhausted,
#: schema gone). Programming errors in our own code are not among them... except that a
#: missing table is a ProgrammingError too, which is also what a fresh database looks like.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError,
                                                    sa_exc.DisconnectionError)
#: Seconds a client is asked to wait before trying again (503 answers).
RETRY_AFTER = 10
#: Last good results outlive normal entries (CACHE_TIMEOUT): an outage may start long after a
#: figure was last computed, since a warm figure is read from the cache without being rewritten.
LAST_GOOD_TIMEOUT = 30 * 24 * 3600
#: How often a worker republishes "version V was current at T" in the shared cache.
_PUBLISH_EVERY = 30.0


class DataUnavailable(RuntimeError):
    """No figures can be served now: the database is unreachable and nothing good is cached,
    or the request must not be answered from a fallback."""

    def __init__(self, detail: str = ""):
        message = ("Cơ sở dữ liệu tạm thời không truy cập được, vui lòng thử lại sau / "
                   "the database is temporarily unavailable, please try again shortly")
        super().__init__(message + (f" ({detail})" if detail else ""))


# --- configuration ------------------------------------------------------------------------

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
        # A Redis that stops answering must cost milliseconds, not the kernel's TCP time-out,
        # nor redis-py's own retries with back-off (seconds per call): our breaker retries.
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        config["CACHE_OPTIONS"] = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0,
                                   "retry": Retry(NoBackoff(), 0)}
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
    """Empty the cache and forget what this process knew (tests, after a restore)."""
    try:
        backend().clear()
    except Exception as exc:  # noqa: BLE001 - a cache that is down holds nothing to clear
        log.warning("cache not cleared (%s)", exc.__class__.__name__)
    _confirmed.clear()
    _published.clear()
    _db_breakers.clear()
    _cache_breaker.reset()
    for fn in _clearers:
        fn()


_clearers: list = []


def on_clear(fn) -> None:
    """Also run `fn` when the cache is cleared (process-local memos kept beside it)."""
    _clearers.append(fn)


# --- circuit breakers ---------------------------------------------------------------------

class Breaker:
    """After a failure, leave a resource alone for a while (doubling up to `cap` seconds);
    the first success closes it."""

    def __init__(self, first: float = 1.0, cap: float = 8.0):
        self.first, self.cap = first, cap
        self.failures = 0
        self.until = 0.0

    def is_open(self) -> bool:
        return self.failures > 0 and time.monotonic() < self.until

    def trip(self) -> bool:
        """Record a failure; True when this opens the breaker (worth one log line)."""
        newly = self.failures == 0
        self.failures += 1
        self.until = time.monotonic() + min(self.cap, self.first * 2 ** (self.failures - 1))
        return newly

    def reset(self) -> None:
        if self.failures:
            log.info("connection restored after %d failed attempt(s)", self.failures)
        self.failures = 0
        self.until = 0.0


_db_breakers: dict[str, Breaker] = {}
_cache_breaker = Breaker()


def _db_breaker(source: str) -> Breaker:
    return _db_breakers.setdefault(source, Breaker())


def _cache_failed(exc: BaseException, what: str) -> None:
    if _cache_breaker.trip():
        log.warning("cache unavailable (%s: %s): %s; reading the database directly for now",
                    exc.__class__.__name__, str(exc).splitlines()[0] if str(exc) else "", what)


def _get(key: str):
    if _cache_breaker.is_open():
        return None
    try:
        hit = backend().get(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not take pages down
        _cache_failed(exc, "not read")
        return None
    if _cache_breaker.failures:
        _cache_breaker.reset()
    return hit


def _set(key: str, value, timeout: int | None = None) -> None:
    if _cache_breaker.is_open():
        return
    try:
        backend().set(key, value, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        _cache_failed(exc, "not stored")


# --- the request's view: version, strictness, outage --------------------------------------

@dataclass
class Outage:
    """What one request could not get fresh. `as_of` is the (epoch) time the oldest figure it
    served was last known current; `served` says it showed some figures from the fallback,
    `missing` that some had nothing to fall back on."""
    as_of: float | None = None
    served: bool = False
    missing: bool = False


@dataclass
class _RequestState:
    versions: dict[str, int] = field(default_factory=dict)
    fallback: dict[int, float] = field(default_factory=dict)  # version -> last confirmed time
    strict: bool = False
    outage: Outage | None = None

    def degrade(self, as_of: float | None = None) -> None:
        if self.outage is None:
            self.outage = Outage()
        self.served_at(as_of, served=False)

    def served_at(self, as_of: float | None, served: bool = True) -> None:
        out = self.outage or Outage()
        if as_of is not None:
            out.as_of = as_of if out.as_of is None else min(out.as_of, as_of)
        out.served = out.served or served
        self.outage = out


def _state() -> _RequestState | None:
    if not has_request_context():
        return None
    state = g.get("_sytdash_cache")
    if state is None:
        state = _RequestState()
        g._sytdash_cache = state
    return state


def strict_request() -> None:
    """This request must never be answered from last-good figures (API, downloads)."""
    state = _state()
    if state is not None:
        state.strict = True


def strict() -> bool:
    """Is the current request one that must never be answered from last-good figures?"""
    state = _state()
    return bool(state is not None and state.strict)


def outage() -> Outage | None:
    """The current request's outage, None when everything it read was fresh."""
    state = _state()
    return state.outage if state is not None else None


@event.listens_for(Engine, "commit")
def _forget_request_version(_conn) -> None:
    """A write committed during a request: its next read must see the new version."""
    if has_request_context():
        state = g.get("_sytdash_cache")
        if state is not None:
            state.versions.clear()


# --- the data version ---------------------------------------------------------------------

# source -> (version, time it was last read from the database), in this process
_confirmed: dict[str, tuple[int, float]] = {}
_published: dict[str, tuple[int, float]] = {}
_publish_lock = threading.Lock()


def _version_key(source: str) -> str:
    return "lastgood-version:" + hashlib.sha1(source.encode("utf-8")).hexdigest()


def _remember(source: str, version: int) -> None:
    now = time.time()
    _confirmed[source] = (version, now)
    last = _published.get(source)
    if last is None or last[0] != version or now - last[1] >= _PUBLISH_EVERY:
        with _publish_lock:
            _published[source] = (version, now)
        _set(_version_key(source), (version, now), timeout=LAST_GOOD_TIMEOUT)


def last_good_version(source: str) -> tuple[int, float] | None:
    """(version, time it was last known current): this process's, or the shared cache's when
    newer (another worker saw a later load, or this worker started during the outage)."""
    known = [v for v in (_confirmed.get(source), _get(_version_key(source))) if v]
    return max(known) if known else None


def current_version(source: str, read: Callable[[], int]) -> int:
    """The data version of database `source` for this request, read by `read()` at most once
    per request; see the module's docstring for what happens when the database is down."""
    state = _state()
    if state is None:
        version = read()
        _remember(source, version)
        return version
    if source in state.versions:
        return state.versions[source]
    breaker = _db_breaker(source)
    error: BaseException | None = None
    if not breaker.is_open():
        try:
            version = read()
        except DATABASE_ERRORS as exc:
            error = exc
            if breaker.trip():
                log.warning("database unavailable (%s: %s); serving last-good figures and retrying",
                            exc.__class__.__name__, _first_line(exc))
        else:
            breaker.reset()
            from . import bootstrap  # late: bootstrap reaches the cache through the importer

            bootstrap.database_answered()
            state.versions[source] = version
            _remember(source, version)
            return version
    if state.strict:
        state.degrade()
        raise DataUnavailable() from error
    good = last_good_version(source)
    if good is None:
        state.degrade()
        state.outage.missing = True
        raise DataUnavailable() from error
    version, as_of = good
    state.versions[source] = version
    state.fallback[version] = as_of
    state.degrade(as_of)
    return version


def database_back(source: str, read: Callable[[], int]) -> bool:
    """True when the database answers again (asked directly, whatever the breaker says)."""
    try:
        version = read()
    except DATABASE_ERRORS:
        return False
    _db_breaker(source).reset()
    _remember(source, version)
    return True


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""


# --- memoisation --------------------------------------------------------------------------

def memoized(version: Callable[[], int], name: str | None = None) -> Callable:
    """Decorator: cache a function's result on (name, arguments, data version), and keep its
    last good result for outages.

    Arguments must have a stable ``repr`` (strings, numbers, tuples)."""

    def decorate(fn: Callable) -> Callable:
        key_name = name or f"{fn.__module__}.{fn.__qualname__}"

        @wraps(fn)
        def wrapper(*args, **kwargs):
            state = _state()
            call = f"{args!r}|{sorted(kwargs.items())!r}"
            try:
                current: int | None = version()
            except DataUnavailable:
                if state is None or state.strict:
                    raise
                current = None
            if current is not None:
                hit = _get(_key(f"{key_name}|{current}|{call}"))
                if hit is not None:
                    if state is not None and state.outage is not None:
                        state.served_at(state.fallback.get(current))
                    return hit[0]
            last_good = "lg:" + _key(f"{key_name}|{call}")
            if state is None or state.outage is None:
                try:
                    result = fn(*args, **kwargs)
                except (*DATABASE_ERRORS, DataUnavailable) as exc:
                    if state is None:
                        raise
                    if not isinstance(exc, DataUnavailable):
                        log.warning("database error in %s (%s: %s): trying last-good figures",
                                    key_name, exc.__class__.__name__, _first_line(exc))
                    state.degrade()
                    if state.strict:
                        raise DataUnavailable() from exc
                else:
                    # Only a result built from fresh reads alone may be stored as current.
                    if state is None or state.outage is None:
                        _set(_key(f"{key_name}|{current}|{call}"), (result,))
                        _set(last_good, (result, current, time.time()), timeout=LAST_GOOD_TIMEOUT)
                    return result
            if state.strict:
                raise DataUnavailable()
            kept = _get(last_good)
            if kept is None:
                state.outage.missing = True
                raise DataUnavailable(key_name)
            result, kept_version, stored_at = kept
            confirmed = state.fallback.get(kept_version)
            state.served_at(max(stored_at, confirmed) if confirmed else stored_at)
            return result

        wrapper.uncached = fn  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _key(raw: str) -> str:
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()
