from engine.cases.models import Case, Client
from engine.cases.services import (
    TimelineEntry,
    get_case,
    instances_for_case,
    list_cases,
    open_case,
    timeline,
    view_case,
)

__all__ = [
    "Case",
    "Client",
    "TimelineEntry",
    "get_case",
    "instances_for_case",
    "list_cases",
    "open_case",
    "timeline",
    "view_case",
]
