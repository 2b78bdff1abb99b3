"""Named SQL, kept in ``queries/*.sql`` and called by name (in the spirit of aiosql).

Each file holds one statement with ``:name`` bound parameters; SQLAlchemy's ``text()``
binds them the same way on SQLite and PostgreSQL, so one file serves both.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, TextClause, text


class UnknownQuery(KeyError):
    pass


def _folder():
    """The repository's queries/ beside the package (editable installs, `python app.py`), else the
    installed `queries` package. Looked up by path first so a script named queries.py cannot shadow it."""
    beside = Path(__file__).resolve().parent.parent / "queries"
    return beside if beside.is_dir() else resources.files("queries")


@lru_cache(maxsize=None)
def _statements() -> dict[str, TextClause]:
    folder = _folder()
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
    columns = list(result.keys())
    # Plain tuples: pandas probes Row objects attribute by attribute, 3x slower on big results.
    return pd.DataFrame.from_records([tuple(row) for row in result.fetchall()], columns=columns)


def fetch_rows(conn: Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    result = conn.execute(statement(name), params)
    return [dict(row) for row in result.mappings()]


def fetch_value(conn: Connection, name: str, **params: Any) -> Any:
    return conn.execute(statement(name), params).scalar()
