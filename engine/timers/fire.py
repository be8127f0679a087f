"""Firing lives with the other instance commands; re-exported here for the scheduler."""

from __future__ import annotations

from typing import Any


def fire(session: Any, **kwargs: Any) -> bool:
    from engine.instances.services import fire_timer

    return fire_timer(session, **kwargs)
