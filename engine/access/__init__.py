"""Record-level access: who reads which case, break-glass, and masking of sensitive sections."""

from engine.access.masking import (
    MASKED,
    mask_answers,
    mask_data,
    mask_details,
    sensitive_fields,
)
from engine.access.models import BreakGlassGrant
from engine.access.rules import (
    MANAGERS,
    Basis,
    CaseAccess,
    RecordAccessDenied,
    active_grant,
    case_access,
    readable_cases,
    readable_tasks,
    require_case_read,
    require_client_read,
)
from engine.access.services import (
    DEFAULT_BREAK_GLASS_MINUTES,
    BreakGlassUse,
    break_glass,
    break_glass_count,
    break_glass_report,
    record_list_read,
    record_refusal,
)

__all__ = [
    "DEFAULT_BREAK_GLASS_MINUTES",
    "MANAGERS",
    "MASKED",
    "Basis",
    "BreakGlassGrant",
    "BreakGlassUse",
    "CaseAccess",
    "RecordAccessDenied",
    "active_grant",
    "break_glass",
    "break_glass_count",
    "break_glass_report",
    "case_access",
    "mask_answers",
    "mask_data",
    "mask_details",
    "readable_cases",
    "readable_tasks",
    "record_list_read",
    "record_refusal",
    "require_case_read",
    "require_client_read",
    "sensitive_fields",
]
