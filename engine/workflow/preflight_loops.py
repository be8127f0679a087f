"""Pre-flight check for sequence-flow loops: through elements that wait (the "loop cliff"), or
through none (a busy loop of scripts and gateways that one command would run without end)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from engine.workflow.bpmn_elements import HUMAN_TAGS, SUBPROCESS_TAGS, bpmn_tag, describe
from engine.workflow.parsing import Document
from engine.workflow.preflight_state import PreflightState, Process

# What can sit and wait for a long time: a loop through one of these can go round
# hundreds of times over the life of a case.
WAIT_TAGS = HUMAN_TAGS | {"receiveTask", "intermediateCatchEvent"}
FLOW_NODE_TAGS = (
    SUBPROCESS_TAGS
    | WAIT_TAGS
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


class LoopChecks(PreflightState):
    def _scopes(self, process: Any) -> Iterator[Any]:
        yield process
        for node in process.iter(etree.Element):
            if bpmn_tag(node) in SUBPROCESS_TAGS:
                yield node

    def _waits(self, node: Any) -> bool:
        tag = bpmn_tag(node)
        if tag in WAIT_TAGS:
            return True
        if tag in SUBPROCESS_TAGS:
            return any(bpmn_tag(n) in WAIT_TAGS for n in node.iter(etree.Element))
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
            bpmn_tag(n) in WAIT_TAGS
            or (
                bpmn_tag(n) == "callActivity"
                and self._process_waits(n.get("calledElement") or "", visiting)
            )
            for n in proc.node.iter(etree.Element)
        )
        self.waits_memo[pid] = result
        return result

    def _check_cycles(self, proc: Process, scope: Any) -> None:
        """Report each sequence flow that closes a loop through a waiting element.

        SpiffWorkflow deepens its task tree on every round of a sequence-flow loop and,
        after ~250 rounds, silently stops (the "loop cliff"), so loops that wait on
        people or events must be modelled another way."""
        nodes: dict[str, Any] = {}
        for child in scope:
            if bpmn_tag(child) in FLOW_NODE_TAGS and child.get("id"):
                nodes[child.get("id")] = child
        edges: dict[str, list[tuple[str, Any]]] = {node_id: [] for node_id in nodes}
        for child in scope:
            if bpmn_tag(child) == "sequenceFlow":
                source, target = child.get("sourceRef"), child.get("targetRef")
                if source in nodes and target in nodes:
                    edges[source].append((target, child))
            elif bpmn_tag(child) == "boundaryEvent":
                attached = child.get("attachedToRef")
                if attached in nodes:
                    # An event on an activity leaves from it: loops through boundary
                    # events count.
                    edges[attached].append((child.get("id"), None))

        starts = [i for i, n in nodes.items() if bpmn_tag(n) == "startEvent"]
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
                    else:
                        self._report_busy_loop(proc.doc, flow, nodes[target])
                elif target not in state:
                    state[target] = 1
                    position[target] = len(path)
                    path.append(target)
                    stack.append(iter(edges[target]))

    def _report_busy_loop(self, doc: Document, flow: Any, target: Any) -> None:
        # Nothing on the cycle waits, so one command would go round until the script limit
        # (or forever, if every element on it is a gateway): refused at deploy instead.
        self.problem(
            doc,
            flow,
            f"sequence flow {flow.get('id')} loops back to {describe(target)} with no wait "
            "state (user task, timer or message) on the cycle: it would run without end in "
            "one command. Use a loop marker (standardLoopCharacteristics) with a "
            "loopMaximum, or multi-instance.",
        )

    def _report_loop(self, doc: Document, flow: Any, target: Any, waiting: Any) -> None:
        where = f"{describe(target)}"
        if waiting is not target:
            where += f", and the loop waits at {describe(waiting)}"
        self.problem(
            doc,
            flow,
            f"sequence flow {flow.get('id')} loops back to {where}: SpiffWorkflow stalls "
            "after ~250 rounds of a sequence-flow loop. Use a loop marker "
            "(standardLoopCharacteristics), multi-instance, or a new instance per cycle.",
        )
