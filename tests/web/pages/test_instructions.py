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


# Stored XSS through the value fences: U+E000/U+E001 used to mark where a rendered value began
# and ended, and a template could write those characters itself around raw HTML.
_XSS = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "source",
    [
        f"\ue000{_XSS}\ue001",
        "Intro \ue000<img src=x onerror=alert(1)>\ue001 outro",
        "\ue0000\ue001 {{ note }}",
        f"{{{{ note }}}}\ue001{_XSS}\ue000",
        f'{{% filter replace("a", "\\ue000") %}}a{_XSS}{{% endfilter %}}\ue001',
        f'{{{{ "\\ue000" }}}}{_XSS}{{{{ "\\ue001" }}}}',
        "**\ue000<svg onload=alert(1)>\ue001**",
    ],
)
def test_private_use_characters_in_the_template_cannot_unescape_html(source) -> None:
    html = render_instructions(source, {"note": "fine"})
    assert "<script" not in html
    assert "<img" not in html
    assert "<svg" not in html
    assert "\ue000" not in html
    assert "\ue001" not in html


@pytest.mark.parametrize(
    "note",
    [
        f"\ue000{_XSS}\ue001",
        f"\ue001{_XSS}\ue000",
        "\ue0000\ue001",
        "<img src=x onerror=alert(1)>",
        '"><svg/onload=alert(1)>',
    ],
)
def test_private_use_characters_in_values_cannot_unescape_html(note) -> None:
    html = render_instructions("Note: {{ note }} and {{ other }}", {"note": note, "other": _XSS})
    assert "<script" not in html
    assert "<img" not in html
    assert "<svg" not in html
    assert "&lt;" in html


def test_a_value_cannot_pull_in_another_value_by_its_token() -> None:
    html = render_instructions("{{ a }} {{ b }}", {"a": "\ue0001\ue001", "b": "<b>x</b>"})
    assert html == "<p>1 &lt;b&gt;x&lt;/b&gt;</p>"
