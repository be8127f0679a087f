from engine.discharge.payload import DISPOSITIONS, Discharge, parse_discharge
from engine.discharge.services import (
    DISCHARGED,
    INPATIENT_CARE_ENDED,
    PROCESS_KEY,
    deadlines,
    end_inpatient_work,
    handle_discharge_message,
    subscribe,
)

__all__ = [
    "DISCHARGED",
    "DISPOSITIONS",
    "INPATIENT_CARE_ENDED",
    "PROCESS_KEY",
    "Discharge",
    "deadlines",
    "end_inpatient_work",
    "handle_discharge_message",
    "parse_discharge",
    "subscribe",
]
