"""The inbox: my tasks, my roles' queue, overdue work and today's follow-ups."""

from __future__ import annotations

from datetime import timedelta

from flask import g, render_template, request

from engine import access, pages_view, tasks_view
from engine.inbox import counts as count_views
from engine.inbox import list_tasks
from engine.inbox.queries import COUNT_CAP
from web import deps
from web.auth import login_required
from web.pages import bp

TABS = (
    ("mine", "My tasks"),
    ("team", "Team queue"),
    ("overdue", "Overdue"),
    ("followup", "Follow-up today"),
)
PAGE_SIZE = 50


@bp.get("/")
@login_required
def inbox() -> str:
    view = request.args.get("view", "mine")
    sort = request.args.get("sort", "due")
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
        tabs=TABS,
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
