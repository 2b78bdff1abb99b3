"""The audit of account and administration events: who did what, when, to what.

Data loads keep their own audit (``data_loads``); this table records the rest: accounts
added, changed and removed, wall tokens created and revoked, the demo removed.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from .. import sql


def record(conn: Connection, actor: str, action: str, subject: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """One event, inside the caller's transaction (it commits or rolls back with the change)."""
    conn.execute(text("INSERT INTO audit_log (at, actor, action, subject, detail) "
                      "VALUES (:at, :actor, :action, :subject, :detail)"),
                 {"at": datetime.now(timezone.utc), "actor": actor, "action": action, "subject": subject,
                  "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None})


def recent(engine: Engine, limit: int = 50) -> pd.DataFrame:
    with engine.connect() as conn:
        return sql.fetch_df(conn, "auth_audit_log", limit=limit)
