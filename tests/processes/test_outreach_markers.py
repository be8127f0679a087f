"""What the engine relies on in the shipped diagrams: every client-outreach task can be
withdrawn by the message do_not_contact, and every inpatient-only task ends with the message
inpatient_care_ended (engine.outreach, engine.discharge). A task marked without its boundary
event would make the engine's withdrawal fail, so the markers are checked here, as data."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FILES = sorted((ROOT / "processes").glob("*.bpmn"))


def _marked(prop: str) -> list[tuple[str, etree._Element, etree._Element]]:
    out = []
    for path in FILES:
        tree = etree.parse(str(path))
        for task in tree.xpath("//bpmn:userTask", namespaces=NS):
            values = task.xpath(
                f"./bpmn:extensionElements/spiffworkflow:properties/"
                f"spiffworkflow:property[@name='{prop}']/@value",
                namespaces=NS,
            )
            if values == ["true"]:
                out.append((path.name, tree.getroot(), task))
    return out


def _catches(root: etree._Element, task: etree._Element, message_name: str) -> bool:
    ids = {
        m.get("id") for m in root.xpath(f"//bpmn:message[@name='{message_name}']", namespaces=NS)
    }
    for boundary in root.xpath(
        f"//bpmn:boundaryEvent[@attachedToRef='{task.get('id')}']", namespaces=NS
    ):
        if boundary.get("cancelActivity", "true") != "true":
            continue
        refs = boundary.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=NS)
        if set(refs) & ids:
            return True
    return False


OUTREACH = _marked("clientOutreach")
INPATIENT = _marked("inpatientOnly")


def test_the_shipped_outreach_tasks_are_marked() -> None:
    assert {t.get("id") for _, _, t in OUTREACH} == {
        "tcm_first_attempt",
        "tcm_retry",
        "contact_check",
        "followup_review",
    }


def _id(value: object) -> str:
    return value if isinstance(value, str) else str(getattr(value, "get", dict().get)("id"))


@pytest.mark.parametrize(("filename", "root", "task"), OUTREACH, ids=_id)
def test_outreach_task_is_withdrawn_by_do_not_contact(filename, root, task) -> None:
    assert _catches(root, task, "do_not_contact"), f"{filename}: {task.get('id')}"


def test_the_bedside_assessment_is_inpatient_only() -> None:
    assert {t.get("id") for _, _, t in INPATIENT} == {"assessment"}


@pytest.mark.parametrize(("filename", "root", "task"), INPATIENT, ids=_id)
def test_inpatient_task_ends_with_the_discharge(filename, root, task) -> None:
    assert _catches(root, task, "inpatient_care_ended"), f"{filename}: {task.get('id')}"
