"""Deploy-time ("pre-flight") validation of BPMN/DMN diagrams and the forms they use.

`prepare` reads every uploaded file, checks it statically and with SpiffWorkflow's own
parser, gathers *all* problems (each naming file, element and line) and only then decides:
either every executable process becomes a `ProcessBundle`, or nothing does and
`DeploymentInvalid` lists what to fix. The checks catch at deploy time what SpiffWorkflow
would otherwise only trip over when a token reaches the element, weeks into a case.

This module holds the run itself; the checks it makes of each element live, by concern, in
`preflight_tasks`, `preflight_elements` and `preflight_loops`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from types import MappingProxyType

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.workflow.bpmn_elements import HUMAN_TAGS, bpmn_tag, called_decision
from engine.workflow.iso8601 import duration_error
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
    schema_problems,
)
from engine.workflow.preflight_elements import ElementChecks
from engine.workflow.preflight_loops import LoopChecks
from engine.workflow.preflight_state import ExpressionChecker, Process, SourceMode
from engine.workflow.preflight_tasks import PRIORITIES as PRIORITIES  # was defined here
from engine.workflow.preflight_tasks import HumanTaskChecks

__all__ = [
    "DEFAULT_ROLES",
    "DeploymentInvalid",
    "ExpressionChecker",
    "Problem",
    "ProcessBundle",
    "duration_error",
    "prepare",
]

_EMPTY: Mapping[str, bytes] = MappingProxyType({})


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


# ---------------------------------------------------------------- expressions ------


def _default_checker() -> ExpressionChecker:
    try:
        from engine.workflow.scripting import check_source
    except ImportError:
        return _restricted_check

    def check(source: str, mode: SourceMode) -> str | None:
        return check_source(source, mode=mode)

    return check


def _restricted_check(source: str, mode: SourceMode) -> str | None:
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


class _Preflight(HumanTaskChecks, ElementChecks, LoopChecks):
    # -- the steps -------------------------------------------------------------

    def run(self) -> list[ProcessBundle]:
        self._read()
        self._index()
        targets = [p for p in self.processes.values() if p.deployed and p.executable]
        closures = {p.id: self._closure(p.id) for p in targets}

        checked: dict[str, Process] = {p.id: p for p in targets}
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
                self.processes[pid] = Process(pid, doc, node, executable, deployed=True)
        for doc in self.library_docs.values():
            if doc.kind == "dmn":
                self._index_decision(doc, deployed=False)
                continue
            for node in doc.root.iterfind("bpmn:process", NSMAP):
                pid = (node.get("id") or "").strip()
                if not pid or pid in self.processes:
                    continue
                executable = node.get("isExecutable", "true") == "true"
                self.processes[pid] = Process(pid, doc, node, executable, deployed=False)

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

    def _closure(self, pid: str) -> tuple[list[Process], list[Document]]:
        """The processes `pid` reaches through call activities (itself first) and the DMN
        documents their business-rule tasks use."""
        seen: dict[str, Process] = {}
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
                decision = self.decisions.get(called_decision(rule) or "")
                if decision is not None:
                    dmn[decision.name] = decision
        return list(seen.values()), list(dmn.values())

    # -- per-process checks ----------------------------------------------------

    def _check_process(self, proc: Process) -> None:
        self.process_forms[proc.id] = set()
        self._check_lanes(proc)
        for node in proc.node.iter(etree.Element):
            tag = bpmn_tag(node)
            if tag in HUMAN_TAGS:
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
        self, proc: Process, closure: tuple[list[Process], list[Document]]
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
        self, proc: Process, procs: list[Process], dmn_docs: list[Document]
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


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.element_id or "", p.message))
