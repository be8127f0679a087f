"""Benchmark 2: the inbox at hospital scale.

100,000 open and 1,000,000 completed human_tasks over 200 users and 6 roles, bulk-loaded (COPY on
PostgreSQL, one executemany on SQLite; not through the engine), then p50/p95/p99 of the three
views people live in: My tasks, Team queue and Overdue, first 50 rows by due date. Measured
through `engine.inbox.list_tasks` and, when the web app is importable, through
`GET /api/v1/tasks?view=...` on gunicorn (see bench.http_server). EXPLAIN output of each view's
query is kept in the results so a plan that stops using its index shows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, event, insert, text
from sqlalchemy.orm import Session

from bench.common import Database, fresh_database, summary_ms
from bench.common import Table as OutTable
from engine import inbox
from engine.accounts import create_token
from engine.accounts.models import ROLE_KEYS, User
from engine.cases.models import Case, Client
from engine.inbox.models import PRIORITIES, PRIORITY_RANK
from engine.instances.models import ProcessInstance

# Relative to the real clock: the web server measures "overdue" against it.
NOW = datetime.now(UTC).replace(microsecond=0)
VIEWS = ("mine", "team", "overdue")
# 200 people; task roles follow who does the work (admins hold none).
ROLE_USERS = {
    "social_worker": 90,
    "nurse": 50,
    "physician": 20,
    "case_manager": 20,
    "supervisor": 12,
    "admin": 8,
}
TASK_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor")
TASK_ROLE_WEIGHTS = (55, 25, 5, 10, 5)
STEPS = (
    ("intake", "Intake"),
    ("assessment", "Psychosocial assessment"),
    ("care_plan", "Care plan"),
    ("referral", "Resource referral"),
    ("followup_review", "Follow-up review"),
    ("close_case", "Close case"),
)


@dataclass(frozen=True)
class Scale:
    open_tasks: int
    completed_tasks: int
    instances: int
    samples: int


FULL = Scale(100_000, 1_000_000, 20_000, 300)
QUICK = Scale(10_000, 100_000, 2_000, 100)


# ---------------------------------------------------------------- loading ----------
def _users(db: Database) -> list[tuple[int, str]]:
    rows = []
    with db.sessions.begin() as session:
        roles = {
            r: session.scalar(text("SELECT id FROM roles WHERE key = :k"), {"k": r})
            for r in ROLE_KEYS
        }
        n = 0
        for role, count in ROLE_USERS.items():
            for _ in range(count):
                n += 1
                rows.append({"username": f"user{n:03d}", "role": role})
        session.execute(
            insert(User.__table__),
            [
                {
                    "username": r["username"],
                    "display_name": r["username"].title(),
                    "timezone": "America/New_York",
                    "active": True,
                    "on_call": False,
                    "created_at": NOW,
                }
                for r in rows
            ],
        )
        ids = dict(session.execute(text("SELECT username, id FROM users")).all())
        session.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            [{"u": ids[r["username"]], "r": roles[r["role"]]} for r in rows],
        )
    return [(ids[r["username"]], r["role"]) for r in rows]


def _defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Fill columns this loader does not know (added by later migrations) with their scalar
    default, so a new NOT NULL column with a default does not break the load."""
    for column in table.columns:
        if column.key in row or column.primary_key:
            continue
        default = column.default
        row[column.key] = default.arg if default is not None and default.is_scalar else None
    return row


def _parents(db: Database, n: int) -> list[tuple[int, int, int]]:
    """n clients, each with a case and one instance: (instance_id, case_id, client_id)."""
    definition_id = 1
    with db.sessions.begin() as session:
        session.execute(
            insert(Client.__table__),
            [
                _defaults(
                    Client.__table__,
                    {
                        "given_name": random.choice(("Ana", "Ben", "Chloe", "Dev", "Esi", "Femi")),
                        "family_name": f"Client{i:06d}",
                        "birth_date": datetime(1950, 1, 1).date() + timedelta(days=i % 20000),
                        "mrn": f"MRN{i:07d}",
                        "do_not_contact": False,
                        "created_at": NOW,
                    },
                )
                for i in range(n)
            ],
        )
        clients = session.scalars(text("SELECT id FROM clients ORDER BY id")).all()
        session.execute(
            insert(Case.__table__),
            [
                _defaults(
                    Case.__table__,
                    {
                        "client_id": c,
                        "reason": "Bench",
                        "status": "open",
                        "flags": {},
                        "opened_at": NOW,
                    },
                )
                for c in clients
            ],
        )
        cases = session.execute(text("SELECT id, client_id FROM cases ORDER BY id")).all()
        session.execute(
            insert(ProcessInstance.__table__),
            [
                _defaults(
                    ProcessInstance.__table__,
                    {
                        "definition_id": definition_id,
                        "case_id": case_id,
                        "status": "waiting",
                        "state": "{}",
                        "serializer_version": "bench",
                        "version": 1,
                        "started_at": NOW,
                        "updated_at": NOW,
                    },
                )
                for case_id, _ in cases
            ],
        )
        instances = session.execute(
            text("SELECT id, case_id FROM process_instances ORDER BY id")
        ).all()
    client_of = dict(cases)
    return [(i, c, client_of[c]) for i, c in instances]


TASK_COLUMNS = (
    "instance_id",
    "spiff_task_id",
    "bpmn_id",
    "name",
    "process_key",
    "lane",
    "role",
    "case_id",
    "client_id",
    "status",
    "assignee_id",
    "priority",
    "priority_rank",
    "due_at",
    "form",
    "ui_form",
    "variable",
    "created_at",
    "claimed_at",
    "completed_at",
    "completed_by_id",
)


def _task_rows(
    scale: Scale, users: list[tuple[int, str]], parents: list[tuple[int, int, int]]
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(5)
    by_role: dict[str, list[int]] = {}
    for uid, role in users:
        by_role.setdefault(role, []).append(uid)
    # Completed work first, open work last: the physical order a live table has (open tasks
    # are the newest rows), which a plan that scans the table instead of an index pays for.
    for n in range(scale.open_tasks + scale.completed_tasks):
        is_open = n >= scale.completed_tasks
        instance_id, case_id, client_id = parents[rng.randrange(len(parents))]
        role = rng.choices(TASK_ROLES, TASK_ROLE_WEIGHTS)[0]
        bpmn_id, name = STEPS[rng.randrange(len(STEPS))]
        priority = rng.choices(PRIORITIES, (80, 12, 6, 2))[0]
        if is_open:
            assignee = rng.choice(by_role[role]) if rng.random() < 0.6 else None
            # Due between 5 days ago and 25 days ahead: about one in six is overdue.
            due = NOW + timedelta(minutes=rng.randrange(-5 * 1440, 25 * 1440))
            created = due - timedelta(days=3)
            row = ("open", assignee, due, created, created if assignee else None, None, None)
        else:
            who = rng.choice(by_role[role])
            due = NOW - timedelta(minutes=rng.randrange(1440, 700 * 1440))
            created = due - timedelta(days=3)
            done = created + timedelta(hours=rng.randrange(1, 96))
            status = "completed" if rng.random() < 0.97 else "cancelled"
            row = (status, who, due, created, created, done, who)
        status, assignee, due, created, claimed, completed, completed_by = row
        yield (
            instance_id,
            f"bench-{n:08d}",
            bpmn_id,
            name,
            "care_pathway",
            role,
            role,
            case_id,
            client_id,
            status,
            assignee,
            priority,
            PRIORITY_RANK[priority],
            due,
            f"{bpmn_id}.schema.json",
            f"{bpmn_id}.uischema.json",
            bpmn_id,
            created,
            claimed,
            completed,
            completed_by,
        )


def _sqlite_value(value: Any) -> Any:
    # The text form SQLAlchemy's SQLite DateTime stores (naive UTC).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def bulk_load(db: Database, scale: Scale) -> dict[str, Any]:
    """Load the tasks the way one loads a data warehouse: secondary indexes dropped and rebuilt
    afterwards, foreign-key checks off for the load (the generator only uses existing ids)."""
    started = time.perf_counter()
    users = _users(db)
    parents = _parents(db, scale.instances)
    rows = _task_rows(scale, users, parents)
    columns = ", ".join(TASK_COLUMNS)
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if db.backend == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'human_tasks' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            cur.execute("SET session_replication_role = replica")  # no FK triggers
            with cur.copy(f"COPY human_tasks ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute("SET session_replication_role = DEFAULT")
            for _, definition in indexes:
                cur.execute(definition)
            raw.commit()
            # What autovacuum does to a settled table: statistics and the visibility map
            # (without it, index-only scans are not chosen).
            driver = raw.driver_connection
            driver.autocommit = True
            driver.execute("VACUUM ANALYZE human_tasks")
            driver.autocommit = False
        else:
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA journal_mode=OFF")
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'human_tasks' AND sql IS NOT NULL"
            )
            indexes = cur.fetchall()
            cur.execute("BEGIN")
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            marks = ", ".join("?" for _ in TASK_COLUMNS)
            cur.executemany(
                f"INSERT INTO human_tasks ({columns}) VALUES ({marks})",  # noqa: S608
                (tuple(_sqlite_value(v) for v in row) for row in rows),
            )
            for _, definition in indexes:
                cur.execute(definition)
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    finally:
        raw.close()
    return {"load_s": time.perf_counter() - started, "users": users}


# ---------------------------------------------------------------- measuring --------
def _load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None
    user.role_keys  # noqa: B018  (roles loaded while the session is open)
    return user


def sample_users(users: list[tuple[int, str]], view: str, rng: random.Random) -> int:
    if view == "mine":
        candidates = [u for u, r in users if r in TASK_ROLES]
    elif view == "team":
        candidates = [u for u, r in users if r in TASK_ROLES]
    else:
        candidates = [u for u, _ in users]
    return rng.choice(candidates)


def measure_engine(db: Database, users: list[tuple[int, str]], samples: int) -> dict[str, Any]:
    rng = random.Random(11)
    out: dict[str, Any] = {}
    with db.sessions() as session:
        cache = {uid: _load_user(session, uid) for uid, _ in users}
    for view in VIEWS:
        timings = []
        for _ in range(samples):
            user = cache[sample_users(users, view, rng)]
            with db.sessions() as session:
                start = time.perf_counter()
                page = inbox.list_tasks(session, user=user, view=view, now=NOW, limit=50)
                timings.append(time.perf_counter() - start)
            assert page.rows is not None
        out[view] = summary_ms(timings)
    return out


def explain(db: Database, users: list[tuple[int, str]]) -> dict[str, str]:
    """The plan of each view's query, captured from a real list_tasks call."""
    plans: dict[str, str] = {}
    with db.sessions() as session:
        worker = next(u for u, r in users if r == "social_worker")
        user = _load_user(session, worker)
        for view in VIEWS:
            seen: list[tuple[str, Any]] = []

            def capture(
                conn: Any,
                cursor: Any,
                statement: str,
                params: Any,
                *_: Any,
                seen: list[tuple[str, Any]] = seen,
            ) -> None:
                seen.append((statement, params))

            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                inbox.list_tasks(session, user=user, view=view, now=NOW, limit=50)
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            statement, params = next(
                (s, p) for s, p in seen if "FROM human_tasks" in s and "ORDER BY" in s
            )
            prefix = (
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
                if db.backend == "postgresql"
                else "EXPLAIN QUERY PLAN "
            )
            cursor = session.connection().connection.cursor()
            cursor.execute(prefix + statement, params)
            rows = cursor.fetchall()
            cursor.close()
            plans[view] = "\n".join(" | ".join(str(c) for c in row) for row in rows)
    return plans


def tokens_for(db: Database, users: list[tuple[int, str]]) -> dict[int, str]:
    out = {}
    with db.sessions.begin() as session:
        for uid, _ in users:
            out[uid] = create_token(session, _load_user(session, uid), name="bench", now=NOW)
    return out


def measure_http(
    base_url: str, users: list[tuple[int, str]], tokens: dict[int, str], samples: int
) -> dict[str, Any]:
    from bench.http_client import Client

    rng = random.Random(13)
    out: dict[str, Any] = {}
    clients: dict[int, Client] = {}
    for view in VIEWS:
        timings = []
        for _ in range(samples):
            uid = sample_users(users, view, rng)
            client = clients.setdefault(uid, Client(base_url, tokens[uid]))
            start = time.perf_counter()
            status, body = client.get(f"/api/v1/tasks?view={view}&limit=50")
            timings.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"GET /api/v1/tasks?view={view} -> {status}: {body[:300]!r}")
        out[view] = summary_ms(timings)
    for client in clients.values():
        client.close()
    return out


def run_backend(backend: str, scale: Scale, *, http: bool) -> dict[str, Any]:
    with fresh_database(backend) as db:
        loaded = bulk_load(db, scale)
        users = loaded["users"]
        result: dict[str, Any] = {"load_s": loaded["load_s"]}
        measure_engine(db, users, 20)  # warm caches and connections
        result["engine"] = measure_engine(db, users, scale.samples)
        result["explain"] = explain(db, users)
        if http:
            from bench.http_server import Server, web_available

            if web_available():
                tokens = tokens_for(db, users)
                with Server(db, workers=2) as server:
                    measure_http(server.url, users, tokens, 20)
                    result["http"] = measure_http(server.url, users, tokens, scale.samples)
            else:
                result["http_error"] = "the web app is not importable"
        return result


def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[OutTable]]:
    scale = QUICK if quick else FULL
    details = {b: run_backend(b, scale, http=True) for b in backends}
    engine_p95 = [v["p95"] for d in details.values() for v in d["engine"].values()]
    http_p95 = [v["p95"] for d in details.values() for v in d.get("http", {}).values()]
    results: dict[str, Any] = {
        "inbox.p95_ms_engine": max(engine_p95) if engine_p95 else None,
        "inbox.p95_ms_http": max(http_p95) if http_p95 else None,
        "inbox.open_tasks": scale.open_tasks,
        "inbox.completed_tasks": scale.completed_tasks,
        "inbox.details": details,
    }
    table = OutTable(
        f"Inbox: {scale.open_tasks:,} open + {scale.completed_tasks:,} completed tasks, "
        f"200 users, 6 roles (first page of 50, ms)",
        ("backend", "via", "view", "samples", "p50", "p95", "p99", "target p95"),
    )
    for backend, d in details.items():
        for via, target in (("engine", "<= 10"), ("http", "<= 30")):
            for view, s in d.get(via, {}).items():
                table.add(backend, via, view, s["n"], s["p50"], s["p95"], s["p99"], target)
        table.notes.append(f"{backend}: bulk load {d['load_s']:.1f} s")
        if "http_error" in d:
            table.notes.append(f"{backend}: HTTP not measured: {d['http_error']}")
    return results, [table]
