"""Named SQL, kept in ``queries/*.sql`` and called by name (in the spirit of aiosql).

Each file holds one statement with ``:name`` bound parameters; SQLAlchemy's ``text()``
binds them the same way on SQLite and PostgreSQL, so one file serves both.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
from sqlalchemy import Connection, TextClause, text


class UnknownQuery(KeyError):
    pass


@lru_cache(maxsize=None)
def _statements() -> dict[str, TextClause]:
    folder = resources.files("queries")
    return {
        entry.name[:-4]: text(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }


def names() -> list[str]:
    return sorted(_statements())


def statement(name: str) -> TextClause:
    try:
        return _statements()[name]
    except KeyError:
        raise UnknownQuery(f"no query named {name!r} in queries/") from None


def fetch_df(conn: Connection, name: str, **params: Any) -> pd.DataFrame:
    """Run the named query and return its rows as a DataFrame (columns as the SQL names them)."""
    result = conn.execute(statement(name), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def fetch_rows(conn: Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    result = conn.execute(statement(name), params)
    return [dict(row) for row in result.mappings()]


def fetch_value(conn: Connection, name: str, **params: Any) -> Any:
    return conn.execute(statement(name), params).scalar()
