"""Every shipped diagram: deploys cleanly, starts, and survives a serialize/deserialize round trip
at each wait state — a change that would strand live instances fails here first."""

from __future__ import annotations

from typing import Any

import pytest

from engine import demo
from engine.definitions.services import read_diagrams, read_forms
from engine.instances.services import script_engine
from engine.settings import ROOT
from engine.workflow import parsing, runtime

DIAGRAMS = read_diagrams(ROOT / "processes")
BUNDLES = {
    b.process_id: b
    for b in parsing.prepare(DIAGRAMS, library=DIAGRAMS, forms=read_forms(ROOT / "forms"))
}
SEED = {"case_id": 1, "client_id": 1, "do_not_contact": False, "behavioral_health": False}
# The engine starts screening_response with a scored screen: this one (PHQ-9 item 9 positive,
# no C-SSRS) waits at the stat C-SSRS screen.
PROCESS_SEED: dict[str, dict[str, Any]] = {
    "screening_response": {
        "screening": {
            "risk_level": "none",
            "suicide_ideation": True,
            "cssrs_done": False,
            "reasons": ["PHQ-9 item 9: Several days"],
            "bands": {"phq9": "mild"},
            "needs": [],
        }
    }
}


def _round_trip(wf: Any, bundle: parsing.ProcessBundle) -> Any:
    spec, subspecs = parsing.load_specs(bundle.files, bundle.process_id)
    state = runtime.dumps(wf)
    restored = runtime.loads(state, spec, subspecs, script_engine())
    assert runtime.dumps(restored) == state
    return restored


def test_every_shipped_diagram_deploys_without_warnings() -> None:
    assert all(not b.warnings for b in BUNDLES.values()), {
        k: b.warnings for k, b in BUNDLES.items() if b.warnings
    }


@pytest.mark.parametrize("process_id", sorted(BUNDLES))
def test_every_shipped_process_starts_and_round_trips(process_id: str) -> None:
    bundle = BUNDLES[process_id]
    spec, subspecs = parsing.load_specs(bundle.files, process_id)
    wf = runtime.start(spec, subspecs, script_engine(), SEED | PROCESS_SEED.get(process_id, {}))
    assert not wf.is_completed()
    _round_trip(wf, bundle)


def test_the_care_pathway_round_trips_at_every_wait_state() -> None:
    bundle = BUNDLES["care_pathway"]
    spec, subspecs = parsing.load_specs(bundle.files, "care_pathway")
    wf = runtime.start(spec, subspecs, script_engine(), SEED)
    screening = {
        "risk_level": "none",
        "suicide_ideation": False,
        "crisis": False,
        "safety_plan_needed": False,
        "phq2_positive": False,
        "do_not_contact": False,
        "needs": [],
        "bands": {},
        "scores": {},
    }
    # Referrals run as their own `referral` instances, started by the engine from the care plan.
    for step in ("intake", "assessment", "care_plan"):
        wf = _round_trip(wf, bundle)
        [task] = [t for t in runtime.ready_human_tasks(wf) if t.bpmn_id == step]
        data = demo.STEP_DATA[step]()
        extra = {}
        if step == "assessment":
            data = {k: v for k, v in data.items() if k not in ("phq2", "cssrs", "ahc_hrsn", "phq9")}
            extra = {"screening": screening}
        runtime.complete(wf, task.id, data, extra=extra)
    wf = _round_trip(wf, bundle)
    assert [t.bpmn_id for t in runtime.waiting_timers(wf)] == ["followup_wait"]
