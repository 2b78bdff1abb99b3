"""gunicorn settings for the dashboard: ``gunicorn -c gunicorn.conf.py app:server``.

Every value can be overridden on the command line or with the environment variables
named below; the rest of the configuration (database, Redis, limits) is the app's own
(README, "Configuration").

Choices, and why:

* **Workers** (``WEB_CONCURRENCY``, default 2 per core, at most 8): a worker holds pandas,
  plotly and the geometry libraries, about 250–350 MB, so more processes cost memory; the
  threads below cover waiting on PostgreSQL, Redis and the image renderer. With more than
  one worker, set ``CACHE_REDIS_URL``: the cache (and with it the last-good figures a page
  shows during a database outage) is then shared, and survives a worker restart.
* **gthread, 4 threads per worker** (``GUNICORN_THREADS``): Dash callbacks spend a good part
  of their time waiting on the database or the cache; a slow export must not block the wall
  screens' refreshes behind it. Flask, Dash, SQLAlchemy's pool and the render queue are
  thread-safe.
* **timeout 120 s** (``GUNICORN_TIMEOUT``): the worst requests we serve are a cold national
  drill-down (about 6 s) and a PNG export that waits in the render queue and renders
  (RENDER_TIMEOUT, 45 s, at most twice that). A worker silent for longer is hung and is
  replaced; with gthread that means its main loop, not one slow request.
  **graceful_timeout 30 s** lets requests in flight finish on a restart.
* **keepalive 75 s** (``GUNICORN_KEEPALIVE``): longer than a load balancer's idle time-out
  (60 s for most), so the balancer, not gunicorn, closes an idle connection and never sends
  a request down one gunicorn has just closed (a sporadic 502). Idle connections cost a
  gthread worker a socket, not a thread.
* **max_requests 5000 ± 500**: each worker is replaced now and then, which bounds any slow
  leak (plotly figures, pandas). A restart is routine and safe: booting a worker touches
  neither the database, nor Redis, nor Chromium (dashboard/webapp.py), and the first-start
  routine runs in the background with retries.
* **preload_app off**: each worker imports the app itself. Preloading would save some memory
  through copy-on-write, but everything that must not cross a fork (database pools, the
  renderer's Chromium and its thread, the first-start thread) would then be created in the
  master; and a worker that is re-forked picks up new code only without preload. The app
  copes with preload anyway (a forked worker starts its own first-start thread), so
  ``--preload`` is safe if memory matters more.
* **Logging**: access log and error log on stdout/stderr (a service manager or container
  collects them), the access line with the time taken in ms; the app's own loggers
  (``dashboard.*``: outages, first start, render queue) go through gunicorn's error log
  with the same format.
* **A bad configuration stops the start** once, in the master, with the bilingual message
  (``on_starting``), instead of every worker failing to boot.
* **No control socket** unless ``GUNICORN_CONTROL_SOCKET`` names one: gunicorn ≥ 25 opens
  one in ``$HOME`` by default, and two instances on one machine would fight over it.
"""
from __future__ import annotations

import multiprocessing
import os
import sys

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(8, max(2, 2 * _cores)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 75)
max_requests = 5000
max_requests_jitter = 500
preload_app = False

# Requests: a URL is never long (the limit keeps hand-made monsters out early); bodies are
# limited by the app itself (MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES), which answers 413.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Behind a reverse proxy on the same machine, trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

_control = os.environ.get("GUNICORN_CONTROL_SOCKET")
if _control:
    control_socket = _control
else:
    control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "dashboard": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "layouts": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}


def on_starting(server):
    """Check the configuration once, in the master: a bad value stops here with its message."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from dashboard.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    server.log.info("dashboard: database %s, cache %s, %d worker(s) × %d thread(s)",
                    _safe_url(settings.database_url), settings.cache_type, workers, threads)


def worker_abort(worker):
    worker.log.warning("worker %s timed out (over %s s) and is being replaced", worker.pid, timeout)


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(unreadable)"
