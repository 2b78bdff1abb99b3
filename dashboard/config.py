"""Settings read from the environment, checked once, with messages a user can act on.

Every variable is optional; the defaults give the embedded SQLite database and a
per-process cache, so ``python app.py`` works on a fresh machine.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DB_PATH = Path("data") / "dashboard.db"
LANGUAGES = ("vi", "en")
CACHE_TYPES = ("SimpleCache", "RedisCache", "FileSystemCache", "NullCache")
TRACE_MODES = ("off", "on", "param")  # dashboard/trace.py


class ConfigError(ValueError):
    """A configuration value is unusable. The message names the variable, in Vietnamese and English."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    cache_type: str = "SimpleCache"
    cache_redis_url: str | None = None
    cache_dir: str | None = None
    cache_timeout: int = 3600
    default_lang: str = "vi"
    load_demo: bool = True
    sql_trace: str = "off"
    # --- accounts and access (dashboard/auth) ---
    secret_key: str | None = None
    anonymous_read: bool | None = None  # None: on while the database holds only the demo
    trusted_proxies: int = 0
    session_cookie_secure: bool = False  # True: Secure even on plain HTTP; HTTPS requests always get it
    session_hours: int = 12
    login_limit_account: str = "5 per 15 minutes"
    login_limit_address: str = "30 per 15 minutes"
    # --- web platform: limits, headers, start-up and rendering (see load_platform below) ---
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_dir: str | None = None  # where uploads wait for confirmation (default: the system's temp folder)
    frame_ancestors: str = "'self'"
    db_auto_upgrade: bool = True
    db_connect_timeout: int = 5
    render_queue: int = 16
    render_timeout: int = 45

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _bad(name: str, value: str, vi: str, en: str) -> ConfigError:
    return ConfigError(f"Biến môi trường {name}={value!r}: {vi} / {name}={value!r}: {en}")


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, raw, "phải là số nguyên", "must be an integer") from None
    if not lo <= value <= hi:
        raise _bad(name, raw, f"phải nằm trong khoảng {lo}–{hi}", f"must be between {lo} and {hi}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise _bad(name, raw, "phải là true hoặc false", "must be true or false")


def normalise_database_url(raw: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pin psycopg 3 as the driver."""
    url = raw.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise _bad("DATABASE_URL", raw, "không phải địa chỉ cơ sở dữ liệu hợp lệ",
                   "is not a valid database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise _bad("DATABASE_URL", raw, "chỉ hỗ trợ sqlite hoặc postgresql",
                   "only sqlite and postgresql are supported")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise _bad("DATABASE_URL", raw, "PostgreSQL cần trình điều khiển psycopg (postgresql+psycopg://)",
                   "PostgreSQL needs the psycopg driver (postgresql+psycopg://)")
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    raw_url = env.get("DATABASE_URL", "").strip()
    if raw_url:
        database_url = normalise_database_url(raw_url)
    else:
        database_url = f"sqlite:///{(Path.cwd() / DEFAULT_DB_PATH).as_posix()}"

    lang = env.get("DASHBOARD_LANG", "vi").strip() or "vi"
    if lang not in LANGUAGES:
        raise _bad("DASHBOARD_LANG", lang, "chỉ nhận vi hoặc en", "must be vi or en")

    redis_url = env.get("CACHE_REDIS_URL", "").strip() or env.get("REDIS_URL", "").strip() or None
    cache_type = env.get("CACHE_TYPE", "").strip() or ("RedisCache" if redis_url else "SimpleCache")
    if cache_type not in CACHE_TYPES:
        raise _bad("CACHE_TYPE", cache_type, "chỉ nhận " + ", ".join(CACHE_TYPES),
                   "must be one of " + ", ".join(CACHE_TYPES))
    if cache_type == "RedisCache" and not redis_url:
        raise _bad("CACHE_TYPE", cache_type, "cần đặt CACHE_REDIS_URL (ví dụ redis://127.0.0.1:6379/0)",
                   "needs CACHE_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")

    sql_trace = (env.get("SQL_TRACE", "").strip().lower() or "off")
    if sql_trace not in TRACE_MODES:
        raise _bad("SQL_TRACE", sql_trace, "chỉ nhận off, on hoặc param", "must be off, on or param")
    platform = load_platform(env)

    return Settings(
        **_access_settings(env),
        database_url=database_url,
        host=env.get("HOST", "127.0.0.1").strip() or "127.0.0.1",
        port=_int(env, "PORT", 8050, 1, 65535),
        debug=_bool(env, "DASHBOARD_DEBUG", False),
        cache_type=cache_type,
        cache_redis_url=redis_url,
        cache_dir=env.get("CACHE_DIR", "").strip() or None,
        cache_timeout=_int(env, "CACHE_TIMEOUT", 3600, 0, 30 * 24 * 3600),
        default_lang=lang,
        sql_trace=sql_trace,
        # The demo fills only the embedded default database unless asked: a configured
        # DATABASE_URL is a real deployment.
        load_demo=_bool(env, "LOAD_DEMO", not raw_url),
        **platform,
    )


# --- accounts and access (dashboard/auth) ------------------------------------------------

def _optional_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "" or raw.strip().lower() == "auto":
        return None
    return _bool(env, name, False)


def _secret_key(env: Mapping[str, str]) -> str | None:
    """SECRET_KEY, or the contents of the file SECRET_KEY_FILE names (container secrets).
    Whether the key is good enough is decided at the first request (dashboard.auth.secret),
    because a missing key is allowed while the database holds only the demo."""
    path = env.get("SECRET_KEY_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise _bad("SECRET_KEY_FILE", path, f"không đọc được tệp ({exc.strerror})",
                       f"cannot be read ({exc.strerror})") from None
    return env.get("SECRET_KEY", "").strip() or None


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise _bad(name, raw, "phải có dạng '5 per 15 minutes'", "must look like '5 per 15 minutes'") from None
    return raw


def _access_settings(env: Mapping[str, str]) -> dict:
    return {
        "secret_key": _secret_key(env),
        "anonymous_read": _optional_bool(env, "ANONYMOUS_READ"),
        "trusted_proxies": _int(env, "TRUSTED_PROXIES", 0, 0, 5),
        "session_cookie_secure": _bool(env, "SESSION_COOKIE_SECURE", False),
        "session_hours": _int(env, "SESSION_HOURS", 12, 1, 24 * 30),
        "login_limit_account": _rate_limit(env, "LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
        "login_limit_address": _rate_limit(env, "LOGIN_LIMIT_ADDRESS", "30 per 15 minutes"),
    }


# --- web platform settings ----------------------------------------------------------------
# Limits, security headers, first start and image rendering of the web application. Kept
# together so the account settings and others can grow beside them without interleaving.

_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2,
               "MIB": 1024 ** 2, "G": 1024 ** 3, "GB": 1024 ** 3, "GIB": 1024 ** 3}
# One CSP source expression: a keyword, a scheme, or scheme://host[:port] with an optional
# leading "*." wildcard. Nothing that could close the directive (";", ",") or the header (CR/LF).
_CSP_SOURCE = re.compile(r"^(?:'self'|'none'|https?:|(?:https?://)?(?:\*\.)?[A-Za-z0-9.-]+(?::(?:\d{1,5}|\*))?)$")


def _size(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """A size in bytes: `2097152`, `2M`, `500K`, `1G` (binary units: 1K = 1024 bytes)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", raw)
    unit = match.group(2).upper() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise _bad(name, raw, "phải là số byte, ví dụ 2097152, 2M hoặc 500K",
                   "must be a number of bytes, e.g. 2097152, 2M or 500K")
    value = int(match.group(1)) * _SIZE_UNITS[unit]
    if not lo <= value <= hi:
        raise _bad(name, raw, f"phải nằm trong khoảng {lo}–{hi} byte", f"must be between {lo} and {hi} bytes")
    return value


def _frame_ancestors(env: Mapping[str, str]) -> str:
    raw = env.get("FRAME_ANCESTORS")
    if raw is None or raw.strip() == "":
        return "'self'"
    # People write self / none without the quotes CSP needs: accept both.
    sources = [{"self": "'self'", "none": "'none'"}.get(s.lower(), s) for s in raw.split()]
    bad = [s for s in sources if not _CSP_SOURCE.match(s)]
    if bad or ("'none'" in sources and len(sources) > 1):
        raise _bad("FRAME_ANCESTORS", raw,
                   "phải là danh sách nguồn cách nhau bởi dấu cách, ví dụ 'self' https://ioc.haiphong.gov.vn",
                   "must be a space-separated list of sources, e.g. 'self' https://ioc.haiphong.gov.vn")
    return " ".join(sources)


def load_platform(env: Mapping[str, str]) -> dict:
    """The web platform's settings (fields of Settings), checked with bilingual messages."""
    max_request = _size(env, "MAX_REQUEST_BYTES", 2 * 1024 * 1024, 64 * 1024, 1024 ** 3)
    max_upload = _size(env, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024, 64 * 1024, 4 * 1024 ** 3)
    return {
        "max_request_bytes": max_request,
        "max_upload_bytes": max_upload,
        "upload_dir": (env.get("UPLOAD_DIR") or "").strip() or None,
        "frame_ancestors": _frame_ancestors(env),
        "db_auto_upgrade": _bool(env, "DB_AUTO_UPGRADE", True),
        "db_connect_timeout": _int(env, "DB_CONNECT_TIMEOUT", 5, 0, 300),
        "render_queue": _int(env, "RENDER_QUEUE", 16, 1, 1000),
        "render_timeout": _int(env, "RENDER_TIMEOUT", 45, 5, 600),
    }
