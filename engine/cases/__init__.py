from engine.cases.models import Case, Client
from engine.cases.services import (
    CaseRead,
    TimelineEntry,
    get_case,
    instances_for_case,
    list_cases,
    open_case,
    read_case,
    timeline,
    view_case,
    view_instance,
)

__all__ = [
    "CaseRead",
    "Case",
    "Client",
    "TimelineEntry",
    "get_case",
    "instances_for_case",
    "list_cases",
    "open_case",
    "read_case",
    "timeline",
    "view_case",
    "view_instance",
]
