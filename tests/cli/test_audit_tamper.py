"""`carebridge audit verify` against each way of tampering with the trail, on the CLI's own
SQLite file: an edit, an insertion, a deletion in the middle and at the end, a truncation, a
chain re-hashed without the key, a forged or replayed head, and the anchors that catch what the
database alone cannot."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from cli.main import main
from engine.audit import AuditEvent
from engine.audit.services import _hashed_fields

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`carebridge init --demo` once; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("audit") / "template.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{path}")
        mp.setenv("CAREBRIDGE_DEMO_PASSWORD", "demo-pass-123")
        mp.setenv("CAREBRIDGE_AUDIT_ANCHOR_FILE", str(path.parent / "unused.jsonl"))
        result = CliRunner().invoke(main, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Path) -> CliRunner:
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{demo_database}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{tmp_path / 'cli.sqlite3'}{suffix}")
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("CAREBRIDGE_DEMO_PASSWORD", "demo-pass-123")
    monkeypatch.setenv("CAREBRIDGE_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path, runner: CliRunner) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    yield engine
    engine.dispose()


def verify(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, ["audit", "verify", *args])


def broken(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "audit chain BROKEN" in result.output
    return result.output


def ids(db: Engine) -> list[int]:
    with db.connect() as conn:
        return list(conn.execute(text("SELECT id FROM audit_events ORDER BY id")).scalars())


def run(db: Engine, sql: str, **params: object) -> None:
    with db.begin() as conn:
        conn.execute(text(sql), params)


def test_an_untouched_trail_is_intact(runner: CliRunner, db: Engine) -> None:
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {len(ids(db))} rows, signed head matches" in result.output


def test_an_edited_row_is_named(runner: CliRunner, db: Engine) -> None:
    target = ids(db)[3]
    run(db, "UPDATE audit_events SET actor = 'someone else' WHERE id = :id", id=target)
    assert f"[{target}" in broken(verify(runner))


def test_a_row_inserted_in_the_middle_is_named(runner: CliRunner, db: Engine) -> None:
    # Make room: move the rows after the fourth up by one id, then slip a row in.
    all_ids = ids(db)
    after = all_ids[3]
    run(db, "UPDATE audit_events SET id = id + 1000000 WHERE id > :a", a=after)
    run(db, "UPDATE audit_events SET id = id - 999999 WHERE id > 1000000")
    run(
        db,
        "INSERT INTO audit_events (id, at, actor_id, actor, action, category, case_id, "
        "client_id, instance_id, task_id, details, prev_hash, hash) SELECT :new, at, actor_id, "
        "'forger', action, category, case_id, client_id, instance_id, task_id, details, hash, "
        ":h FROM audit_events WHERE id = :a",
        new=after + 1,
        a=after,
        h="f" * 64,
    )
    assert f"{after + 1}" in broken(verify(runner))


def test_a_row_deleted_from_the_middle_breaks_the_next_one(runner: CliRunner, db: Engine) -> None:
    victim, following = ids(db)[4:6]
    run(db, "DELETE FROM audit_events WHERE id = :id", id=victim)
    assert f"[{following}" in broken(verify(runner))


def test_deleting_the_newest_rows_is_detected(runner: CliRunner, db: Engine) -> None:
    newest = ids(db)[-3:]
    run(db, "DELETE FROM audit_events WHERE id >= :id", id=newest[0])
    output = broken(verify(runner))
    assert "3 row(s) missing (the newest rows were deleted" in output


def test_emptying_the_table_is_detected(runner: CliRunner, db: Engine) -> None:
    count = len(ids(db))
    run(db, "DELETE FROM audit_events")
    output = broken(verify(runner))
    assert f"the signed head records {count} rows" in output
    assert "the table has 0" in output


def test_a_chain_rehashed_without_the_key_is_detected(runner: CliRunner, db: Engine) -> None:
    # The attacker edits a row and recomputes every hash after it the way the chain used to
    # be computed (sha256), then rewrites the head to match: none of it carries the key's HMAC.
    run(db, "UPDATE audit_events SET actor = 'someone else' WHERE id = :id", id=ids(db)[2])
    with db.begin() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT id, at, actor_id, actor, action, category, case_id, client_id, "
                    "instance_id, task_id, details FROM audit_events ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
        prev = "0" * 64
        for row in rows:
            fields = dict(row)
            row_id = fields.pop("id")
            fields["details"] = json.loads(fields["details"])
            body = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
            digest = hashlib.sha256((prev + body).encode()).hexdigest()
            conn.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": row_id},
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
    output = broken(verify(runner))
    assert f"[{rows[0]['id']}" in output  # every row fails its HMAC, from the first
    assert "the head's signature is not valid" in output


def test_a_deleted_head_is_reported(runner: CliRunner, db: Engine) -> None:
    run(db, "DELETE FROM audit_head")
    assert "the signed head is missing while rows exist" in broken(verify(runner))


def test_anchor_prints_a_signed_head_and_verify_checks_it(
    runner: CliRunner, db: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "exported.json"
    result = runner.invoke(main, ["audit", "anchor", "--out", str(out)])
    assert result.exit_code == 0, result.output
    anchor = json.loads(out.read_text())
    assert anchor == json.loads(result.output)
    assert anchor["row_count"] == len(ids(db))
    assert anchor["last_id"] == ids(db)[-1]
    assert set(anchor) == {"version", "row_count", "last_id", "last_hash", "at", "signature"}
    assert out.stat().st_mode & 0o777 == 0o600
    result = verify(runner, "--anchor", str(out))
    assert result.exit_code == 0, result.output
    assert "2 anchor(s) hold" in result.output  # the anchor file's newest, and the export


def test_an_anchor_catches_a_truncation_that_took_the_head_too(
    runner: CliRunner, db: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "exported.json"
    runner.invoke(main, ["audit", "anchor", "--out", str(out)])
    run(db, "DELETE FROM audit_events")
    run(db, "DELETE FROM audit_head")
    # The default anchor file and the export both say so.
    output = broken(verify(runner, "--anchor", str(out)))
    assert output.count("is gone: rows were deleted from the end of the chain") == 2


def test_an_anchor_catches_a_replayed_old_head(
    runner: CliRunner, db: Engine, tmp_path: Path
) -> None:
    # Keep a copy of today's signed head, let more rows arrive and be anchored, then delete
    # those rows and put the copied head back: the database alone looks consistent again.
    with db.connect() as conn:
        old_head = dict(conn.execute(text("SELECT * FROM audit_head")).mappings().one())
    first_new = ids(db)[-1] + 1
    assert runner.invoke(main, ["token", "create", "alex"]).exit_code == 0  # audited
    assert runner.invoke(main, ["audit", "anchor"]).exit_code == 0
    run(db, "DELETE FROM audit_events WHERE id >= :id", id=first_new)
    run(
        db,
        "UPDATE audit_head SET row_count = :row_count, last_id = :last_id, "
        "last_hash = :last_hash, rebuilt = :rebuilt, signature = :signature",
        **old_head,
    )
    assert "is gone" in broken(verify(runner))


def test_an_edited_anchor_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "exported.json"
    runner.invoke(main, ["audit", "anchor", "--out", str(out)])
    anchor = json.loads(out.read_text())
    anchor["row_count"] -= 1
    out.write_text(json.dumps(anchor))
    assert "the anchor's signature is not valid" in broken(verify(runner, "--anchor", str(out)))


def test_anchor_refuses_a_broken_chain(runner: CliRunner, db: Engine) -> None:
    run(db, "UPDATE audit_events SET actor = 'x' WHERE id = :id", id=ids(db)[1])
    result = runner.invoke(main, ["audit", "anchor"])
    assert result.exit_code == 1
    assert "refusing to anchor" in result.output


def test_appends_after_a_deleted_head_keep_it_flagged(runner: CliRunner, db: Engine) -> None:
    run(db, "DELETE FROM audit_events WHERE id = :id", id=ids(db)[-1])
    run(db, "DELETE FROM audit_head")
    assert runner.invoke(main, ["token", "create", "alex"]).exit_code == 0  # appends again
    assert "the head was rebuilt" in broken(verify(runner))


def _rehash_as_before_the_key(db: Engine) -> int:
    """Rewrite every hash the way the chain was computed before the audit key: sha256 over the
    previous hash and the same canonical JSON."""
    with Session(db) as session, session.begin():
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = "0" * 64
        for ev in events:
            body = json.dumps(
                _hashed_fields(ev), sort_keys=True, separators=(",", ":"), default=str
            )
            ev.prev_hash = prev
            ev.hash = prev = hashlib.sha256((prev + body).encode()).hexdigest()
        session.execute(text("DELETE FROM audit_head"))
    return len(events)


def test_rekey_signs_a_trail_from_before_the_key(runner: CliRunner, db: Engine) -> None:
    count = _rehash_as_before_the_key(db)  # what an upgraded install holds
    assert runner.invoke(main, ["token", "create", "alex"]).exit_code == 0  # appended since
    broken(verify(runner))
    result = runner.invoke(main, ["audit", "rekey"])
    assert result.exit_code == 0, result.output
    assert f"re-keyed: {count + 1} rows" in result.output
    assert verify(runner).exit_code == 0


def test_rekey_refuses_an_already_keyed_chain(runner: CliRunner) -> None:
    result = runner.invoke(main, ["audit", "rekey"])
    assert result.exit_code == 1
    assert "nothing to re-key" in result.output


def test_rekey_refuses_a_legacy_chain_that_was_tampered_with(runner: CliRunner, db: Engine) -> None:
    _rehash_as_before_the_key(db)
    run(db, "UPDATE audit_events SET actor = 'someone else' WHERE id = :id", id=ids(db)[2])
    result = runner.invoke(main, ["audit", "rekey"])
    assert result.exit_code == 1
    assert "matches neither" in result.output
