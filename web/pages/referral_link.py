"""`/r/<token>`: the receiving organisation's page for one referral, without an account.

The signed token is the only credential and names one referral (engine.referrals.links):
no other referral or client can be reached from it. It is exempt from the session CSRF
check because it carries no session: a forged cross-site POST would need the token itself.
GET shows the referral; POST answers it (form fields or a JSON body: action, reason,
reason_code, optionally referral_id, which must be the link's own)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from engine import referrals
from web import deps
from web.auth import csrf
from web.pages import bp


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _view(link: referrals.Link, client: Any) -> dict[str, Any]:
    r = link.referral
    contact: dict[str, Any] = {
        "name": client.display_name if client else None,
        "preferred_language": client.preferred_language if client else None,
        "interpreter_needed": bool(client and client.interpreter_needed),
    }
    if not r.do_not_contact and client is not None:
        contact["phone"] = client.phone
    return {
        "id": r.id,
        "status": r.status,
        "need": r.need,
        "organization_name": r.organization_name,
        "service_name": r.service_name,
        "do_not_contact": r.do_not_contact,
        "order_detail": r.order_detail,
        "client": contact,
        "expires_at": link.expires_at.isoformat(),
        "legal_next": sorted(referrals.legal_next(r.status)),
    }


def _answers(status: str) -> list[str]:
    nxt = referrals.legal_next(status)
    return [a for a, s in referrals.LINK_ACTIONS.items() if s in nxt]


@bp.get("/r/<token>")
def referral_link(token: str) -> Any:
    clock = deps.clock()
    with deps.transaction() as session:
        link = referrals.view_by_link(
            session, token=token, secret=deps.deps().settings.secret_key, clock=clock
        )
        view = _view(link, link.client)
    if _wants_json():
        return {"referral": view}
    return render_template(
        "pages/referral_link.html",
        referral=view,
        answers=_answers(view["status"]),
        reason_codes=referrals.REASON_CODES,
        token=token,
        done=None,
    )


@bp.post("/r/<token>")
@csrf.exempt
def referral_link_answer(token: str) -> Any:
    body: dict[str, Any] = (
        (request.get_json(silent=True) or {}) if request.is_json else request.form.to_dict()
    )
    named = body.get("referral_id")
    try:
        referral_id = int(named) if named not in (None, "") else None
    except (TypeError, ValueError):
        referral_id = -1  # names no referral: refused as another referral's
    clock = deps.clock()
    with deps.transaction() as session:
        link, _results = referrals.answer_by_link(
            session,
            token=token,
            secret=deps.deps().settings.secret_key,
            action=body.get("action"),
            reason=body.get("reason") or None,
            reason_code=body.get("reason_code") or None,
            referral_id=referral_id,
            clock=clock,
            site=deps.site(),
        )
        view = _view(link, link.client)
    deps.committed()
    if request.is_json:
        return {"referral": view}
    return render_template(
        "pages/referral_link.html",
        referral=view,
        answers=_answers(view["status"]),
        reason_codes=referrals.REASON_CODES,
        token=token,
        done=view["status"],
    )
