"""The inbox: my tasks, my roles' queue, overdue work and today's follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import g, render_template, request
from sqlalchemy.orm.session import Session

from engine import access, pages_view, tasks_view
from engine.accounts import users_with_role
from engine.inbox import counts as count_views
from engine.inbox import list_tasks
from engine.inbox import summary as inbox_summary
from engine.inbox.queries import COUNT_CAP, DEFAULT_SORT
from web import deps
from web.auth import login_required
from web.pages import bp
from web.pages.common import role_label

TABS = (
    ("mine", "My tasks"),
    ("team", "Team queue"),
    ("overdue", "Overdue"),
    ("followup", "Follow-up today"),
)
# Supervisors and admins also get every open task in one list.
MANAGER_TABS = (*TABS, ("all", "All"))
PAGE_SIZE = 50
# Where supervisors select several tasks and hand them over at once.
BULK_VIEWS = ("team", "overdue", "all")


@dataclass(frozen=True)
class Candidate:
    username: str
    display_name: str
    roles_text: str


def _candidates(session: Session, roles: set[str]) -> list[Candidate]:
    """Active people of the listed tasks' roles: who a selection may be handed to."""
    found: dict[str, Candidate] = {}
    for role in sorted(roles):
        for u in users_with_role(session, role):
            found[u.username] = Candidate(
                u.username, u.display_name, ", ".join(role_label(r) for r in sorted(u.role_keys))
            )
    return sorted(found.values(), key=lambda c: c.display_name.lower())


@bp.get("/")
@login_required
def inbox() -> str:
    view = request.args.get("view", "mine")
    sort = request.args.get("sort", DEFAULT_SORT)
    client = request.args.get("client", "").strip()[:120]
    task_type = request.args.get("type", "").strip()[:200]
    after = request.args.get("after") or None
    now = deps.clock().now()
    with deps.transaction() as session:
        page = list_tasks(
            session,
            user=g.user,
            view=view,
            now=now,
            sort=sort,
            limit=PAGE_SIZE,
            after=after,
            client=client or None,
            task_type=task_type or None,
        )
        counts = count_views(session, user=g.user, now=now)
        live = inbox_summary(session, user=g.user, now=now)
        manager = g.user.has_role(*access.MANAGERS)
        bulk = manager and view in BULK_VIEWS
        candidates = _candidates(session, {r.role for r in page.rows if r.role}) if bulk else []
        types = pages_view.task_types(session)
        names = tasks_view.usernames(session, [r.assignee_id for r in page.rows], display=True)
        # Supervisors are told of break-glass use where they look first.
        glass = (
            access.break_glass_count(session, since=now - timedelta(hours=24))
            if g.user.has_role(*access.MANAGERS)
            else 0
        )
    filters = {"view": view, "sort": sort, "client": client, "type": task_type}
    return render_template(
        "pages/inbox.html",
        tabs=MANAGER_TABS if manager else TABS,
        default_sort=DEFAULT_SORT,
        live=live,
        bulk=bulk,
        bulk_candidates=candidates,
        view=view,
        sort=sort,
        page=page,
        counts=counts,
        shown={k: f"{v}+" if v >= COUNT_CAP else str(v) for k, v in counts.items()},
        types=types,
        names=names,
        filters={k: v for k, v in filters.items() if v},
        client=client,
        task_type=task_type,
        after=after,
        now=now,
        break_glass_uses=glass,
    )
