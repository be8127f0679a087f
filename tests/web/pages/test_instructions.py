"""Task instructions: Jinja in a sandbox, everything escaped, a small Markdown subset."""

from __future__ import annotations

import pytest

from web.pages.instructions import render_instructions


def test_values_from_task_data_fill_the_template() -> None:
    html = render_instructions("### Intake: case {{ case_id }}", {"case_id": 7})
    assert html == "<h3>Intake: case 7</h3>"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Plain text.", "<p>Plain text.</p>"),
        ("**Now**", "<p><strong>Now</strong></p>"),
        ("*Attributed*", "<p><em>Attributed</em></p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
        ("a\nb\n\nc", "<p>a b</p>\n<p>c</p>"),
        ("#### Small", "<h4>Small</h4>"),
    ],
)
def test_markdown_subset(source, expected) -> None:
    assert render_instructions(source, {}) == expected


def test_values_are_escaped_and_never_formatted() -> None:
    html = render_instructions("Note: {{ note }}", {"note": "<script>x</script> **loud**"})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "**loud**" in html
    assert "<strong>" not in html


def test_the_templates_own_html_is_escaped_too() -> None:
    html = render_instructions("<img src=x onerror=alert(1)> hello", {})
    assert "<img" not in html
    assert "&lt;img" in html


def test_bold_around_a_value_still_works() -> None:
    html = render_instructions("Risk: **{{ s.level }}**", {"s": {"level": "high"}})
    assert html == "<p>Risk: <strong>high</strong></p>"


def test_the_sandbox_refuses_attribute_escapes() -> None:
    source = "{{ ().__class__.__base__.__subclasses__() }}"
    html = render_instructions(source, {})
    assert "subprocess" not in html.lower()
    assert "__subclasses__" in html  # shown as written, not executed


def test_a_broken_template_is_shown_as_written() -> None:
    assert render_instructions("{% if %}", {}) == "<p>{% if %}</p>"


@pytest.mark.parametrize("source", ["a{{ missing }}b", "a{{ missing.part }}b"])
def test_missing_values_render_empty(source) -> None:
    assert render_instructions(source, {}) == "<p>ab</p>"


@pytest.mark.parametrize("source", [None, "", "   \n"])
def test_no_instructions(source) -> None:
    assert render_instructions(source, {}) is None
