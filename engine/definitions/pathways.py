"""Which processes may open a case. Only a process marked as a case pathway starts a case;
the rest (a referral loop, crisis intervention, discharge follow-up, a called sub-process)
are started by the pathway or by a message, never on their own as a case.

The mark is a property on the `<bpmn:process>` element, the way task properties are written:

    <bpmn:process id="care_pathway" ...>
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="casePathway" value="true" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>

It travels with the diagram, so a hospital's own pathway is marked where it is drawn."""

from __future__ import annotations

from lxml import etree

from engine.definitions.models import ProcessDefinition
from engine.workflow.parsing import NSMAP, parse_document

CASE_PATHWAY_PROPERTY = "casePathway"
_TRUE = {"true", "yes", "1"}
# (sha256, process key) -> marked: a deployed version never changes.
_MARKED: dict[tuple[str, str], bool] = {}


def process_properties(xml: str, process_key: str) -> dict[str, str]:
    """The `spiffworkflow:property` name/values on one process element of a BPMN document."""
    root = parse_document("definition.bpmn", xml.encode()).root
    found: dict[str, str] = {}
    for process in root.iterfind("bpmn:process", NSMAP):
        if process.get("id") != process_key:
            continue
        props = process.iterfind(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NSMAP
        )
        for prop in props:
            if isinstance(prop, etree._Element) and prop.get("name"):
                found[prop.get("name", "")] = prop.get("value", "")
    return found


def is_case_pathway(definition: ProcessDefinition) -> bool:
    key = (definition.sha256, definition.process_key)
    marked = _MARKED.get(key)
    if marked is None:
        props = process_properties(definition.bpmn_xml, definition.process_key)
        marked = _MARKED[key] = props.get(CASE_PATHWAY_PROPERTY, "").strip().lower() in _TRUE
    return marked
