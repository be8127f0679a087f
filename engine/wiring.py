"""Start-up wiring: the feature modules subscribe to the core's events.

Called once by every program's start (web.create_app, the CLI's group, which also starts the
scheduler) and by the tests' conftest; calling it again subscribes nobody twice. This is the one
engine module that knows every feature: the core emits without knowing who listens.

The order matters where several features listen to one event: a task's own rules (the case
rules) refuse or add data before referrals act on it; the discharge message is offered to
engine.discharge first; withdrawn outreach is audited before its alarms are closed; referrals a
care plan starts come before the do-not-contact plan task its screens may open.
"""

from __future__ import annotations

from engine import alarms, client_flags, discharge, outreach, referrals
from engine.discharge import rules
from engine.drafts import subscribers as drafts
from engine.events import REGISTRY, Registry
from engine.reports import subscribers as reports


def wire(registry: Registry = REGISTRY) -> Registry:
    rules.subscribe(registry)
    outreach.subscribe(registry)
    reports.subscribe(registry)
    alarms.subscribe(registry)
    drafts.subscribe(registry)
    discharge.subscribe(registry)
    referrals.subscribe(registry)
    client_flags.subscribe(registry)
    return registry
