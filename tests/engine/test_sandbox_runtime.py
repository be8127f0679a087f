"""A diagram whose script imports os never runs it, even if it got past deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ScriptError
from engine.instances.services import script_engine
from engine.workflow import parsing, runtime

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "engine" / "script_os.bpmn"


def test_preflight_refuses_the_import():
    with pytest.raises(parsing.DeploymentInvalid) as err:
        parsing.prepare({"script_os.bpmn": FIXTURE.read_bytes()})
    assert any(
        p.element_id == "evil" and "import is not allowed" in p.message for p in err.value.problems
    )


def test_the_runtime_refuses_it_too(tmp_path):
    spec, subspecs = parsing.load_specs({"script_os.bpmn": FIXTURE.read_text()}, "script_os")
    with pytest.raises(ScriptError, match="import is not allowed"):
        runtime.start(spec, subspecs, script_engine(), {})
    assert not Path("/tmp/carebridge-pwned").exists()
