"""Hard limits on diagram code: it runs in sandbox worker processes (engine.workflow.sandbox_pool)
with an address-space limit and a wall-clock kill, so one runaway script fails its own command
and nothing else waits for it."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.clock import FrozenClock
from engine.errors import ScriptError
from engine.workflow import runtime, scripting
from engine.workflow.sandbox_pool import KILL_GRACE_S, SANDBOX
from engine.workflow.scripting import RestrictedEnvironment, make_script_engine
from scheduler import TimerRunner
from tests.engine.test_invariants import T0, _deploy_fixture, _start_many
from tests.engine.test_scripting import BPMN, HIGH

TIMEOUT = 0.5
# Past the deadline: the kill, reaping it, and a loaded CI machine (the old in-thread limit
# let `10**10**7` run 11 s).
LATEST = TIMEOUT + KILL_GRACE_S + 3.0


def run(script: str, data: dict[str, Any] | None = None) -> tuple[ScriptError, float]:
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        RestrictedEnvironment(timeout_s=TIMEOUT).execute(script, dict(data or {}))
    return caught.value, time.monotonic() - started


def test_a_huge_power_is_killed_at_the_deadline() -> None:
    error, elapsed = run("x = 10**10**7")
    assert "exceeded" in error.public_message
    assert elapsed < LATEST


def test_a_gigabyte_string_hits_the_memory_limit() -> None:
    error, elapsed = run("x = 'x' * 10**9")
    assert "memory limit" in error.public_message
    assert elapsed < LATEST


def test_a_two_gigabyte_list_hits_the_memory_limit() -> None:
    error, _ = run("x = [0] * (2 * 1024**3 // 8)")
    assert "memory limit" in error.public_message


def test_a_two_gigabyte_string_hits_the_memory_limit() -> None:
    error, _ = run("x = 'y' * (2 * 1024**3)")
    assert "memory limit" in error.public_message


def test_an_endless_loop_stops_at_the_deadline() -> None:
    error, elapsed = run("while True: pass")
    assert "exceeded" in error.public_message
    assert elapsed < LATEST


def test_an_expression_is_bounded_too() -> None:
    started = time.monotonic()
    with pytest.raises(ScriptError, match="exceeded"):
        RestrictedEnvironment(timeout_s=TIMEOUT).evaluate("10**10**7 > 0", {})
    assert time.monotonic() - started < LATEST


def test_the_next_script_runs_after_a_worker_was_killed() -> None:
    killed = SANDBOX.killed
    run("x = 10**10**7")
    assert SANDBOX.killed == killed + 1
    context: dict[str, Any] = {"a": 2}
    RestrictedEnvironment(timeout_s=TIMEOUT).execute("b = a * 21", context)
    assert context["b"] == 42


def _stuck(limit: float) -> None:
    with pytest.raises(ScriptError, match="exceeded"):
        RestrictedEnvironment(timeout_s=limit).execute("x = 10**10**8", {})


def test_other_threads_keep_running_while_a_script_is_stuck() -> None:
    stuck = threading.Thread(target=_stuck, args=(3.0,))
    stuck.start()
    time.sleep(0.1)  # the stuck script is now inside its C-level power
    # Pure Python in this process gets the interpreter (the GIL is not held by the script) ...
    started, spins = time.monotonic(), 0
    while time.monotonic() - started < 0.2:
        spins += 1
    # ... and another command's script runs at once in another worker.
    context: dict[str, Any] = {"a": 1}
    began = time.monotonic()
    RestrictedEnvironment(timeout_s=TIMEOUT).execute("b = a + 1", context)
    answered_in = time.monotonic() - began
    still_stuck = stuck.is_alive()
    stuck.join()

    assert still_stuck
    assert context["b"] == 2
    assert answered_in < 2.0  # well before the stuck script's 3 s limit, even on a busy machine
    assert spins > 10_000


def test_a_workflow_script_over_its_limit_fails_naming_its_element() -> None:
    parser = SpiffBpmnParser()
    xml = BPMN.format(script="x = 'x' * 10**9", condition=HIGH, timer='"PT24H"')
    parser.add_bpmn_str(xml.encode(), filename="triage.bpmn")
    engine = make_script_engine(timeout_s=TIMEOUT)

    with pytest.raises(ScriptError) as caught:
        runtime.start(parser.get_spec("triage"), {}, engine, {"phq9_total": 3})

    assert caught.value.public_message.startswith("score: ")
    assert "memory limit" in caught.value.public_message
    assert caught.value.details[0]["element_id"] == "score"


def test_a_condition_over_its_limit_fails_naming_its_gateway() -> None:
    parser = SpiffBpmnParser()
    script = 'screening = {"risk_level": "high"}'
    xml = BPMN.format(script=script, condition="10**10**7 > 1", timer='"PT24H"')
    parser.add_bpmn_str(xml.encode(), filename="triage.bpmn")
    engine = make_script_engine(timeout_s=TIMEOUT)

    with pytest.raises(ScriptError) as caught:
        runtime.start(parser.get_spec("triage"), {}, engine, {"phq9_total": 3})

    assert "exceeded" in caught.value.public_message
    assert caught.value.public_message.startswith("risk: ")


@pytest.mark.parametrize(
    "expression",
    [
        'screening["risk_level"] == "high"',
        "len(needs) > 1 and 'food' in needs",
        'score >= 10 and flags.get("x") is None',
    ],
)
def test_plain_conditions_run_in_this_process(expression: str) -> None:
    assert scripting._cheap_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "10**10**7 > 1",
        "len('x' * 10**9) > 0",
        "1 << 10**9",
        "'%0999999999d' % 1",
        "sum(range(10**5)) > 0",
        "[x for x in needs]",
        "round(5, -10**9)",
        "a + a + a + a + a + a + a + a + a + a",
    ],
)
def test_conditions_that_could_run_away_go_to_a_worker(expression: str) -> None:
    assert not scripting._cheap_expression(expression)


def test_a_forked_process_starts_its_own_workers() -> None:
    RestrictedEnvironment(timeout_s=TIMEOUT).execute("a = 1", {})  # the pool has a worker
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not talk to the parent's worker
        context: dict[str, Any] = {"a": 20}
        try:
            RestrictedEnvironment(timeout_s=TIMEOUT).execute("b = a + 1", context)
            os.write(write, str(context["b"]).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"21"
    os.close(read)
    here: dict[str, Any] = {"a": 1}
    RestrictedEnvironment(timeout_s=TIMEOUT).execute("b = a + 1", here)  # ours still work
    assert here["b"] == 2


def test_the_timer_scheduler_fires_while_a_script_is_stuck(committed) -> None:
    clock = FrozenClock(T0)
    key = _deploy_fixture(committed, "timer_wait.bpmn")
    _start_many(committed, key, 3, clock)
    clock.advance(minutes=2)
    runner = TimerRunner(committed, clock=clock, owner="during-stuck-script")
    stuck = threading.Thread(target=_stuck, args=(3.0,))
    stuck.start()
    time.sleep(0.1)
    began = time.monotonic()
    fired = runner.run_due()
    took = time.monotonic() - began
    still_stuck = stuck.is_alive()
    stuck.join()

    assert fired == 3
    assert still_stuck
    assert took < 2.0
