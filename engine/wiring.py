"""Start-up wiring: the feature modules subscribe to the core's events.

Called once by every program's start (web.create_app, the CLI's group, which also starts the
scheduler) and by the tests' conftest; calling it again subscribes nobody twice. This is the one
engine module that knows every feature: the core emits without knowing who listens.
"""

from __future__ import annotations

from engine import referrals
from engine.events import REGISTRY, Registry


def wire(registry: Registry = REGISTRY) -> Registry:
    referrals.subscribe(registry)
    return registry
