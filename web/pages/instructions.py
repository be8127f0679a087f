"""A task's instructions as HTML: the diagram's Jinja template, rendered in the engine's sandbox
from task data (engine.tasks_view.render_instructions, as the API renders it), then a small
Markdown subset (headings, lists, paragraphs, bold, italics).

Everything is escaped: values from task data by autoescape, and the template's own text too
(a diagram is uploaded by an administrator, but it is still input). Values are fenced off
while the Markdown subset is applied, so `**` typed into a form never becomes formatting.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from engine.tasks_view import render_instructions as render_text

# Private-use characters mark where a rendered value starts and ends. Template text can hold
# them too (a diagram is input), so a fence also carries a random per-render nonce the template
# cannot know, and every marker character outside a genuine fence is dropped before the Markdown
# subset runs: only the tokens put in below ever reach the final substitution.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKERS = str.maketrans("", "", _OPEN + _CLOSE)
_TOKEN = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


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
    nonce = secrets.token_hex(16)
    fence = (f"{_OPEN}{nonce}:", f":{nonce}{_CLOSE}")
    # A broken template comes back as written: it must not hide the task.
    rendered = render_text(template, data, fence=fence) or ""
    # Split on genuine fences: odd parts are values (escaped by autoescape when rendered, their
    # own marker characters removed), even parts are the template's text.
    parts = re.split(f"{re.escape(fence[0])}(.*?){re.escape(fence[1])}", rendered, flags=re.S)
    values = parts[1::2]
    literal = "".join(
        f"{_OPEN}{i // 2}{_CLOSE}" if i % 2 else part.translate(_MARKERS)
        for i, part in enumerate(parts)
    )
    # The template's own text is escaped here; the fenced values were escaped when rendered.
    body = _markdown(str(escape(literal)))
    # Safe: `body` was built from escaped text plus our own tags, `values` were escaped.
    return Markup(_TOKEN.sub(lambda m: values[int(m.group(1))], body))  # noqa: S704
