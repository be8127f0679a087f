from engine.assessments.models import Assessment
from engine.assessments.services import (
    assessments_for_case,
    flag_case,
    record_assessment,
    score_form,
    summarize,
)

__all__ = [
    "Assessment",
    "assessments_for_case",
    "flag_case",
    "record_assessment",
    "score_form",
    "summarize",
]
