"""The sandboxed script engine: ordinary scripts behave as under SpiffWorkflow's own
environment, escapes and runaway scripts end in a ScriptError."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ScriptError
from engine.workflow import scripting
from engine.workflow.scripting import (
    RestrictedEnvironment,
    check_source,
    find_script_error,
    make_script_engine,
)
from tests.engine.script_helpers import double

FAST = 0.05  # seconds: the timeout used where a test waits for it

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://example.org/carebridge-test">
  <bpmn:process id="triage" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="score" name="Score">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="risk" default="f_low">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_high</bpmn:outgoing><bpmn:outgoing>f_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f_high</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{timer}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end_high"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f_low</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="score"/>
    <bpmn:sequenceFlow id="f2" sourceRef="score" targetRef="risk"/>
    <bpmn:sequenceFlow id="f_high" sourceRef="risk" targetRef="wait">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_low" sourceRef="risk" targetRef="end_low"/>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end_high"/>
  </bpmn:process>
</bpmn:definitions>
"""

SCORE = 'screening = {"score": phq9_total, "risk_level": "high" if phq9_total >= 20 else "low"}'
HIGH = 'screening["risk_level"] == "high"'


def run_triage(
    data: dict[str, Any],
    *,
    script: str = SCORE,
    condition: str = HIGH,
    timer: str = '"PT24H"',
    **engine_options: Any,
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    xml = BPMN.format(script=escape(script), condition=escape(condition), timer=escape(timer))
    parser.add_bpmn_str(xml.encode(), filename="triage.bpmn")
    wf = BpmnWorkflow(parser.get_spec("triage"), script_engine=make_script_engine(**engine_options))
    [start] = wf.get_tasks(state=TaskState.READY)
    start.data.update(data)
    wf.do_engine_steps()
    return wf


def execute(script: str, data: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    context = dict(data or {})
    RestrictedEnvironment(**options).execute(script, context)
    return context


def evaluate(expression: str, data: dict[str, Any] | None = None) -> Any:
    return RestrictedEnvironment().evaluate(expression, dict(data or {}))


def script_error(script: str, data: dict[str, Any] | None = None, **options: Any) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        execute(script, data, **options)
    return caught.value


def task_data(wf: BpmnWorkflow, bpmn_id: str) -> dict[str, Any]:
    [task] = [t for t in wf.get_tasks() if t.task_spec.bpmn_id == bpmn_id]
    return task.data


# --- through a real workflow -------------------------------------------------------------


def test_script_assignment_lands_in_task_data() -> None:
    wf = run_triage({"phq9_total": 22})
    assert task_data(wf, "score")["screening"] == {"score": 22, "risk_level": "high"}


def test_gateway_condition_takes_the_high_branch() -> None:
    wf = run_triage({"phq9_total": 22})
    [waiting] = wf.get_tasks(state=TaskState.WAITING)
    assert waiting.task_spec.bpmn_id == "wait"


def test_gateway_condition_false_takes_the_default_branch() -> None:
    wf = run_triage({"phq9_total": 4})
    assert wf.is_completed()
    assert task_data(wf, "end_low")["screening"]["risk_level"] == "low"


def test_quoted_timer_expression_sets_the_due_time() -> None:
    before = datetime.now(UTC)
    wf = run_triage({"phq9_total": 22})
    [event] = wf.waiting_events()
    due = datetime.fromisoformat(event.value)
    assert before + timedelta(hours=24) <= due <= datetime.now(UTC) + timedelta(hours=24)


def test_timer_expression_may_name_a_variable() -> None:
    before = datetime.now(UTC)
    wf = run_triage(
        {"phq9_total": 22},
        script=SCORE + '\nfollow_up_after = "PT2H"',
        timer="follow_up_after",
    )
    [event] = wf.waiting_events()
    due = datetime.fromisoformat(event.value)
    assert before + timedelta(hours=2) <= due <= datetime.now(UTC) + timedelta(hours=2)


def test_refused_script_surfaces_as_script_error_inside_spiff_exception() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_triage({"phq9_total": 22}, script="import os")
    error = find_script_error(caught.value)
    assert error is not None
    assert error.public_message == "import is not allowed"


def test_spiff_keeps_the_script_error_message_for_scripts() -> None:
    with pytest.raises(WorkflowTaskException, match="import is not allowed"):
        run_triage({"phq9_total": 22}, script="import os")


def test_refused_condition_surfaces_as_script_error_inside_spiff_exception() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_triage({"phq9_total": 22}, condition="screening.__class__")
    error = find_script_error(caught.value)
    assert error is not None
    assert error.public_message == "access to '__class__' is not allowed"


def test_runaway_script_in_a_workflow_times_out() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_triage({"phq9_total": 22}, script="while True: pass", timeout_s=FAST)
    error = find_script_error(caught.value)
    assert error is not None
    assert error.public_message == f"script exceeded {FAST} s"


def test_helpers_and_modules_do_not_leak_into_task_data() -> None:
    wf = run_triage(
        {"phq9_total": 22},
        script=SCORE
        + "\ndef bump(x):\n    return x + 1\nbumped = bump(double(2))\nroot = math.sqrt(4)",
        helpers={"double": double},
    )
    assert set(task_data(wf, "score")) == {"phq9_total", "screening", "bumped", "root"}


# --- ordinary scripts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "data", "expected"),
    [
        pytest.param("x = 1", {}, {"x": 1}, id="assign"),
        pytest.param(
            "total = a * 2 + b // 3 - 1", {"a": 5, "b": 7}, {"total": 11}, id="arithmetic"
        ),
        pytest.param("n = 0\nn += 5\nn *= 2", {}, {"n": 10}, id="augmented-assign"),
        pytest.param(
            "due = start + timedelta(days=2)",
            {"start": datetime(2025, 3, 1, 9, tzinfo=UTC)},
            # Dates enter task data as ISO-8601 text (engine.workflow.script_values).
            {"due": "2025-03-03T09:00:00+00:00"},
            id="datetime-timedelta",
        ),
        pytest.param(
            "d = date(2025, 1, 31) + timedelta(days=1)",
            {},
            {"d": "2025-02-01"},
            id="date",
        ),
        pytest.param(
            "at = datetime(2025, 1, 1, tzinfo=timezone.utc).isoformat()",
            {},
            {"at": "2025-01-01T00:00:00+00:00"},
            id="timezone",
        ),
        pytest.param(
            'plan = {"needs": [], "count": 0}\nplan["needs"].append("housing")\nplan["count"] = 1',
            {},
            {"plan": {"needs": ["housing"], "count": 1}},
            id="dict-list-building",
        ),
        pytest.param(
            'answers["q9"] = 0\ndel answers["q1"]',
            {"answers": {"q1": 3}},
            {"answers": {"q9": 0}},
            id="write-into-task-data",
        ),
        pytest.param(
            "high = [k for k, v in sorted(scores.items()) if v >= 2]",
            {"scores": {"q2": 3, "q1": 1, "q3": 2}},
            {"high": ["q2", "q3"]},
            id="comprehension",
        ),
        pytest.param(
            "r = round(math.sqrt(x), 2)\nc = math.ceil(2.1)",
            {"x": 2},
            {"r": 1.41, "c": 3},
            id="math",
        ),
        pytest.param(
            "s = sum(v for v in vals)\nm = max(vals)\nok = all(isinstance(v, int) for v in vals)",
            {"vals": [1, 2, 3]},
            {"s": 6, "m": 3, "ok": True},
            id="builtins",
        ),
        pytest.param(
            "pairs = list(zip(range(2), 'ab'))\nfirst, second = pairs",
            {},
            {"pairs": [[0, "a"], [1, "b"]], "first": [0, "a"], "second": [1, "b"]},
            id="unpacking",
        ),
        pytest.param(
            "def band(s):\n    return 'severe' if s >= 20 else 'mild'\nlabel = band(score)",
            {"score": 21},
            {"label": "severe"},
            id="function",
        ),
        pytest.param(
            "n = 0\nwhile n < 3:\n    n = n + 1",
            {},
            {"n": 3},
            id="bounded-while",
        ),
        pytest.param(
            "try:\n    v = int(raw)\nexcept ValueError:\n    v = 0",
            {"raw": "n/a"},
            {"v": 0},
            id="try-except",
        ),
        pytest.param(
            "msg = f'{name!r} scored {score:d}'",
            {"name": "x", "score": 3},
            {"msg": "'x' scored 3"},
            id="f-string",
        ),
    ],
)
def test_ordinary_script_runs(script: str, data: dict[str, Any], expected: dict[str, Any]) -> None:
    result = execute(script, data)
    assert {k: result[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        pytest.param(HIGH, {"screening": {"risk_level": "high"}}, True, id="condition"),
        pytest.param('"PT24H"', {}, "PT24H", id="quoted-duration"),
        pytest.param("follow_up", {"follow_up": "PT2H"}, "PT2H", id="variable"),
        pytest.param(
            "len(needs) > 1 and 'food' in needs", {"needs": ["food", "rent"]}, True, id="bool"
        ),
    ],
)
def test_expression_evaluates_against_task_data(
    expression: str, data: dict[str, Any], expected: Any
) -> None:
    assert evaluate(expression, data) == expected


def test_task_data_may_shadow_an_allowed_name() -> None:
    assert execute("when = date", {"date": "2025-01-01"})["when"] == "2025-01-01"


def test_script_deleting_a_variable_removes_it_from_task_data() -> None:
    assert execute("del scratch", {"scratch": 1, "keep": 2}) == {"keep": 2}


def test_generator_does_not_reach_task_data() -> None:
    assert execute("lazy = (n for n in [1, 2])\nn = 1") == {"n": 1}


@pytest.mark.parametrize("expression", ["(n for n in [1, 2])", "lambda: 1", "math"])
def test_expression_must_give_a_value(expression: str) -> None:
    with pytest.raises(ScriptError, match="must give a value"):
        evaluate(expression)


def test_external_context_is_readable_but_not_copied_into_task_data() -> None:
    context: dict[str, Any] = {}
    RestrictedEnvironment().execute("seen = site", context, {"site": "north"})
    assert context == {"seen": "north"}


def test_helper_is_callable_from_scripts() -> None:
    assert execute("y = double(21)", helpers={"double": double})["y"] == 42


@pytest.mark.parametrize("name", ["_hidden", "not-an-identifier", "len"])
def test_helper_name_must_be_public_and_new(name: str) -> None:
    with pytest.raises(ValueError, match="helper"):
        RestrictedEnvironment(helpers={name: len})


def test_compiled_code_is_cached_by_source() -> None:
    # Compiling happens where the code runs: in the worker, or here in local mode.
    source = "cache_probe = 41 + 1"
    execute(source, local=True)
    hits = scripting._compile.cache_info().hits
    execute(source, local=True)
    assert scripting._compile.cache_info().hits == hits + 1


# --- refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message"),
    [
        pytest.param("import os", "import is not allowed", id="import"),
        pytest.param("from os import path", "import is not allowed", id="from-import"),
        pytest.param("__import__('os')", "name '__import__' is not allowed", id="dunder-import"),
        pytest.param("open('/etc/passwd')", "name 'open' is not defined", id="open"),
        pytest.param("eval('1')", "eval() is not allowed", id="eval"),
        pytest.param("exec('x = 1')", "exec() is not allowed", id="exec"),
        pytest.param(
            "().__class__.__base__.__subclasses__()",
            "access to '__class__' is not allowed",
            id="subclasses-walk",
        ),
        pytest.param("getattr(x, '__class__')", "name 'getattr' is not defined", id="getattr"),
        pytest.param("x.__globals__", "access to '__globals__' is not allowed", id="globals"),
        pytest.param("type(x).__mro__", "access to '__mro__' is not allowed", id="mro"),
        pytest.param("type(x)", "name 'type' is not defined", id="type"),
        pytest.param("'{0}'.format(x)", "'format' is not allowed; use an f-string", id="format"),
        pytest.param("math.pi = 3", "changing a 'module' object is not allowed", id="write-module"),
        pytest.param("print(x)", "print is not allowed (scripts have no output)", id="print"),
        pytest.param("class A:\n    pass", "class definitions are not allowed", id="class"),
        pytest.param("n = sum(range(10**12))", "range() is limited to 100000 items", id="range"),
    ],
)
def test_escape_attempt_is_refused(script: str, message: str) -> None:
    assert script_error(script, {"x": 1}).public_message == message


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("while True: pass", id="while-true"),
        pytest.param("while True:\n    pass", id="while-true-two-lines"),
        pytest.param(
            "while True:\n    try:\n        while True: pass\n    except:\n        pass",
            id="bare-except-swallow",
        ),
        pytest.param("try:\n    while True: pass\nfinally:\n    while True: pass", id="finally"),
        pytest.param("def f(n):\n    return f(n - 1) + f(n - 1) if n else 0\nf(200)", id="def"),
        pytest.param("f = lambda n: f(n - 1) + f(n - 1) if n else 0\nf(200)", id="lambda"),
        pytest.param("x = [1 for a in range(9999) for b in range(9999)]", id="comprehension"),
        pytest.param("def g():\n    while True:\n        yield 1\ns = sum(g())", id="generator"),
    ],
)
def test_runaway_script_is_stopped(script: str) -> None:
    error = script_error(script, timeout_s=FAST)
    assert error.public_message == f"script exceeded {FAST} s"


def test_runaway_expression_is_stopped() -> None:
    env = RestrictedEnvironment(timeout_s=FAST)
    with pytest.raises(ScriptError, match=f"expression exceeded {FAST} s"):
        env.evaluate("[1 for a in range(9999) for b in range(9999)]", {})


def test_timeout_works_outside_the_main_thread() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            execute("while True: pass", timeout_s=FAST)
        except ScriptError as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert [str(e) for e in errors] == [f"script exceeded {FAST} s"]


def test_refusal_cannot_be_caught_by_the_script() -> None:
    script = "try:\n    math.pi = 3\nexcept Exception:\n    caught = True"
    assert script_error(script).public_message == "changing a 'module' object is not allowed"


def test_error_reports_the_script_line() -> None:
    assert script_error("a = 1\nb = 2\nopen('x')").details == [
        {"line": 3, "message": "name 'open' is not defined"}
    ]


def test_error_message_withholds_task_data_values() -> None:
    error = script_error("n = int(name)", {"name": "Jane Doe"})
    assert error.public_message == "the script raised ValueError"


def test_missing_key_from_task_data_is_not_named() -> None:
    error = script_error("n = lookup[name]", {"lookup": {}, "name": "Jane Doe"})
    assert error.public_message == "the script raised KeyError"


def test_missing_key_written_in_the_script_is_named() -> None:
    error = script_error('level = screening["risk_level"]', {"screening": {}})
    assert error.public_message == "key 'risk_level' not found"


def test_original_exception_is_kept_as_cause_where_the_code_ran() -> None:
    error = script_error("n = int(name)", {"name": "Jane Doe"}, local=True)
    assert isinstance(error.__cause__, ValueError)


def test_partial_assignments_stay_in_task_data_after_a_failure() -> None:
    context: dict[str, Any] = {}
    with pytest.raises(ScriptError):
        RestrictedEnvironment().execute("before = 1\nopen('x')", context)
    assert context == {"before": 1}


# --- deploy-time check -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "mode", "message"),
    [
        pytest.param("import os", "exec", "line 1: import is not allowed", id="import"),
        pytest.param(
            "x = 1\nfrom os import path", "exec", "line 2: import is not allowed", id="from-import"
        ),
        pytest.param(
            "__import__('os')", "eval", "line 1: name '__import__' is not allowed", id="dunder-name"
        ),
        pytest.param(
            "().__class__.__base__.__subclasses__()",
            "eval",
            "line 1: access to '__class__' is not allowed",
            id="dunder-attribute",
        ),
        pytest.param(
            "x.__globals__", "eval", "line 1: access to '__globals__' is not allowed", id="globals"
        ),
        pytest.param(
            "type(x).__mro__", "eval", "line 1: access to '__mro__' is not allowed", id="mro"
        ),
        pytest.param("eval('1')", "eval", "line 1: eval() is not allowed", id="eval"),
        pytest.param("exec('x = 1')", "exec", "line 1: exec() is not allowed", id="exec"),
        pytest.param("x = ", "exec", "line 1: syntax error: invalid syntax", id="syntax"),
        pytest.param(
            "x = 1", "eval", "line 1: syntax error: invalid syntax", id="statement-as-expression"
        ),
    ],
)
def test_check_source_flags_refused_code(source: str, mode: scripting.Mode, message: str) -> None:
    assert check_source(source, mode=mode) == message


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        pytest.param(SCORE, "exec", id="script"),
        pytest.param("high = [k for k, v in scores.items() if v >= 2]", "exec", id="comprehension"),
        pytest.param("due = start + timedelta(hours=4)", "exec", id="datetime"),
        pytest.param(HIGH, "eval", id="condition"),
        pytest.param('"PT24H"', "eval", id="timer"),
        pytest.param("open('/etc/passwd')", "exec", id="unknown-name-passes-until-run"),
    ],
)
def test_check_source_accepts_ordinary_code(source: str, mode: scripting.Mode) -> None:
    assert check_source(source, mode=mode) is None


def test_script_results_enter_task_data_in_their_stored_types() -> None:
    # What JSON would make of them, so a live workflow and a restored one hold the same data.
    result = execute("pair = (1, (2, 3))\nby_day = {1: 'mon', 2.5: 'x', None: [(4,)], 'k': 0}")
    assert result["pair"] == [1, [2, 3]]
    assert result["by_day"] == {"1": "mon", "2.5": "x", "null": [[4]], "k": 0}
    assert execute("flags = {False: 1}")["flags"] == {"false": 1}


def test_expression_results_are_given_in_their_stored_types() -> None:
    assert evaluate("(1, {2: 'b'})") == [1, {"2": "b"}]
