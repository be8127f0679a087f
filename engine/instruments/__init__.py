"""Screening instruments (PHQ-2/9, GAD-7, AHC HRSN, C-SSRS and site imports): definitions
as data, scoring driven by those definitions, and the answers' JSON Schema for forms."""

from engine.instruments.definitions import (
    Band,
    Condition,
    Flag,
    Instrument,
    Item,
    Option,
    RiskRule,
    get_instrument,
    import_definition,
    list_instruments,
    validate_definition,
)
from engine.instruments.scoring import (
    DECLINED,
    DECLINED_LABEL,
    INCOMPLETE_FLAG,
    ScoreResult,
    answers_schema,
    score,
    score_answers,
)

__all__ = [
    "DECLINED",
    "DECLINED_LABEL",
    "INCOMPLETE_FLAG",
    "Band",
    "Condition",
    "Flag",
    "Instrument",
    "Item",
    "Option",
    "RiskRule",
    "ScoreResult",
    "answers_schema",
    "get_instrument",
    "import_definition",
    "list_instruments",
    "score",
    "score_answers",
    "validate_definition",
]
