"""Validation messages say what to fix: the field's label and the rule, and for an instrument
which questions are unanswered."""

from __future__ import annotations

from engine import instruments
from engine.forms import field_errors

PHQ9 = {**instruments.answers_schema("phq9"), "x-instrument": "phq9"}
FORM = {
    "type": "object",
    "properties": {
        "phq9": PHQ9,
        "coping": {"title": "Coping", "type": "string", "minLength": 1},
        "untitled": {"type": "string"},
    },
    "required": ["phq9", "coping", "untitled"],
}


def _messages(data):  # type: ignore[no-untyped-def]
    return {e["field"]: e["message"] for e in field_errors(FORM, data)}


def test_an_instrument_names_its_unanswered_questions() -> None:
    answers = {"q1": 0, "q2": 1, "q3": 0, "q4": 0, "q5": 0, "q6": 0, "q9": 0}
    got = _messages({"phq9": answers, "coping": "ok", "untitled": "x"})
    assert got["phq9"] == "Answer all 9 PHQ-9 questions; 7 and 8 are missing."
    assert got["phq9.q7"] == "Question 7 is not answered."


def test_one_missing_question_reads_in_the_singular() -> None:
    answers = {f"q{n}": 0 for n in range(1, 9)}
    got = _messages({"phq9": answers, "coping": "ok", "untitled": "x"})
    assert got["phq9"] == "Answer all 9 PHQ-9 questions; 9 is missing."


def test_a_missing_field_is_named_by_its_label() -> None:
    got = _messages({"phq9": {f"q{n}": 0 for n in range(1, 10)}, "untitled": "x"})
    assert got == {"coping": "Coping is required."}


def test_an_empty_text_is_named_by_its_label() -> None:
    got = _messages({"phq9": {f"q{n}": 0 for n in range(1, 10)}, "coping": "", "untitled": "x"})
    assert got == {"coping": "Coping cannot be left empty."}


def test_a_field_without_a_label_keeps_the_plain_sentence() -> None:
    got = _messages({"phq9": {f"q{n}": 0 for n in range(1, 10)}, "coping": "ok"})
    assert got == {"untitled": "This field is required."}
