"""Sample form data for every shipped task: used by the demo and, as valid data, by tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

INTAKE = {
    "referral_date": "2026-03-02",
    "referral_source": "physician",
    "reason_for_referral": "Lives alone after a fall; worried about managing at home.",
    "living_situation": "alone",
    "primary_language": "English",
    "interpreter_needed": False,
    "consent_to_social_work": "client",
}
NARRATIVE = {
    "assessment_date": "2026-03-02",
    "setting": "bedside",
    "family_and_support": "Daughter nearby, visits weekly.",
    "finances": "Fixed income; short at month end.",
    "housing": "Rents a second-floor flat.",
    "coping": "Low mood since a bereavement.",
    "strengths": "Church community; motivated to go home.",
    "goals": "Go home safely.",
}
AHC_NO_NEEDS = {
    "q1": "steady",
    "q2": [],
    "q3": "never",
    "q4": "never",
    "q5": False,
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}
AHC_FOOD_HOUSING = {**AHC_NO_NEEDS, "q1": "worried", "q3": "often", "q4": "sometimes"}
# Interpersonal safety sum 12 (> 10): positive, so the case becomes do-not-contact.
AHC_UNSAFE = {**AHC_NO_NEEDS, "q7": 3, "q8": 3, "q9": 3, "q10": 3}
CSSRS_NONE = {"q1": False, "q2": False, "q6": False}
CSSRS_HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
CSSRS_MODERATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
PHQ9_ITEM9 = {f"q{i}": 0 for i in range(1, 9)} | {"q9": 1}  # total 1 ("minimal"), item 9 positive


def assessment(
    *,
    phq2: Mapping[str, int] | None = None,
    cssrs: Mapping[str, Any] = CSSRS_NONE,
    ahc: Mapping[str, Any] = AHC_NO_NEEDS,
    phq9: Mapping[str, Any] | None = None,
    gad7: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    data = {
        **NARRATIVE,
        "phq2": dict(phq2 or {"q1": 0, "q2": 1}),
        "cssrs": dict(cssrs),
        "ahc_hrsn": dict(ahc),
    }
    if phq9 is not None:
        data["phq9"] = dict(phq9)
    if gad7 is not None:
        data["gad7"] = dict(gad7)
    return data


def care_plan(needs: tuple[str, ...] = ("food",), interval: str = "P14D") -> dict[str, Any]:
    return {
        "goal_1": "Food at home every day of the month.",
        "needs": list(needs),
        "client_agrees": True,
        "followup_interval": interval,
    }


REFERRAL = {
    "referral_made": True,
    "need": "food",
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "contact_made": True,
    "consent_to_share_recorded": True,
}
HOUSING_REFERRAL = {
    "referral_made": True,
    "need": "housing",
    "organisation_name": "City Housing Help Desk",
    "service": "Emergency rental assistance",
    "consent_to_share_recorded": True,
}
SAFETY_REFERRAL = {
    "referral_made": True,
    "need": "safety",
    "organisation_name": "Harbor Domestic Violence Services",
    "service": "Safety planning and advocacy",
    "consent_to_share_recorded": True,
}
TCM_UNREACHABLE = {
    "attempted_at": "2026-03-03T10:00:00-05:00",
    "method": "phone",
    "outcome": "unreachable",
    "unreachable_reason": "no_answer",
}
CRISIS = {
    "risk_summary": "Screen positive for active ideation with intent.",
    "client_safe": True,
    "actions_taken": ["stayed_with_client"],
    "lifeline_988_given": True,
    "safety_plan_started": True,
    "physician_notified": True,
}
SAFETY = {
    "one_to_one_observation": True,
    "environment_sweep": True,
    "belongings_searched": True,
    "physician_notified": True,
    "precautions_started_at": "2026-03-02T10:20:00-05:00",
}

SAFETY_PLAN = {
    "plan_status": "completed",
    "warning_signs": "Can't sleep; stops answering the phone.",
    "internal_coping": "Walk; music; cold shower.",
    "distraction_people_places": "Brother Mike; the gym.",
    "people_to_ask_for_help": "Mike (brother), 555-0142.",
    "professionals_and_agencies": "Outpatient clinic; 988 Suicide & Crisis Lifeline.",
    "lifeline_988_listed": True,
    "making_environment_safe": "Mike holds the medication; no firearms at home.",
    "reasons_for_living": "My daughter's wedding in June; the dog.",
    "copy_given": True,
}
CSSRS_SCREEN = {
    "setting": "bedside",
    "cssrs": {"q1": True, "q2": False, "q6": False},  # low: a wish to be dead only
}
BH_CONSULT = {"outcome": "seen_by_physician", "observation_ordered": False}
RISK_REVIEW = {"decision": "plan_agreed"}
LOW_RISK = {
    "lifeline_988_given": True,
    "safety_plan_offer": "declined",
    "rescreen_at_next_contact": True,
}
SAFETY_ESCALATION = {"action": "attended", "client_safe": True}
PHYSICIAN_REVIEW = {"evaluation": "seen_by_physician", "precautions_continue": True}


def followup(decision: str = "close") -> dict[str, Any]:
    return {
        "contact_date": "2026-03-16",
        "contact_outcome": "reached_client",
        "referral_outcome": "got_help" if decision == "close" else "in_progress",
        "goals_progress": "met" if decision == "close" else "progressing",
        "decision": decision,
        "reason": "Needs met." if decision == "close" else "Still waiting for services.",
    }


CLOSING = {
    "closed_on": "2026-03-30",
    "summary": "Needs met; client at home with support.",
    "outcome": "needs_met",
    "goals_met": "all",
}

FUH_ATTENDED = {
    "visit_status": "attended",
    "visit_date": "2026-03-06",
    "practitioner": "Eastside CMHC",
}
FYI = {"acknowledged": True}
AMA_REVIEW = {
    "actions": ["risk_screens_reviewed", "tcm_expedited"],
    "note": "Reviewed the same day.",
}
SAFE_CONTACT_PLAN = {"channel": "care_team", "supervisor_informed": True}
GAD7_MODERATE = {"q1": 2, "q2": 2, "q3": 2, "q4": 1, "q5": 1, "q6": 1, "q7": 1}  # total 10

# Form data by task id, for the demo's scripted steps.
STEP_DATA: dict[str, Callable[[], dict[str, Any]]] = {
    "intake": lambda: dict(INTAKE),
    "assessment": assessment,
    "care_plan": care_plan,
    "send_referral": lambda: dict(REFERRAL),
    "crisis_response": lambda: dict(CRISIS),
    "physician_review": lambda: dict(PHYSICIAN_REVIEW),
    "crisis_safety_plan": lambda: dict(SAFETY_PLAN),
    "safety_plan": lambda: dict(SAFETY_PLAN),
    "moderate_safety_plan": lambda: dict(SAFETY_PLAN),
    "low_safety_plan": lambda: dict(SAFETY_PLAN),
    "safety_precautions": lambda: dict(SAFETY),
    "ordered_precautions": lambda: dict(SAFETY),
    "cssrs_screen": lambda: dict(CSSRS_SCREEN),
    "bh_consult": lambda: dict(BH_CONSULT),
    "shift_review": lambda: dict(RISK_REVIEW),
    "low_risk_followup": lambda: dict(LOW_RISK),
    "response_escalation": lambda: dict(SAFETY_ESCALATION),
    "precautions_escalation": lambda: dict(SAFETY_ESCALATION),
    "ordered_precautions_escalation": lambda: dict(SAFETY_ESCALATION),
    "followup_review": followup,
    "followup_review_safe": lambda: {
        **followup(),
        "contact_outcome": "through_care_team",
    },
    "phone_assessment": lambda: {**assessment(), "setting": "phone"},
    "fuh_7_check": lambda: dict(FUH_ATTENDED),
    "fuh_30_check": lambda: dict(FUH_ATTENDED),
    "ama_review": lambda: dict(AMA_REVIEW),
    "discharge_notice": lambda: dict(FYI),
    "declined_fyi": lambda: dict(FYI),
    "plan_safe_contact": lambda: dict(SAFE_CONTACT_PLAN),
    "close_case": lambda: dict(CLOSING),
}
