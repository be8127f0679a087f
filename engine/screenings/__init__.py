"""Screen now: score an instrument given on an open case and route it by suicide risk."""

from engine.screenings.services import (
    RESPONSE_PROCESS,
    SCREENING_ROLES,
    ScreenResult,
    screen_now,
)

__all__ = ["RESPONSE_PROCESS", "SCREENING_ROLES", "ScreenResult", "screen_now"]
