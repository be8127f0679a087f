"""Instruction templates (`instructionsForEndUser`: Markdown with Jinja), rendered from task
data. This runs inside a sandbox worker (engine.workflow.sandbox_worker), where time and memory
are bounded: Jinja's sandbox stops attribute escapes, not `{% for %}` loops nested ten deep."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

__all__ = ["MAX_INSTRUCTIONS_CHARS", "render_template"]

# Longer output is a template bug (or a loop); the reader would not scroll through it anyway.
MAX_INSTRUCTIONS_CHARS = 20_000

# Immutable: a template reads the task data, it never changes it (the same data prefills the
# form). Chainable: `{{ screening.risk_level }}` before the screening renders empty.
_JINJA = ImmutableSandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)
_MARKER_CHARS = str.maketrans("", "", "\ue000\ue001")


def _fencing(fence: tuple[str, str]) -> Callable[[Any], Any]:
    start, end = Markup(fence[0]), Markup(fence[1])  # noqa: S704 - our own marker text

    def finalize(value: Any) -> Markup:
        # The value's own marker characters go first, so it can never close its fence early.
        text = "" if value is None else str(value)
        return start + escape(text.translate(_MARKER_CHARS)) + end

    return finalize


def render_template(
    template: str, data: Mapping[str, Any], *, fence: tuple[str, str] | None = None
) -> str:
    """The rendered text (cut at MAX_INSTRUCTIONS_CHARS), or the template as written when it
    fails to render. With `fence` (start, end), every value the template prints comes out
    escaped between those two strings, with U+E000/U+E001 removed from it."""
    env = _JINJA if fence is None else _JINJA.overlay(finalize=_fencing(tuple(fence)))  # type: ignore[arg-type]
    try:
        text = str(env.from_string(template).render(dict(data)))
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError):
        # Syntax errors, sandbox refusals and type mistakes in the template all land here.
        return template
    return text[:MAX_INSTRUCTIONS_CHARS]
