"""What changed between two versions of a diagram, element by element.

Semantic content (element type, attributes, conditions, timer and extension properties,
sequence flows and lane membership) is told apart from diagram interchange (BPMNDI: shapes'
bounds, edges' waypoints): moving a box is a layout change, not a pathway change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.workflow import parsing

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"


@dataclass(frozen=True)
class DiagramDiff:
    added: list[str]
    removed: list[str]
    changed: list[dict[str, Any]]
    layout_only: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "layout_only": self.layout_only,
        }


def _text(node: Any) -> str:
    return " ".join((node.text or "").split())


def _canonical(node: Any) -> str:
    return etree.tostring(node, method="c14n").decode("utf-8")


def _fields(node: Any) -> dict[str, str]:
    """An element's semantic content as named fields: attributes, own text, and each child
    that is not an element of its own (children with ids are compared separately)."""
    out: dict[str, str] = {"type": etree.QName(node).localname}
    for name, value in node.attrib.items():
        if name != "id":
            out[parsing.short_tag(etree.QName(name).localname)] = value
    if _text(node):
        out["text"] = _text(node)
    seen: dict[str, list[str]] = {}
    for child in node:
        if not isinstance(child.tag, str) or child.get("id") is not None:
            continue
        local = etree.QName(child).localname
        if local == "extensionElements":
            for ext in child:
                if not isinstance(ext.tag, str):
                    continue
                ext_name = etree.QName(ext).localname
                if ext_name == "properties":
                    for prop in ext:
                        if isinstance(prop.tag, str) and prop.get("name"):
                            out[f"properties.{prop.get('name')}"] = prop.get("value") or ""
                else:
                    seen.setdefault(f"extensionElements.{ext_name}", []).append(_canonical(ext))
            continue
        seen.setdefault(local, []).append(_canonical(child))
    for name, values in seen.items():
        # incoming/outgoing/flowNodeRef are sets: their order carries no meaning.
        out[name] = "\n".join(sorted(values))
    return out


def _index(xml: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(semantic fields by element id, canonical DI by the element id it draws)."""
    doc = parsing.parse_document("diagram.bpmn", xml.encode("utf-8"))
    semantic: dict[str, dict[str, str]] = {}
    layout: dict[str, list[str]] = {}
    for node in doc.root.iter(etree.Element):
        if etree.QName(node).namespace == BPMNDI_NS:
            target = node.get("bpmnElement")
            if target is not None and etree.QName(node).localname in ("BPMNShape", "BPMNEdge"):
                layout.setdefault(target, []).append(_canonical(node))
            continue
        if any(etree.QName(a).namespace == BPMNDI_NS for a in node.iterancestors()):
            continue
        node_id = node.get("id")
        if node_id is not None and node is not doc.root:
            semantic[node_id] = _fields(node)
    return semantic, {k: "\n".join(v) for k, v in layout.items()}


def diff_diagrams(old_xml: str, new_xml: str) -> DiagramDiff:
    """Element ids added, removed and changed (with the names of the changed fields) from
    `old_xml` to `new_xml`, and those whose only change is where they are drawn."""
    old, old_layout = _index(old_xml)
    new, new_layout = _index(new_xml)
    changed: list[dict[str, Any]] = []
    layout_only: list[str] = []
    for element_id in sorted(old.keys() & new.keys()):
        a, b = old[element_id], new[element_id]
        fields = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
        if fields:
            changed.append({"element_id": element_id, "fields": fields})
        elif old_layout.get(element_id) != new_layout.get(element_id):
            layout_only.append(element_id)
    return DiagramDiff(
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        changed=changed,
        layout_only=layout_only,
    )
