"""A script stuck in one request thread no longer stalls the server: /healthz answers meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import ScriptError
from engine.workflow.scripting import RestrictedEnvironment


def _stuck_script() -> None:
    with pytest.raises(ScriptError, match="exceeded"):
        RestrictedEnvironment(timeout_s=3.0).execute("x = 10**10**8", {})


def test_healthz_answers_while_a_script_is_stuck(client):
    stuck = threading.Thread(target=_stuck_script)
    stuck.start()
    time.sleep(0.1)
    began = time.monotonic()
    resp = client.get("/healthz")
    answered_in = time.monotonic() - began
    still_stuck = stuck.is_alive()
    stuck.join()

    assert resp.status_code == 200
    assert still_stuck
    assert answered_in < 0.5
