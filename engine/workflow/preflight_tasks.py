"""Pre-flight checks of human tasks: the lane (and so the role) that works each one, the
properties on it (forms, due dates, priority) and the form files those properties name."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.workflow.bpmn_elements import SUBPROCESS_TAGS, bpmn_tag, describe
from engine.workflow.iso8601 import duration_error
from engine.workflow.parsing import BPMN_NS, NSMAP, Document, Problem, role_for_lane
from engine.workflow.preflight_state import PreflightState, Process

_DATA_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")

PRIORITIES = ("routine", "urgent", "asap", "stat")


class HumanTaskChecks(PreflightState):
    def _check_lanes(self, proc: Process) -> None:
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

    def _lane_of(self, proc: Process, node: Any) -> tuple[str | None, bool]:
        """The lane SpiffWorkflow gives `node` (a task in an embedded subprocess takes the
        subprocess's lane), and whether any lane lists it at all."""
        lanes = self._lanes(proc.doc)
        chain = [node]
        for ancestor in node.iterancestors():
            if ancestor is proc.node:
                break
            if bpmn_tag(ancestor) in SUBPROCESS_TAGS:
                chain.append(ancestor)
        lane, listed = None, False
        for item in reversed(chain):  # outermost first
            if lane is None:
                listed = listed or item.get("id") in lanes
                lane = lanes.get(item.get("id"))
        return lane, listed

    def _check_human_task(self, proc: Process, node: Any, tag: str) -> None:
        doc = proc.doc
        kind = "user task" if tag == "userTask" else "manual task"
        lane, listed = self._lane_of(proc, node)
        if lane is None and not listed:  # a nameless lane is reported on the lane itself
            self.problem(
                doc,
                node,
                f"{kind} {describe(node)} lies in no lane; choose a role: put it in the lane "
                "of the role that should do it",
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
            self.warn(doc, node, f"user task {describe(node)} has no formJsonSchemaFilename")
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
        for marker, message in WITHDRAWN_BY.items():
            if marker in props and props[marker][0].strip().lower() == "true":
                if not _interrupted_by_message(node, message):
                    self.problem(
                        doc,
                        node,
                        f"{kind} {describe(node)} is marked {marker}: attach an interrupting "
                        f"boundary event catching the message '{message}' (the engine sends it "
                        "to withdraw the task)",
                        at=props[marker][1],
                    )
        if "dueAt" in props and not props["dueAt"][0].strip().isidentifier():
            self.problem(
                doc,
                node,
                f"dueAt {props['dueAt'][0]!r} must name a task-data variable",
                at=props["dueAt"][1],
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
        # priorityVariable / dueInVariable / laneVariable name a task-data path that a
        # decision fills at run time; the literal property stays the fallback.
        for name in ("priorityVariable", "dueInVariable", "laneVariable"):
            if name in props:
                value, prop = props[name]
                if not _DATA_PATH.fullmatch(value.strip()):
                    self.problem(
                        doc,
                        node,
                        f"{name} {value!r} must name task data, e.g. routing.priority",
                        at=prop,
                    )

    def _check_form(self, proc: Process, node: Any, prop: Any, filename: str, *, ui: bool) -> None:
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


# Task markers the engine acts on by sending a message the task must catch: client outreach is
# withdrawn by do_not_contact (engine.outreach), inpatient-only work ends with the discharge
# (engine.discharge).
WITHDRAWN_BY = {"clientOutreach": "do_not_contact", "inpatientOnly": "inpatient_care_ended"}


def _interrupted_by_message(node: Any, message: str) -> bool:
    root = node.getroottree().getroot()
    ids = {m.get("id") for m in root.iterfind(".//bpmn:message", NSMAP) if m.get("name") == message}
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NSMAP):
        if boundary.get("attachedToRef") != node.get("id"):
            continue
        if boundary.get("cancelActivity", "true") == "false":
            continue
        for definition in boundary.iterfind("bpmn:messageEventDefinition", NSMAP):
            if definition.get("messageRef") in ids:
                return True
    return False


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
