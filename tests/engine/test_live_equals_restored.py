"""A workflow kept live between commands behaves exactly as one restored from its stored state:
what a script leaves in task data is converted to JSON's types, or refused, as it leaves the
script, so the next command sees the same values on either path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine import accounts, definitions, instances
from engine.clock import FrozenClock
from engine.errors import CareBridgeError
from engine.instances import ProcessInstance
from engine.instances.live import LIVE
from engine.workflow import runtime

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "engine"

# Both paths are driven here, whatever --live-workflows says.
pytestmark = pytest.mark.live_workflows("on")


def _diagram(keep: str, use: str, key: str) -> bytes:
    text = (FIXTURE / "script_leaves_values.bpmn").read_text()
    text = text.replace("KEEP_SCRIPT", escape(keep)).replace("USE_SCRIPT", escape(use))
    return text.replace('id="script_leaves_values"', f'id="{key}"').encode()


def _run(committed, *, keep: str, use: str, live: bool, key: str) -> dict[str, Any]:
    """Start, complete `first` and `review`; each completion either on the workflow the last
    commit left live or (live=False) on one restored from the stored state. The outcome: the
    error of the first command that failed, or the final task data."""
    clock = FrozenClock(T0)
    with committed.begin() as s:
        worker = accounts.create_user(
            s, username=f"sw-{key}", display_name="sw", roles=["social_worker"]
        )
        [deployed] = definitions.deploy(s, {f"{key}.bpmn": _diagram(keep, use, key)}, now=T0)
    with committed.begin() as s:
        started = instances.start_process(
            s, process_key=deployed.definition.process_key, case=None, actor=worker, clock=clock
        )
        [task] = started.created_tasks
        instance_id = started.instance.id
    outcome: dict[str, Any] = {}
    for _ in ("first", "review"):
        if not live:
            LIVE.clear()
        hits = LIVE.hits
        try:
            with committed.begin() as s:
                result = instances.complete_task(
                    s, task_id=task.id, data={}, actor=worker, clock=clock
                )
        except CareBridgeError as exc:
            outcome["error"] = (type(exc).__name__, exc.code, exc.public_message)
            break
        assert (LIVE.hits == hits + 1) is live  # the path asked for was the path taken
        if result.created_tasks:
            [task] = result.created_tasks
    with committed() as s:
        instance = s.get(ProcessInstance, instance_id)
        spec, subspecs = definitions.specs_for(instance.definition)
        wf = runtime.loads(instance.state, spec, subspecs, instances.services.script_engine())
        outcome["status"] = instance.status
        outcome["data"] = {
            k: v for k, v in wf.last_task.data.items() if k not in ("case_id", "client_id")
        }
    return outcome


def _both(committed, *, keep: str, use: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    live = _run(committed, keep=keep, use=use, live=True, key=f"{key}_live")
    restored = _run(committed, keep=keep, use=use, live=False, key=f"{key}_restored")
    return live, restored


def test_a_set_left_in_task_data_fails_alike_live_and_restored(committed) -> None:
    live, restored = _both(
        committed, keep='seen = {"food"}', use='seen.add("rent")\nn = len(seen)', key="set"
    )

    assert live == restored
    kind, code, message = live["error"]
    assert (kind, code) == ("ScriptError", "script_error")
    assert message.startswith("keep: variable 'seen' holds a set")


def test_a_tuple_left_in_task_data_is_a_list_on_both_paths(committed) -> None:
    live, restored = _both(
        committed, keep="pair = (1, 2)", use="pair.append(3)\nn = len(pair)", key="tuple"
    )

    assert live == restored
    assert "error" not in live
    assert live["data"]["pair"] == [1, 2, 3]
    assert live["data"]["n"] == 3


def test_int_keys_and_dates_are_stored_as_text_on_both_paths(committed) -> None:
    live, restored = _both(
        committed,
        keep="by_day = {1: 'mon'}\nwhen = date(2026, 3, 2)",
        use="day = by_day['1']\nyear = when[:4]",
        key="keys",
    )

    assert live == restored
    assert "error" not in live
    assert (live["data"]["day"], live["data"]["year"]) == ("mon", "2026")
