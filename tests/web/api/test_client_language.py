"""The intake's language and interpreter need are stored on the client and shown on the
referral."""

from __future__ import annotations

from engine import demo

from .conftest import INTAKE, NO_RISK_CSSRS, Api, assessment


def test_intake_language_and_interpreter_go_on_the_client(api: Api):
    opened = api.open_case()
    intake = api.open_task(opened["id"], "intake")
    data = {**INTAKE, "primary_language": "Haitian Creole", "interpreter_needed": True}
    assert api.complete(intake["id"], data).status_code == 200
    client = api.case(opened["id"])["client"]
    assert (client["preferred_language"], client["interpreter_needed"]) == ("Haitian Creole", True)


def test_the_referral_shows_the_clients_language_and_interpreter_need(api: Api):
    opened = api.open_case()
    intake = api.open_task(opened["id"], "intake")
    data = {**INTAKE, "primary_language": "Spanish", "interpreter_needed": True}
    assert api.complete(intake["id"], data).status_code == 200
    task = api.open_task(opened["id"], "assessment")
    assert api.complete(task["id"], assessment(cssrs=NO_RISK_CSSRS)).status_code == 200
    task = api.open_task(opened["id"], "care_plan")
    assert api.complete(task["id"], demo.care_plan(needs=("food",))).status_code == 200
    [referral] = api.get(f"/api/v1/cases/{opened['id']}/referrals").get_json()["referrals"]
    detail = api.get(f"/api/v1/referrals/{referral['id']}").get_json()["referral"]
    assert detail["client"] == {"preferred_language": "Spanish", "interpreter_needed": True}
