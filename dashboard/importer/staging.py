"""Uploaded files waiting for confirmation, kept on the server under a random token.

The upload page checks a file and shows its preview; the confirmation names only the token,
so the browser never sends the file twice nor holds it. A staged file belongs to the account
that uploaded it, lives ``LIFETIME`` seconds, and goes once loaded. Files are stored as
``<UPLOAD_DIR>/<token>/upload.csv|.xlsx|.json`` with their own name and how to read them (the
upload page's options: layout, year, saved mapping, corrections) in ``meta.json``; the name a
browser sends is never used as a path.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = (".csv", ".xlsx", ".json")
LIFETIME = 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class Staged:
    token: str
    path: Path
    filename: str
    owner: str
    kind: str
    number_format: str
    created: float
    options: dict = field(default_factory=dict)   # how to read it: layout, year, mapping… (the upload page's)


def folder(configured: str | None) -> Path:
    out = Path(configured) if configured else Path(tempfile.gettempdir()) / "sytdash-uploads"
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    return out


def clean_name(name: str | None) -> str:
    """The file's own name, for messages and the audit: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:120] or "upload"


def suffix_of(name: str) -> str | None:
    suffix = Path(clean_name(name)).suffix.lower()
    return suffix if suffix in SUFFIXES else None


def stage(root: Path, data: bytes, filename: str, *, owner: str, kind: str, number_format: str) -> Staged:
    expire(root)
    suffix = suffix_of(filename)
    if suffix is None:
        raise ValueError("unsupported file type")
    token = secrets.token_urlsafe(32)
    where = root / token
    where.mkdir(mode=0o700)
    path = where / f"upload{suffix}"
    path.write_bytes(data)
    meta = {"filename": clean_name(filename), "owner": owner, "kind": kind, "number_format": number_format,
            "created": time.time()}
    (where / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return Staged(token, path, meta["filename"], owner, kind, number_format, meta["created"])


def get(root: Path, token: str | None, owner: str) -> Staged | None:
    """The staged file of this token if it exists, is this account's and has not expired."""
    if not token or not TOKEN.match(token):
        return None
    where = root / token
    try:
        meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    paths = [p for p in where.iterdir() if p.name.startswith("upload")]
    if meta.get("owner") != owner or not paths or time.time() - float(meta.get("created", 0)) > LIFETIME:
        return None
    return Staged(token, paths[0], meta["filename"], owner, meta.get("kind", ""), meta.get("number_format", "plain"),
                  float(meta["created"]), dict(meta.get("options") or {}))


def remember(staged: Staged, **fields) -> None:
    """Store fields of the staged file's meta (``kind``, ``options``) for the next step."""
    meta_path = staged.path.parent / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(fields)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def discard(root: Path, token: str) -> None:
    if TOKEN.match(token or ""):
        shutil.rmtree(root / token, ignore_errors=True)


def expire(root: Path) -> None:
    now = time.time()
    for where in root.iterdir():
        try:
            if where.is_dir() and now - where.stat().st_mtime > LIFETIME:
                shutil.rmtree(where, ignore_errors=True)
        except OSError:
            continue
