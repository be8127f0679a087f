"""Small helpers for reading BPMN elements (lxml nodes) during pre-flight."""

from __future__ import annotations

from typing import Any

from engine.workflow.parsing import BPMN_NS, NSMAP

SUBPROCESS_TAGS = {"subProcess", "transaction", "adHocSubProcess"}
HUMAN_TAGS = {"userTask", "manualTask"}


def bpmn_tag(node: Any) -> str:
    tag = node.tag
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
        return ""
    return tag[len(BPMN_NS) + 2 :]


def describe(node: Any) -> str:
    name = (node.get("name") or "").strip()
    node_id = node.get("id")
    return f"'{name}' ({node_id})" if name else f"{node_id}"


def owner_of(node: Any) -> Any:
    """The nearest element with an id: what a problem inside it is reported against."""
    current = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    return current if current is not None else node


def called_decision(node: Any) -> str | None:
    return node.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NSMAP)
