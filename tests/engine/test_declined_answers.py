"""Refused questions: any item may be answered "declined". The screen is then incomplete
(no band, flag `incomplete`), never scored as if the answer were "no" or "never"; what was
answered still raises every flag and risk level it reaches."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.errors import Invalid
from engine.instruments import answers_schema, score, validate_definition
from engine.instruments.definitions import get_instrument

PHQ9_ZERO = {f"q{i}": 0 for i in range(1, 10)}
GAD7_ZERO = {f"q{i}": 0 for i in range(1, 8)}
CSSRS_NO = {"q1": False, "q2": False, "q6": False}
# Every C-SSRS item asked (yes to 2 and to 6), so each one can be declined.
CSSRS_ALL_ASKED = {
    "q1": True,
    "q2": True,
    "q3": False,
    "q4": False,
    "q5": False,
    "q6": True,
    "q6_recent": False,
}
AHC_CLEAR = {
    "q1": "steady",
    "q2": [],
    "q3": "never",
    "q4": "never",
    "q5": False,
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}
COMPLETE = {
    "phq2": {"q1": 0, "q2": 0},
    "phq9": PHQ9_ZERO,
    "gad7": GAD7_ZERO,
    "cssrs": CSSRS_ALL_ASKED,
    "ahc_hrsn": AHC_CLEAR,
}


@pytest.mark.parametrize(
    ("key", "item"),
    [(key, item.id) for key in COMPLETE for item in get_instrument(key).items if item.required],
)
def test_every_item_of_every_instrument_accepts_declined(key: str, item: str) -> None:
    result = score(key, {**COMPLETE[key], item: "declined"})
    assert result.band is None
    assert result.flags[-1] == "incomplete"
    assert result.declined == (item,)


def test_declined_phq9_item9_is_incomplete_with_no_total_and_no_ideation_flag() -> None:
    result = score("phq9", {**PHQ9_ZERO, "q9": "declined"})
    assert (result.score, result.band, result.flags) == (None, None, ["incomplete"])


def test_declined_phq9_keeps_the_item9_flag_when_item9_was_answered() -> None:
    result = score("phq9", {**PHQ9_ZERO, "q3": "declined", "q9": 1})
    assert result.flags == ["suicide_ideation", "incomplete"]


def test_declined_phq2_item_still_positive_when_the_answer_given_reaches_3() -> None:
    assert score("phq2", {"q1": 3, "q2": "declined"}).flags == ["positive", "incomplete"]
    assert score("phq2", {"q1": 2, "q2": "declined"}).flags == ["incomplete"]


def test_declined_ahc_safety_item_still_flags_when_the_answers_given_exceed_10() -> None:
    answers = {**AHC_CLEAR, "q7": 5, "q8": 5, "q9": 1, "q10": "declined"}
    result = score("ahc_hrsn", answers)
    assert result.score is None
    assert result.flags == ["interpersonal_safety", "incomplete"]


def test_ahc_declined_outside_the_safety_items_keeps_the_safety_score() -> None:
    result = score("ahc_hrsn", {**AHC_CLEAR, "q1": "declined"})
    assert (result.score, result.flags) == (4, ["incomplete"])


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ({"q1": "declined", "q2": False, "q6": False}, "moderate"),
        ({"q1": True, "q2": "declined", "q6": False}, "moderate"),  # q3-q5 not asked
        ({"q1": False, "q2": False, "q6": "declined"}, "moderate"),
        ({"q1": False, "q2": False, "q6": True, "q6_recent": "declined"}, "moderate"),
        (
            {"q1": True, "q2": True, "q3": "declined", "q4": False, "q5": False, "q6": False},
            "moderate",
        ),
        ({"q1": True, "q2": True, "q3": True, "q4": True, "q5": "declined", "q6": False}, "high"),
        ({"q1": "declined", "q2": False, "q6": True, "q6_recent": True}, "high"),
    ],
)
def test_incomplete_cssrs_is_at_least_moderate_unless_the_answers_show_high(
    answers: dict[str, Any], risk: str
) -> None:
    result = score("cssrs", answers)
    assert (result.risk_level, result.flags) == (risk, ["incomplete"])


def test_a_declined_trigger_does_not_ask_its_follow_ups() -> None:
    result = score("cssrs", {"q1": True, "q2": "declined", "q6": False})
    assert result.declined == ("q2",)


def test_declining_an_item_that_was_not_asked_changes_nothing() -> None:
    result = score("cssrs", {**CSSRS_NO, "q4": "declined"})
    assert (result.risk_level, result.flags, result.declined) == ("none", [], ())


def test_declined_is_the_only_word_accepted_in_place_of_an_answer() -> None:
    with pytest.raises(Invalid) as err:
        score("phq9", {**PHQ9_ZERO, "q9": "refused"})
    assert [d["field"] for d in err.value.details] == ["q9"]


def test_the_answers_schema_takes_declined_as_the_scorer_does() -> None:
    validator = Draft202012Validator(answers_schema("cssrs"))
    assert validator.is_valid({"q1": True, "q2": "declined", "q6": False})
    assert not validator.is_valid({"q1": True, "q2": "maybe", "q6": False})


def test_incomplete_risk_level_must_be_one_of_the_risk_levels() -> None:
    data = copy.deepcopy(get_instrument("cssrs").to_dict())
    data["incomplete_risk_level"] = "unknown"
    with pytest.raises(Invalid) as err:
        validate_definition(data)
    assert [d["field"] for d in err.value.details] == ["$.incomplete_risk_level"]
