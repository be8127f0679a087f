"""A task's instructions as HTML: the diagram's Jinja template, rendered in the engine's sandbox
from task data (engine.tasks_view.render_instructions, as the API renders it), then a small
Markdown subset (headings, lists, paragraphs, bold, italics).

Everything is escaped: values from task data by autoescape, and the template's own text too
(a diagram is uploaded by an administrator, but it is still input). Values are fenced off
while the Markdown subset is applied, so `**` typed into a form never becomes formatting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from engine.tasks_view import render_instructions as render_text

# Private-use characters fence each rendered value; they are stripped from the values first.
_OPEN, _CLOSE = "\ue000", "\ue001"
_VALUE = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.DOTALL)
_TOKEN = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


def _fence(value: Any) -> Markup:
    text = "" if value is None else str(value)
    text = text.replace(_OPEN, "").replace(_CLOSE, "")
    return Markup("\ue000{}\ue001").format(text)


def _inline(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    return text


def _markdown(escaped: str) -> str:
    html: list[str] = []
    para: list[str] = []
    list_tag: str | None = None

    def flush_para() -> None:
        if para:
            html.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = None

    for line in escaped.splitlines():
        stripped = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        bullet = re.match(r"[-*]\s+(.*)", stripped)
        numbered = re.match(r"\d+\.\s+(.*)", stripped)
        if not stripped:
            flush_para()
            close_list()
        elif heading:
            flush_para()
            close_list()
            # Task pages already have h1/h2: instruction headings start at h3.
            level = max(3, min(6, len(heading.group(1))))
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            flush_para()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                html.append(f"<{tag}>")
                list_tag = tag
            item = (bullet or numbered).group(1)  # type: ignore[union-attr]
            html.append(f"<li>{_inline(item)}</li>")
        else:
            close_list()
            para.append(stripped)
    flush_para()
    close_list()
    return "\n".join(html)


def render_instructions(template: str | None, data: Mapping[str, Any]) -> Markup | None:
    """The instructions as safe HTML, or None when the diagram has none."""
    if not template or not template.strip():
        return None
    # A broken template comes back as written: it must not hide the task.
    rendered = render_text(template, data, finalize=_fence) or ""
    values: list[str] = []

    def stash(match: re.Match[str]) -> str:
        values.append(match.group(1))  # already escaped by autoescape
        return f"{_OPEN}{len(values) - 1}{_CLOSE}"

    literal = _VALUE.sub(stash, rendered)
    # The template's own text is escaped here; the fenced values were escaped when rendered.
    body = _markdown(str(escape(literal)))
    # Safe: `body` was built from escaped text plus our own tags, `values` were escaped.
    return Markup(_TOKEN.sub(lambda m: values[int(m.group(1))], body))  # noqa: S704
