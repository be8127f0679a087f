"""Signed anchors of the audit chain's head, kept outside the database.

The signed head in the database catches rows removed at the end of the chain, unless someone
with write access deletes the head along with them, or puts back an older head they copied.
An anchor is the head as it was at one moment (row count, last id, last hash, time), signed
with the audit key and written to a file the database cannot reach (by default
var/audit-anchors.jsonl, one JSON object a line; `carebridge audit anchor --out FILE` exports
one elsewhere, e.g. to write-once storage). `carebridge audit verify` checks the newest anchor
of that file, and any given with `--anchor`: the anchored row must still be there with the
same hash, and exactly as many rows as anchored must precede it.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit.models import AuditEvent
from engine.audit.services import GENESIS, _mac

__all__ = ["append_anchor", "check_anchor", "latest_anchor", "make_anchor", "read_anchors"]

VERSION = 1
_FIELDS = ("version", "row_count", "last_id", "last_hash", "at")


def _message(anchor: Mapping[str, Any]) -> str:
    return "anchor|" + "|".join(str(anchor[name]) for name in _FIELDS)


def make_anchor(session: Session, *, at: datetime) -> dict[str, Any]:
    """The chain's head now, signed. The caller verifies the chain first (never anchor a
    broken chain: the anchor would vouch for it)."""
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    anchor: dict[str, Any] = {
        "version": VERSION,
        "row_count": session.scalar(select(func.count(AuditEvent.id))) or 0,
        "last_id": last.id if last is not None else None,
        "last_hash": last.hash if last is not None else GENESIS,
        "at": at.isoformat(),
    }
    anchor["signature"] = _mac(_message(anchor))
    return anchor


def check_anchor(session: Session, anchor: Mapping[str, Any]) -> list[str]:
    """What is wrong with the chain measured against `anchor` (empty when it holds)."""
    try:
        signature = str(anchor["signature"])
        expected = _mac(_message(anchor))
        row_count, last_id = int(anchor["row_count"]), anchor["last_id"]
    except (KeyError, TypeError, ValueError):
        return ["the anchor is not a CareBridge audit anchor"]
    if not hmac.compare_digest(signature, expected):
        return ["the anchor's signature is not valid: it was edited or made with another key"]
    at = anchor["at"]
    if last_id is None:
        return []  # anchored while the chain was empty: nothing before it to check
    row = session.get(AuditEvent, int(last_id))
    if row is None:
        return [
            f"the row anchored at {at} (id {last_id}) is gone: rows were deleted from the "
            "end of the chain, or all of them"
        ]
    problems = []
    if row.hash != anchor["last_hash"]:
        problems.append(f"the row anchored at {at} (id {last_id}) was changed or re-hashed")
    before = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= row.id))
    if before != row_count:
        problems.append(
            f"the anchor of {at} counted {row_count} rows up to id {last_id}, the table has "
            f"{before}: rows were deleted or inserted before it"
        )
    return problems


def read_anchors(path: Path) -> list[dict[str, Any]]:
    """The anchors in `path`: one JSON object, or one a line (what `anchor` appends)."""
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return []
    try:
        one = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [one] if isinstance(one, dict) else list(one)


def latest_anchor(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    anchors = read_anchors(path)
    return anchors[-1] if anchors else None


def append_anchor(path: Path, anchor: Mapping[str, Any]) -> None:
    """Add `anchor` as a line of `path` (created 0600: it reveals row counts and hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(anchor), sort_keys=True) + "\n")
