"""`pytest --live-workflows=on|off` (and CAREBRIDGE_LIVE_WORKFLOWS=0) switch the cache for every
test, and apps built in tests read the same choice through load_settings."""

from __future__ import annotations

import pytest

from engine.instances.live import LIVE
from engine.settings import load_settings


def test_the_cache_follows_the_option(live_workflows_mode: str, request) -> None:
    assert live_workflows_mode == request.config.getoption("--live-workflows")
    assert LIVE.enabled is (live_workflows_mode == "on")
    assert (load_settings(secret_key="x").live_workflows == 0) is (live_workflows_mode == "off")


@pytest.mark.live_workflows("on")
def test_a_marker_overrides_the_option(live_workflows_mode: str) -> None:
    assert live_workflows_mode == "on"
    assert LIVE.enabled
