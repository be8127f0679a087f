"""Screen now from the case page: one form per instrument, scored and routed on submit."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for

from engine import cases, instruments, screenings
from engine.errors import Invalid, NotFound
from engine.forms import expand_instruments
from web import deps, formrender
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import localtime, reader_zone, role_label


def _instrument(key: str) -> instruments.Instrument:
    try:
        return instruments.get_instrument(key)
    except NotFound:
        abort(404)


def _fields(key: str) -> list[formrender.Field]:
    # The same expansion a task form gets, so the page has the same skip logic and options.
    schema = expand_instruments(
        {"type": "object", "properties": {key: {"x-instrument": key}}, "required": [key]},
        instruments.answers_schema,
    )
    return formrender.build(schema, {})


def _page(case_id: int, key: str, values: Any, errors: dict[str, str], status: int = 200) -> Any:
    instrument = _instrument(key)
    with deps.transaction() as session:
        case = cases.view_case(
            session, case_id=case_id, actor=g.user, clock=deps.clock(), section="screening"
        )
        client = case.client.display_name
    return (
        render_template(
            "pages/screen.html",
            case_id=case_id,
            client=client,
            instrument=instrument,
            form_html=formrender.render(_fields(key), values, errors, zone=reader_zone()),
            errors=errors,
        ),
        status,
    )


@bp.get("/cases/<int:case_id>/screen/<key>")
@login_required
@require_roles(*screenings.SCREENING_ROLES)
def screen_form(case_id: int, key: str) -> Any:
    return _page(case_id, key, {}, {})


@bp.post("/cases/<int:case_id>/screen/<key>")
@login_required
@require_roles(*screenings.SCREENING_ROLES)
def screen_submit(case_id: int, key: str) -> Any:
    values = formrender.values_from_form(request.form)
    values.pop("csrf_token", None)
    fields = _fields(key)
    parsed = formrender.parse(fields, values, zone=reader_zone())
    try:
        if parsed.errors:
            raise Invalid("Some answers need attention.", code="invalid_answers", details=[])
        with deps.transaction() as session:
            screen = screenings.screen_now(
                session,
                case_id=case_id,
                instrument=key,
                answers=parsed.data.get(key, {}),
                actor=g.user,
                clock=deps.clock(),
                site=deps.site(),
            )
            steps = [
                f"{t.name} ({t.priority}, {role_label(t.role)}, due {localtime(t.due_at)})"
                for t in screen.created_tasks
            ]
            result = screen.result
    except Invalid as exc:
        # Item errors name the item (q3); on this page the field is <instrument>.q3.
        items = exc.details if isinstance(exc.details, list) else []
        details = [{**d, "field": f"{key}.{d.get('field')}"} for d in items]
        errors = formrender.errors_by_field(details, parsed.errors)
        return _page(case_id, key, values, errors or {"(form)": exc.public_message}, 422)
    deps.committed()
    outcome = ", ".join(
        str(p).replace("_", " ")
        for p in (result.band, result.risk_level and f"{result.risk_level} risk", *result.flags)
        if p
    )
    next_steps = f" Next: {'; '.join(steps)}." if steps else ""
    flash(f"{_instrument(key).title} recorded ({outcome or 'no findings'}).{next_steps}", "notice")
    return redirect(url_for("pages.case", case_id=case_id))
