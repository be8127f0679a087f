from engine.timers.models import Timer
from engine.timers.services import claim_due_timers, next_wakeup, release_lease, timer_lag_seconds

__all__ = ["Timer", "claim_due_timers", "next_wakeup", "release_lease", "timer_lag_seconds"]
