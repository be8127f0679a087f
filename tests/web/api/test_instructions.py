"""Task instructions: Jinja from task data, sandboxed and autoescaped (engine.tasks_view)."""

from __future__ import annotations

import pytest

from engine.tasks_view import MAX_INSTRUCTIONS_CHARS, render_instructions

from .conftest import INTAKE


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("Case {{ case_id }}", {"case_id": 7}, "Case 7"),
        ("Hi {{ name }}", {"name": "<script>x</script>"}, "Hi &lt;script&gt;x&lt;/script&gt;"),
        ("{% if flag %}**Do not contact**{% endif %}", {"flag": True}, "**Do not contact**"),
        ("Risk: {{ screening.risk_level }}", {}, "Risk: "),  # missing data renders empty
        ("{% if followup is defined %}x{% endif %}done", {}, "done"),
    ],
)
def test_instructions_render_from_task_data(template, data, expected):
    assert render_instructions(template, data) == expected


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # the classic sandbox escape
        "{{ case_id.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_sandbox_escapes_reveal_nothing(template):
    # Refused (shown as written) or rendered as nothing, depending on where the sandbox stops
    # it; never Python internals.
    assert render_instructions(template, {"case_id": 1}) in (template, "")


def test_a_broken_template_comes_back_as_written():
    assert render_instructions("{% if %}oops", {}) == "{% if %}oops"


def test_a_template_cannot_change_the_task_data():
    data = {"items": [1]}
    template = "{{ items.append(2) }}"
    assert render_instructions(template, data) == template  # refused, shown as written
    assert data == {"items": [1]}


def test_a_fence_wraps_each_printed_value_escaped_and_without_markers():
    fence = ("[[", "]]")
    text = render_instructions("{{ a }} and {{ b }}", {"a": 1, "b": "<x\ue000>"}, fence=fence)
    assert text == "[[1]] and [[&lt;x&gt;]]"


def test_no_template_means_no_instructions():
    assert render_instructions(None, {}) is None


def test_runaway_output_is_cut():
    text = render_instructions("{% for i in range(30000) %}xx{% endfor %}", {})
    assert text is not None
    assert len(text) == MAX_INSTRUCTIONS_CHARS


def test_completed_task_detail_has_no_instructions_and_cannot_be_completed(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    api.complete(task["id"], INTAKE)
    detail = api.get(f"/api/v1/tasks/{task['id']}").get_json()["task"]
    assert detail["status"] == "completed"
    assert detail["instructions"] is None
    assert detail["can_complete"] is False
    assert detail["form_schema"]["title"] == "Social work intake"


def test_a_runaway_template_is_stopped_and_shown_as_written():
    import time

    source = (
        "{% for a in range(99999) %}{% for b in range(99999) %}{{ a * b }}{% endfor %}{% endfor %}"
    )
    began = time.monotonic()
    text = render_instructions(source, {}, timeout_s=0.5)
    assert time.monotonic() - began < 2.5
    assert text == source
