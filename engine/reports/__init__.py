"""Quality reports for supervisors: figures computed from the projections the engine keeps
(human_tasks, cases, referrals, assessments), read through indexes. docs/reports.md defines
every figure."""

from engine.reports.common import Filters, Report
from engine.reports.drilldown import report_cases
from engine.reports.heat import definition_heat
from engine.reports.outcomes import outcome_of
from engine.reports.period import Period, parse_period
from engine.reports.registry import (
    MANAGERS,
    REPORT_NAMES,
    Request,
    allowed_filters,
    require_report,
    run_report,
)

__all__ = [
    "MANAGERS",
    "REPORT_NAMES",
    "Filters",
    "Period",
    "Report",
    "Request",
    "allowed_filters",
    "definition_heat",
    "outcome_of",
    "parse_period",
    "report_cases",
    "require_report",
    "run_report",
]
