"""Valid form posts for the shipped pathway's first tasks, as a browser would send them."""

from __future__ import annotations

INTAKE = {
    "referral_date": "2026-03-02",
    "referral_source": "physician",
    "reason_for_referral": "Lives alone; worried about managing at home.",
    "living_situation": "alone",
    "primary_language": "English",
    "interpreter_needed": "false",
    "consent_to_social_work": "client",
}

ASSESSMENT = {
    "assessment_date": "2026-03-02",
    "setting": "bedside",
    "family_and_support": "Daughter visits weekly.",
    "finances": "Pension; no debts.",
    "housing": "Rented flat, second floor, no lift.",
    "coping": "Low but coping.",
    "strengths": "Good humour, close to neighbours.",
    "goals": "Go home safely.",
    "cssrs.q1": "false",
    "cssrs.q2": "false",
    "cssrs.q6": "false",
    "phq2.q1": "0",
    "phq2.q2": "1",
    "ahc_hrsn.q1": "steady",
    "ahc_hrsn.q3": "never",
    "ahc_hrsn.q4": "never",
    "ahc_hrsn.q5": "false",
    "ahc_hrsn.q6": "no",
    "ahc_hrsn.q7": "1",
    "ahc_hrsn.q8": "1",
    "ahc_hrsn.q9": "1",
    "ahc_hrsn.q10": "1",
}

HIGH_RISK = {
    **ASSESSMENT,
    "cssrs.q2": "true",
    "cssrs.q3": "true",
    "cssrs.q4": "true",
    "cssrs.q5": "false",
}
