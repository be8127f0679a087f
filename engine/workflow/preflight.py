"""Deploy-time ("pre-flight") validation of BPMN/DMN diagrams and the forms they use.

`prepare` reads every uploaded file, checks it statically and with SpiffWorkflow's own
parser, gathers *all* problems (each naming file, element and line) and only then decides:
either every executable process becomes a `ProcessBundle`, or nothing does and
`DeploymentInvalid` lists what to fix. The checks catch at deploy time what SpiffWorkflow
would otherwise only trip over when a token reaches the element, weeks into a case.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.workflow.parsing import (
    BPMN_NS,
    DEFAULT_ROLES,
    NSMAP,
    DeploymentInvalid,
    Document,
    Problem,
    ProcessBundle,
    build_parser,
    bundle_digest,
    parse_document,
    problem_from_spiff,
    role_for_lane,
    schema_problems,
)

__all__ = [
    "DEFAULT_ROLES",
    "DeploymentInvalid",
    "ExpressionChecker",
    "Problem",
    "ProcessBundle",
    "duration_error",
    "prepare",
]

ExpressionChecker = Callable[[str, str], str | None]
PRIORITIES = ("routine", "urgent", "asap", "stat")

_EMPTY: Mapping[str, bytes] = MappingProxyType({})
_SUBPROCESS_TAGS = {"subProcess", "transaction", "adHocSubProcess"}
_HUMAN_TAGS = {"userTask", "manualTask"}
# What can sit and wait for a long time: a loop through one of these can go round
# hundreds of times over the life of a case.
_WAIT_TAGS = _HUMAN_TAGS | {"receiveTask", "intermediateCatchEvent"}
_FLOW_NODE_TAGS = (
    _SUBPROCESS_TAGS
    | _WAIT_TAGS
    | {
        "startEvent",
        "endEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "businessRuleTask",
        "callActivity",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_CYCLE = re.compile(r"R\d*/.+")
# Unquoted text that a modeller meant as an ISO-8601 value, not as a variable name.
_BARE_ISO = re.compile(rf"(?:R\d*/.*|{_DURATION.pattern}|\d{{4}}-\d\d-\d\d.*)")


def prepare(
    files: Mapping[str, bytes],
    *,
    library: Mapping[str, bytes] = _EMPTY,
    forms: Mapping[str, bytes] = _EMPTY,
    known_roles: Collection[str] = DEFAULT_ROLES,
    check_expression: ExpressionChecker | None = None,
) -> list[ProcessBundle]:
    """Validate `files` (.bpmn/.dmn, filename -> bytes) and bundle each executable process
    defined in them with everything it needs: the diagrams its call activities and
    business-rule tasks reach (from `files` or `library`, transitively) and its forms.

    Raises DeploymentInvalid with every problem found; nothing partial is returned."""
    checker = check_expression or _default_checker()
    return _Preflight(files, library, forms, frozenset(known_roles), checker).run()


def duration_error(text: str) -> str | None:
    """Why `text` is not an ISO-8601 duration SpiffWorkflow can use, or None."""
    if not _DURATION.fullmatch(text):
        return "expected an ISO-8601 duration such as PT24H, P2D or P1W"
    try:
        # The runtime's own parser, so deploy time and run time agree on what is valid.
        TimerEventDefinition.parse_iso_duration(text)
    except Exception as exc:  # it raises a bare Exception('Invalid duration')
        return str(exc) or "invalid duration"
    return None


def _datetime_error(text: str) -> str | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return "expected an ISO-8601 date-time such as 2026-03-02T09:00:00+00:00"
    if value.tzinfo is None:
        return (
            "has no UTC offset and would be read in the server's time zone; "
            "add one, e.g. 2026-03-02T09:00:00-05:00"
        )
    return None


def _cycle_error(text: str) -> str | None:
    if not _CYCLE.fullmatch(text):
        return "expected an ISO-8601 repeating interval such as R3/PT1H"
    parts = text.replace("--", "/").split("/")[1:]
    if len(parts) not in (1, 2) or not any(p.startswith("P") for p in parts):
        return "expected R<n>/<duration>, R<n>/<start>/<duration> or R<n>/<duration>/<end>"
    for part in parts:
        error = duration_error(part) if part.startswith("P") else _datetime_error(part)
        if error:
            return f"{part}: {error}"
    try:
        TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as exc:  # the runtime's parser raises bare Exceptions
        return str(exc) or "invalid repeating interval"
    return None


_TIMER_LITERAL_CHECKS: dict[str, Callable[[str], str | None]] = {
    "timeDuration": duration_error,
    "timeDate": _datetime_error,
    "timeCycle": _cycle_error,
}


# ---------------------------------------------------------------- expressions ------


def _default_checker() -> ExpressionChecker:
    try:
        from engine.workflow.scripting import check_source
    except ImportError:
        return _restricted_check

    def check(source: str, mode: str) -> str | None:
        return check_source(source, mode=mode)

    return check


def _restricted_check(source: str, mode: str) -> str | None:
    """Fallback when the sandbox module is absent: the same RestrictedPython compile the
    sandbox uses, without its allow-list."""
    from RestrictedPython import compile_restricted_eval, compile_restricted_exec

    compile_fn = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    if mode == "eval":
        source = source.strip()  # as eval() does for a string
    try:
        # SyntaxWarnings ("is" with a literal, ...) are the author's business, not a
        # reason to refuse; keep them out of the caller's warning filters.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = compile_fn(source, filename="<diagram>")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return "; ".join(result.errors) if result.errors else None


# ---------------------------------------------------------------- the run ----------


@dataclass(eq=False)
class _Process:
    id: str
    doc: Document
    node: Any
    executable: bool
    deployed: bool  # defined in `files` (not only in the library)


@dataclass
class _Forms:
    raw: Mapping[str, bytes]
    values: dict[str, Any] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def key_for(self, filename: str) -> str | None:
        if filename in self.raw:
            return filename
        # Tolerate "forms/intake.schema.json" on either side: the directory is flat.
        base = PurePosixPath(filename).name
        matches = sorted(k for k in self.raw if PurePosixPath(k).name == base)
        return matches[0] if matches else None


def _local(node: Any) -> str:
    tag = node.tag
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
        return ""
    return tag[len(BPMN_NS) + 2 :]


def _describe(node: Any) -> str:
    name = (node.get("name") or "").strip()
    node_id = node.get("id")
    return f"'{name}' ({node_id})" if name else f"{node_id}"


def _owner(node: Any) -> Any:
    """The nearest element with an id: what a problem inside it is reported against."""
    current = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    return current if current is not None else node


class _Preflight:
    def __init__(
        self,
        files: Mapping[str, bytes],
        library: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str],
        check: ExpressionChecker,
    ) -> None:
        self.files = files
        self.library = library
        self.forms = _Forms(forms)
        self.known_roles = known_roles
        self.check = check
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.docs: dict[str, Document] = {}
        self.library_docs: dict[str, Document] = {}
        self.unreadable_library: list[str] = []
        self.processes: dict[str, _Process] = {}
        self.decisions: dict[str, Document] = {}
        self.schema_ok: dict[str, bool] = {}
        self.lane_maps: dict[str, dict[str, str | None]] = {}
        self.process_forms: dict[str, set[str]] = {}
        self.waits_memo: dict[str, bool] = {}

    # -- reporting -------------------------------------------------------------

    def problem(self, doc: Document, node: Any, message: str, *, at: Any = None) -> None:
        """Report against `node` (its id), at the line of `at` (default: `node`)."""
        owner = _owner(node) if node is not None else None
        line_node = at if at is not None else node
        self.problems.append(
            Problem(
                doc.name,
                owner.get("id") if owner is not None else None,
                line_node.sourceline if line_node is not None else None,
                message,
            )
        )

    def warn(self, doc: Document, node: Any, message: str) -> None:
        self.warnings.append(Problem(doc.name, node.get("id"), node.sourceline, message))

    # -- the steps -------------------------------------------------------------

    def run(self) -> list[ProcessBundle]:
        self._read()
        self._index()
        targets = [p for p in self.processes.values() if p.deployed and p.executable]
        closures = {p.id: self._closure(p.id) for p in targets}

        checked: dict[str, _Process] = {p.id: p for p in targets}
        used_docs: dict[str, Document] = dict(self.docs)
        for procs, dmn_docs in closures.values():
            checked.update({p.id: p for p in procs})
            used_docs.update({d.name: d for d in [*(p.doc for p in procs), *dmn_docs]})

        for doc in used_docs.values():
            found = schema_problems(doc)
            self.schema_ok[doc.name] = not found
            self.problems.extend(found)
        for proc in checked.values():
            self._check_process(proc)
        for doc in used_docs.values():
            if doc.kind == "dmn" and self.schema_ok[doc.name]:
                self._check_dmn(doc)
        for proc in targets:
            self._check_with_spiff(proc, closures[proc.id])

        if self.problems:
            raise DeploymentInvalid(_sorted_unique(self.problems))
        return [self._bundle(proc, *closures[proc.id]) for proc in targets]

    def _read(self) -> None:
        for name, data in self.files.items():
            try:
                self.docs[name] = parse_document(name, data)
            except DeploymentInvalid as exc:
                self.problems.extend(exc.problems)
        for name, data in self.library.items():
            if name in self.files:
                continue  # the deployed version replaces the library's
            try:
                self.library_docs[name] = parse_document(name, data)
            except DeploymentInvalid:
                # Only matters if something needs it; then the message says which.
                self.unreadable_library.append(name)

    def _index(self) -> None:
        for doc in self.docs.values():
            if doc.kind == "dmn":
                self._index_decision(doc, deployed=True)
                continue
            for node in doc.root.iterfind("bpmn:process", NSMAP):
                pid = (node.get("id") or "").strip()
                if not pid:
                    self.problem(doc, None, "process has no id attribute", at=node)
                    continue
                other = self.processes.get(pid)
                if other is not None:
                    if other.doc is not doc:  # within one file the XSD reports it
                        self.problem(
                            doc,
                            node,
                            f"process id '{pid}' is also defined in {other.doc.name} "
                            f"(line {other.node.sourceline}); process ids must be unique",
                        )
                    continue
                executable = node.get("isExecutable", "true") == "true"
                # Non-executable processes (other pools of a collaboration) are drawn for
                # people to read; they are indexed so calls to them are reported, no more.
                self.processes[pid] = _Process(pid, doc, node, executable, deployed=True)
        for doc in self.library_docs.values():
            if doc.kind == "dmn":
                self._index_decision(doc, deployed=False)
                continue
            for node in doc.root.iterfind("bpmn:process", NSMAP):
                pid = (node.get("id") or "").strip()
                if not pid or pid in self.processes:
                    continue
                executable = node.get("isExecutable", "true") == "true"
                self.processes[pid] = _Process(pid, doc, node, executable, deployed=False)

    def _index_decision(self, doc: Document, *, deployed: bool) -> None:
        decisions = [n for n in doc.root if etree.QName(n).localname == "decision"]
        if not decisions:
            if deployed:
                self.problem(doc, None, "DMN file defines no decision", at=doc.root)
            return
        # SpiffWorkflow keys a DMN file by its first decision only.
        decision_id = decisions[0].get("id")
        if not decision_id:
            return  # the XSD reports the missing id
        other = self.decisions.get(decision_id)
        if other is not None:
            if deployed and other is not doc:
                self.problem(
                    doc,
                    decisions[0],
                    f"decision id '{decision_id}' is also defined in {other.name}",
                )
            return
        self.decisions[decision_id] = doc

    def _closure(self, pid: str) -> tuple[list[_Process], list[Document]]:
        """The processes `pid` reaches through call activities (itself first) and the DMN
        documents their business-rule tasks use."""
        seen: dict[str, _Process] = {}
        dmn: dict[str, Document] = {}
        pending = [pid]
        while pending:
            proc = self.processes.get(pending.pop(0))
            if proc is None or proc.id in seen:
                continue
            seen[proc.id] = proc
            for call in proc.node.iter(f"{{{BPMN_NS}}}callActivity"):
                if call.get("calledElement"):
                    pending.append(call.get("calledElement"))
            for rule in proc.node.iter(f"{{{BPMN_NS}}}businessRuleTask"):
                decision = self.decisions.get(_called_decision(rule) or "")
                if decision is not None:
                    dmn[decision.name] = decision
        return list(seen.values()), list(dmn.values())

    # -- per-process checks ----------------------------------------------------

    def _check_process(self, proc: _Process) -> None:
        self.process_forms[proc.id] = set()
        self._check_lanes(proc)
        for node in proc.node.iter(etree.Element):
            tag = _local(node)
            if tag in _HUMAN_TAGS:
                self._check_human_task(proc, node, tag)
            elif tag == "scriptTask":
                script = node.find("bpmn:script", NSMAP)
                self._expression(proc.doc, node, script, "exec", "script")
            elif tag == "sequenceFlow":
                condition = node.find("bpmn:conditionExpression", NSMAP)
                if condition is not None:
                    self._expression(proc.doc, node, condition, "eval", "condition")
            elif tag == "conditionalEventDefinition":
                condition = node.find("bpmn:condition", NSMAP)
                self._expression(proc.doc, node.getparent(), condition, "eval", "event condition")
            elif tag == "timerEventDefinition":
                self._check_timer(proc.doc, node)
            elif tag == "standardLoopCharacteristics":
                self._check_standard_loop(proc.doc, node)
            elif tag == "multiInstanceLoopCharacteristics":
                for child in ("loopCardinality", "completionCondition"):
                    found = node.find(f"bpmn:{child}", NSMAP)
                    if found is not None:
                        self._expression(proc.doc, node.getparent(), found, "eval", child)
            elif tag == "callActivity":
                self._check_call(proc, node)
            elif tag == "businessRuleTask":
                self._check_decision(proc, node)
            if tag:
                for script in ("preScript", "postScript"):
                    found = node.find(f"bpmn:extensionElements/spiffworkflow:{script}", NSMAP)
                    if found is not None:
                        self._expression(proc.doc, node, found, "exec", script)
        for scope in self._scopes(proc.node):
            self._check_cycles(proc, scope)

    def _check_lanes(self, proc: _Process) -> None:
        for lane in proc.node.iter(f"{{{BPMN_NS}}}lane"):
            if lane.find("bpmn:childLaneSet/bpmn:lane", NSMAP) is not None:
                continue  # a lane that only groups other lanes needs no role
            name = lane.get("name")
            role = role_for_lane(name)
            if role is None:
                self.problem(proc.doc, lane, "lane has no name; name it for the role that works it")
            elif role not in self.known_roles:
                known = ", ".join(sorted(self.known_roles))
                self.problem(
                    proc.doc,
                    lane,
                    f"lane '{name}' names no known role ('{role}'); known roles: {known}",
                )

    def _lanes(self, doc: Document) -> dict[str, str | None]:
        """flowNodeRef -> lane name for a whole document, exactly as SpiffWorkflow builds it."""
        lanes = self.lane_maps.get(doc.name)
        if lanes is None:
            lanes = {}
            for ref in doc.root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
                if ref.text is not None:
                    lanes[ref.text] = ref.getparent().get("name")
            self.lane_maps[doc.name] = lanes
        return lanes

    def _lane_of(self, proc: _Process, node: Any) -> tuple[str | None, bool]:
        """The lane SpiffWorkflow gives `node` (a task in an embedded subprocess takes the
        subprocess's lane), and whether any lane lists it at all."""
        lanes = self._lanes(proc.doc)
        chain = [node]
        for ancestor in node.iterancestors():
            if ancestor is proc.node:
                break
            if _local(ancestor) in _SUBPROCESS_TAGS:
                chain.append(ancestor)
        lane, listed = None, False
        for item in reversed(chain):  # outermost first
            if lane is None:
                listed = listed or item.get("id") in lanes
                lane = lanes.get(item.get("id"))
        return lane, listed

    def _check_human_task(self, proc: _Process, node: Any, tag: str) -> None:
        doc = proc.doc
        kind = "user task" if tag == "userTask" else "manual task"
        lane, listed = self._lane_of(proc, node)
        if lane is None and not listed:  # a nameless lane is reported on the lane itself
            self.problem(
                doc,
                node,
                f"{kind} {_describe(node)} lies in no lane; put it in the lane of the role "
                "that should do it",
            )
        props: dict[str, tuple[str, Any]] = {}
        container = node.find("bpmn:extensionElements/spiffworkflow:properties", NSMAP)
        if container is not None:
            for prop in container.iter(f"{{{NSMAP['spiffworkflow']}}}property"):
                name, value = prop.get("name"), prop.get("value")
                if name is None or value is None:
                    self.problem(doc, node, "property needs a name and a value", at=prop)
                else:
                    props[name] = (value, prop)

        if "formJsonSchemaFilename" in props:
            value, prop = props["formJsonSchemaFilename"]
            self._check_form(proc, node, prop, value, ui=False)
        elif tag == "userTask":
            self.warn(doc, node, f"user task {_describe(node)} has no formJsonSchemaFilename")
        if "formUiSchemaFilename" in props:
            value, prop = props["formUiSchemaFilename"]
            self._check_form(proc, node, prop, value, ui=True)
        if "dueIn" in props:
            value, prop = props["dueIn"]
            error = duration_error(value.strip())
            if error:
                self.problem(doc, node, f"dueIn {value!r}: {error}", at=prop)
        if "dueInBusinessDays" in props:
            value, prop = props["dueInBusinessDays"]
            if not re.fullmatch(r"\d+", value.strip()):
                self.problem(
                    doc, node, f"dueInBusinessDays {value!r} must be a whole number ≥ 0", at=prop
                )
        if "priority" in props:
            value, prop = props["priority"]
            if value.strip() not in PRIORITIES:
                self.problem(
                    doc,
                    node,
                    f"priority {value!r} must be one of {', '.join(PRIORITIES)}",
                    at=prop,
                )

    def _check_form(self, proc: _Process, node: Any, prop: Any, filename: str, *, ui: bool) -> None:
        filename = filename.strip()
        key = self.forms.key_for(filename)
        if key is None:
            self.problem(
                proc.doc,
                node,
                f"form {filename} is not among the deployed forms",
                at=prop,
            )
            return
        self.process_forms[proc.id].add(filename)
        if filename in self.forms.values or filename in self.forms.failed:
            return
        value, problem = _read_form(filename, self.forms.raw[key], ui=ui)
        if problem is not None:
            self.forms.failed.add(filename)
            self.problems.append(problem)
            return
        self.forms.values[filename] = value

    def _expression(self, doc: Document, owner: Any, node: Any, mode: str, what: str) -> None:
        source = node.text if node is not None else None
        if source is None or not source.strip():
            self.problem(doc, owner, f"{what} is empty", at=node)
            return
        error = self.check(source, mode)
        if error:
            self.problem(doc, owner, f"{what} does not compile in the sandbox: {error}", at=node)

    def _check_timer(self, doc: Document, definition: Any) -> None:
        event = definition.getparent()
        found = [child for child in definition if _local(child) in _TIMER_LITERAL_CHECKS]
        if not found:
            self.problem(doc, event, "timer has no timeDuration, timeDate or timeCycle")
            return
        for child in found:
            kind = _local(child)
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
            error = _TIMER_LITERAL_CHECKS[kind](value.strip())
            if error:
                self.problem(doc, event, f"timer {kind} {value!r}: {error}", at=child)

    def _check_timer_expression(self, doc: Document, event: Any, child: Any, source: str) -> None:
        if _BARE_ISO.fullmatch(source):
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

    def _check_call(self, proc: _Process, node: Any) -> None:
        called = node.get("calledElement")
        if not called:
            self.problem(proc.doc, node, "call activity has no calledElement")
            return
        target = self.processes.get(called)
        if target is None:
            message = (
                f"call activity {_describe(node)} calls process '{called}', which is "
                "neither deployed nor in the library"
            )
            if self.unreadable_library:
                message += f" (unreadable library files: {', '.join(self.unreadable_library)})"
            self.problem(proc.doc, node, message)
        elif not target.executable:
            self.problem(
                proc.doc,
                node,
                f"call activity {_describe(node)} calls process '{called}', which is not "
                "executable",
            )

    def _check_decision(self, proc: _Process, node: Any) -> None:
        decision = _called_decision(node)
        if not decision:
            self.problem(proc.doc, node, "business rule task has no spiffworkflow:calledDecisionId")
        elif decision not in self.decisions:
            self.problem(
                proc.doc,
                node,
                f"business rule task {_describe(node)} uses decision '{decision}', which no "
                "deployed or library DMN file defines",
            )

    # -- loops -----------------------------------------------------------------

    def _scopes(self, process: Any) -> Iterator[Any]:
        yield process
        for node in process.iter(etree.Element):
            if _local(node) in _SUBPROCESS_TAGS:
                yield node

    def _waits(self, node: Any) -> bool:
        tag = _local(node)
        if tag in _WAIT_TAGS:
            return True
        if tag in _SUBPROCESS_TAGS:
            return any(_local(n) in _WAIT_TAGS for n in node.iter(etree.Element))
        if tag == "callActivity":
            return self._process_waits(node.get("calledElement") or "", set())
        return False

    def _process_waits(self, pid: str, visiting: set[str]) -> bool:
        if pid in self.waits_memo:
            return self.waits_memo[pid]
        proc = self.processes.get(pid)
        if proc is None or pid in visiting:
            return False
        visiting.add(pid)
        result = any(
            _local(n) in _WAIT_TAGS
            or (
                _local(n) == "callActivity"
                and self._process_waits(n.get("calledElement") or "", visiting)
            )
            for n in proc.node.iter(etree.Element)
        )
        self.waits_memo[pid] = result
        return result

    def _check_cycles(self, proc: _Process, scope: Any) -> None:
        """Report each sequence flow that closes a loop through a waiting element.

        SpiffWorkflow deepens its task tree on every round of a sequence-flow loop and,
        after ~250 rounds, silently stops (the "loop cliff"), so loops that wait on
        people or events must be modelled another way."""
        nodes: dict[str, Any] = {}
        for child in scope:
            if _local(child) in _FLOW_NODE_TAGS and child.get("id"):
                nodes[child.get("id")] = child
        edges: dict[str, list[tuple[str, Any]]] = {node_id: [] for node_id in nodes}
        for child in scope:
            if _local(child) == "sequenceFlow":
                source, target = child.get("sourceRef"), child.get("targetRef")
                if source in nodes and target in nodes:
                    edges[source].append((target, child))
            elif _local(child) == "boundaryEvent":
                attached = child.get("attachedToRef")
                if attached in nodes:
                    # An event on an activity leaves from it: loops through boundary
                    # events count.
                    edges[attached].append((child.get("id"), None))

        starts = [i for i, n in nodes.items() if _local(n) == "startEvent"]
        order = starts + [i for i in nodes if i not in starts]
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        for root in order:
            if root in state:
                continue
            path: list[str] = [root]
            position = {root: 0}
            state[root] = 1
            stack = [iter(edges[root])]
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    done = path.pop()
                    del position[done]
                    state[done] = 2
                    stack.pop()
                    continue
                target, flow = step
                if state.get(target) == 1 and flow is not None:
                    loop = [nodes[i] for i in path[position[target] :]]
                    waiting = [n for n in loop if self._waits(n)]
                    if waiting:
                        self._report_loop(proc.doc, flow, nodes[target], waiting[0])
                elif target not in state:
                    state[target] = 1
                    position[target] = len(path)
                    path.append(target)
                    stack.append(iter(edges[target]))

    def _report_loop(self, doc: Document, flow: Any, target: Any, waiting: Any) -> None:
        where = f"{_describe(target)}"
        if waiting is not target:
            where += f", and the loop waits at {_describe(waiting)}"
        self.problem(
            doc,
            flow,
            f"sequence flow {flow.get('id')} loops back to {where}: SpiffWorkflow stalls "
            "after ~250 rounds of a sequence-flow loop. Use a loop marker "
            "(standardLoopCharacteristics), multi-instance, or a new instance per cycle.",
        )

    # -- DMN and SpiffWorkflow's own parse -------------------------------------

    def _check_dmn(self, doc: Document) -> None:
        decisions = [n for n in doc.root if etree.QName(n).localname == "decision"]
        if len(decisions) != 1:
            # SpiffWorkflow crashes on these (AttributeError) instead of reporting them.
            if len(decisions) > 1:
                self.problem(
                    doc,
                    decisions[1],
                    "a DMN file may hold only one decision (SpiffWorkflow uses the first); "
                    "move this one to a file of its own",
                )
            return
        parser = BpmnDmnParser()
        try:
            parser.add_dmn_xml(doc.root, filename=doc.name)
            for dmn_parser in parser.dmn_parsers.values():
                dmn_parser.parse()
        except Exception as exc:  # DMN parsing raises KeyError etc. on odd tables
            self.problems.append(problem_from_spiff(exc, {doc.name: doc}))

    def _check_with_spiff(
        self, proc: _Process, closure: tuple[list[_Process], list[Document]]
    ) -> None:
        procs, dmn_docs = closure
        docs = {p.doc.name: p.doc for p in procs} | {d.name: d for d in dmn_docs}
        if not all(self.schema_ok.get(name, False) for name in docs):
            return  # XSD errors first: the parser's reaction to them only adds noise
        if not all(p.executable for p in procs):
            return  # reported on the call activity already
        try:
            parser = build_parser(docs.values())
            parser.get_spec(proc.id)
            # Missing called processes are reported above, with their element.
            parser.get_subprocess_specs(proc.id, require_call_activity_specs=False)
        except Exception as exc:  # SpiffWorkflow raises plain exceptions too
            found = problem_from_spiff(exc, docs)
            if found.element_id is None:
                # A crash without an element, after problems we already named in these
                # files, is most likely one of them seen again.
                if any(p.file in docs for p in self.problems):
                    return
            elif any(
                (p.file, p.element_id) == (found.file, found.element_id) for p in self.problems
            ):
                return
            self.problems.append(found)

    # -- bundles ---------------------------------------------------------------

    def _bundle(
        self, proc: _Process, procs: list[_Process], dmn_docs: list[Document]
    ) -> ProcessBundle:
        files: dict[str, str] = {proc.doc.name: proc.doc.text}
        for doc in sorted([*(p.doc for p in procs), *dmn_docs], key=lambda d: d.name):
            files.setdefault(doc.name, doc.text)
        form_names = sorted({name for p in procs for name in self.process_forms.get(p.id, ())})
        forms = {name: self.forms.values[name] for name in form_names}
        warnings_ = [w for w in self.warnings if w.file in files or w.file in forms]
        return ProcessBundle(
            process_id=proc.id,
            name=(proc.node.get("name") or "").strip() or proc.id,
            files=files,
            forms=forms,
            sha256=bundle_digest(files, forms),
            warnings=warnings_,
        )


def _called_decision(node: Any) -> str | None:
    return node.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NSMAP)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_form(filename: str, raw: bytes, *, ui: bool) -> tuple[Any, Problem | None]:
    """The parsed form, or the problem with it. Problems name the form file itself."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return None, Problem(filename, None, exc.lineno, f"not valid JSON: {exc.msg}")
    except (ValueError, RecursionError) as exc:  # also UnicodeDecodeError
        return None, Problem(filename, None, None, f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        what = "a UI schema" if ui else "a form schema"
        return None, Problem(filename, None, 1, f"{what} must be a JSON object")
    if not ui:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            return None, Problem(
                filename, None, None, f"not a valid JSON Schema: {exc.message} (at {exc.json_path})"
            )
    return value, None


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.element_id or "", p.message))
