"""Code systems and the CareBridge -> FHIR code tables (Gravity SDOH Clinical Care IG)."""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
MRN_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
# Our own identifiers: the hospital MRN system is configured by the site; until then ours.
CAREBRIDGE = "urn:carebridge"
MRN_SYSTEM = f"{CAREBRIDGE}:mrn"
SOCIAL_WORK_SNOMED = "410606002"  # Social service procedure (Gravity's referral category)

# An AHC HRSN flag -> Gravity SDOH category code (SDOHCC temporary codes).
SDOH_CATEGORY_OF_FLAG = {
    "housing_instability": "housing-instability",
    "housing_quality": "inadequate-housing",
    "food_insecurity": "food-insecurity",
    "transportation": "transportation-insecurity",
    "utilities": "utility-insecurity",
    "interpersonal_safety": "intimate-partner-violence",
}
# A referral's need (care-plan need key) -> Gravity SDOH category code.
SDOH_CATEGORY_OF_NEED = {
    "housing": "housing-instability",
    "food": "food-insecurity",
    "transportation": "transportation-insecurity",
    "utilities": "utility-insecurity",
    "safety": "intimate-partner-violence",
    "financial": "financial-insecurity",
}
# Gravity SDOH problem (Condition.code) per flag: SNOMED CT findings the IG's value sets use.
CONDITION_CODE_OF_FLAG = {
    "housing_instability": ("32911000", "Homeless (finding)"),
    "housing_quality": ("105531004", "Unsatisfactory living conditions (finding)"),
    "food_insecurity": ("733423003", "Food insecurity (finding)"),
    "transportation": ("713458007", "Lack of access to transportation (finding)"),
    "utilities": ("1156191002", "Utility service insecurity (finding)"),
    "interpersonal_safety": ("706893006", "Victim of intimate partner abuse (finding)"),
}

# Referral status (CARE.md state machine, already Gravity Task.status values) -> the
# ServiceRequest.status that goes with it in the IG's closed-loop pattern.
SERVICE_REQUEST_STATUS = {
    "draft": "draft",
    "requested": "active",
    "accepted": "active",
    "in-progress": "active",
    "on-hold": "on-hold",
    "rejected": "revoked",
    "cancelled": "revoked",
    "completed": "completed",
    "failed": "completed",
    "entered-in-error": "entered-in-error",
}
TASK_STATUS = {"draft": "draft"}  # every other referral status is a Task.status already
