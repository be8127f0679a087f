"""Pre-flight checks of single elements: the expressions and scripts they hold, timer
definitions, loop markers, and the processes and decisions they call."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from engine.workflow.bpmn_elements import bpmn_tag, called_decision, describe
from engine.workflow.iso8601 import BARE_ISO, cycle_error, datetime_error, duration_error
from engine.workflow.parsing import NSMAP, Document
from engine.workflow.preflight_state import PreflightState, Process, SourceMode

TIMER_LITERAL_CHECKS: dict[str, Callable[[str], str | None]] = {
    "timeDuration": duration_error,
    "timeDate": datetime_error,
    "timeCycle": cycle_error,
}


class ElementChecks(PreflightState):
    def _expression(
        self, doc: Document, owner: Any, node: Any, mode: SourceMode, what: str
    ) -> None:
        source = node.text if node is not None else None
        if source is None or not source.strip():
            self.problem(doc, owner, f"{what} is empty", at=node)
            return
        error = self.check(source, mode)
        if error:
            self.problem(doc, owner, f"{what} does not compile in the sandbox: {error}", at=node)

    def _check_timer(self, doc: Document, definition: Any) -> None:
        event = definition.getparent()
        found = [child for child in definition if bpmn_tag(child) in TIMER_LITERAL_CHECKS]
        if not found:
            self.problem(doc, event, "timer has no timeDuration, timeDate or timeCycle")
            return
        for child in found:
            kind = bpmn_tag(child)
            source = (child.text or "").strip()
            if not source:
                self.problem(doc, event, f"timer {kind} is empty", at=child)
                continue
            try:
                value = ast.literal_eval(source)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                self._check_timer_expression(doc, event, child, source)
                continue
            if not isinstance(value, str):
                self.problem(
                    doc,
                    event,
                    f"timer {kind} {source} must give an ISO-8601 string, "
                    f"not {type(value).__name__}",
                    at=child,
                )
                continue
            error = TIMER_LITERAL_CHECKS[kind](value.strip())
            if error:
                self.problem(doc, event, f"timer {kind} {value!r}: {error}", at=child)

    def _check_timer_expression(self, doc: Document, event: Any, child: Any, source: str) -> None:
        if BARE_ISO.fullmatch(source):
            if source.isidentifier():
                message = (
                    f'timer expression {source} is a bare name; quote it ("{source}") '
                    "or use a variable set earlier"
                )
            else:
                message = (
                    f"timer expression {source} is not quoted, so Python reads it as "
                    f'arithmetic; quote it ("{source}") or use a variable set earlier'
                )
            self.problem(doc, event, message, at=child)
            return
        error = self.check(source, "eval")
        if error:
            self.problem(
                doc, event, f"timer expression does not compile in the sandbox: {error}", at=child
            )

    def _check_standard_loop(self, doc: Document, node: Any) -> None:
        activity = node.getparent()
        maximum = node.get("loopMaximum")
        if maximum is not None and not re.fullmatch(r"\d+", maximum.strip()):
            self.problem(doc, activity, f"loopMaximum {maximum!r} must be a whole number", at=node)
        condition = node.find("bpmn:loopCondition", NSMAP)
        if condition is not None:
            self._expression(doc, activity, condition, "eval", "loopCondition")
        elif maximum is None:
            self.problem(doc, activity, "a loop needs a loopCondition or a loopMaximum", at=node)

    def _check_call(self, proc: Process, node: Any) -> None:
        called = node.get("calledElement")
        if not called:
            self.problem(proc.doc, node, "call activity has no calledElement")
            return
        target = self.processes.get(called)
        if target is None:
            message = (
                f"call activity {describe(node)} calls process '{called}', which is "
                "neither deployed nor in the library"
            )
            if self.unreadable_library:
                message += f" (unreadable library files: {', '.join(self.unreadable_library)})"
            self.problem(proc.doc, node, message)
        elif not target.executable:
            self.problem(
                proc.doc,
                node,
                f"call activity {describe(node)} calls process '{called}', which is not executable",
            )

    def _check_decision(self, proc: Process, node: Any) -> None:
        decision = called_decision(node)
        if not decision:
            self.problem(proc.doc, node, "business rule task has no spiffworkflow:calledDecisionId")
        elif decision not in self.decisions:
            self.problem(
                proc.doc,
                node,
                f"business rule task {describe(node)} uses decision '{decision}', which no "
                "deployed or library DMN file defines",
            )
