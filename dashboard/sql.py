"""Named SQL, kept in ``queries/*.sql`` and called by name (in the spirit of aiosql).

Each file holds one statement with ``:name`` bound parameters; SQLAlchemy's ``text()``
binds them the same way on SQLite and PostgreSQL, so one file serves both.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, TextClause, bindparam, text

#: ``IN :name`` takes a list: the parameter is expanded into one bound value per item.
_EXPANDING = re.compile(r"\bIN\s+:(\w+)", re.IGNORECASE)


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
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            body = entry.read_text(encoding="utf-8")
            clause = text(body)
            lists = set(_EXPANDING.findall(body))
            if lists:
                clause = clause.bindparams(*(bindparam(name, expanding=True) for name in sorted(lists)))
            out[entry.name[:-4]] = clause
    return out


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


def run(conn: Connection, name: str, params: Any = None) -> int:
    """Run a named write statement (params: a dict, or a list of dicts for many rows); the
    number of rows it changed."""
    result = conn.execute(statement(name), params if params is not None else {})
    return result.rowcount


def bulk_insert(conn: Connection, table: str, columns: list[str], rows: list[tuple]) -> int:
    """Insert many rows fast: PostgreSQL's COPY, SQLite's executemany on plain tuples.

    The statement is built here, not read from queries/, because its shape is the table's columns
    (names from our own code, never from input); SQLAlchemy's per-row parameter handling costs more
    than the insert itself at a million rows."""
    if not rows:
        return 0
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return len(rows)
    cur = raw.cursor()
    try:
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cur.close()
    return len(rows)
