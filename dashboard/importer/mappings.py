"""Saved import mappings (table ``import_mappings``): a wide report's reading, kept by name.

The upload page saves the mapping it understood (``wide.Mapping``, the admin's corrections
included) under a name; the next upload chooses it from :func:`saved` and reads the file with
it exactly as ``dashboard import values --mapping FILE`` would. Saving under a name already
used replaces that mapping; both are recorded in the audit log.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine

from .. import sql
from .wide import Mapping

NAME_MAX = 120


def saved(engine: Engine) -> list[dict]:
    """Every saved mapping: id, name, layout, updated_at, updated_by (by name)."""
    with engine.connect() as conn:
        return sql.fetch_rows(conn, "import_mappings")


def get(engine: Engine, mapping_id) -> tuple[str, Mapping] | None:
    """(name, mapping) of a saved mapping, or None when there is no such id or its text does
    not read as a mapping."""
    try:
        mapping_id = int(mapping_id)
    except (TypeError, ValueError):
        return None
    with engine.connect() as conn:
        rows = sql.fetch_rows(conn, "import_mapping_by_id", id=mapping_id)
    if not rows:
        return None
    try:
        return str(rows[0]["name"]), Mapping.parse(rows[0]["mapping"])
    except (ValueError, TypeError, AttributeError):
        return None


def save(engine: Engine, name: str, mapping: Mapping, user: str, layout: str = "wide") -> int:
    """Store ``mapping`` under ``name`` (replacing one of that name); its id."""
    from ..auth import audit

    name = " ".join(str(name).split())[:NAME_MAX]
    if not name:
        raise ValueError("a saved mapping needs a name")
    at = datetime.now(timezone.utc)
    params = {"name": name, "layout": layout, "mapping": mapping.text(), "at": at, "user": user}
    with engine.begin() as conn:
        found = sql.fetch_value(conn, "import_mapping_by_name", mapping_name=name)
        if found is None:
            sql.run(conn, "import_mapping_insert", params)
            found = sql.fetch_value(conn, "import_mapping_by_name", mapping_name=name)
            action = "mapping_save"
        else:
            sql.run(conn, "import_mapping_update", {**params, "id": int(found)})
            action = "mapping_replace"
        audit.record(conn, user, action, f"mapping:{int(found)}",
                     {"name": name, "units": len(mapping.units), "columns": len(mapping.columns)})
    return int(found)
