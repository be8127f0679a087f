"""Screening instruments: shipped definitions, scoring rules from CARE.md, answer checking,
the answers' JSON Schema, and a site's own imported instrument."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.errors import Conflict, Invalid, NotFound
from engine.instruments import (
    answers_schema,
    get_instrument,
    import_definition,
    list_instruments,
    score,
    validate_definition,
)

SHIPPED = ["ahc_hrsn", "cssrs", "gad7", "phq2", "phq9"]


def spread(total: int, count: int, top: int = 3) -> dict[str, int]:
    """Answers q1..q<count> adding up to `total`, filled from q1 (so the last item stays
    0 as long as possible)."""
    answers = {}
    for index in range(1, count + 1):
        answers[f"q{index}"] = min(top, total)
        total -= answers[f"q{index}"]
    assert total == 0, "total out of range"
    return answers


def field_names(error: Invalid) -> list[str]:
    return [d["field"] for d in error.details]


# --- shipped definitions ---------------------------------------------------------------


def test_every_shipped_instrument_is_listed() -> None:
    assert [i.key for i in list_instruments()] == SHIPPED


@pytest.mark.parametrize("key", SHIPPED)
def test_shipped_definition_satisfies_the_definition_rules(key: str) -> None:
    validate_definition(get_instrument(key).to_dict())


@pytest.mark.parametrize(
    ("key", "publisher"),
    [("phq2", "Pfizer"), ("phq9", "Pfizer"), ("gad7", "Pfizer"), ("cssrs", "Columbia")],
)
def test_shipped_definition_names_its_publisher(key: str, publisher: str) -> None:
    instrument = get_instrument(key)
    assert publisher in instrument.attribution + instrument.licence


def test_phq9_items_carry_the_loinc_codes() -> None:
    phq9 = get_instrument("phq9")
    assert [i.loinc for i in phq9.items] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
        "44258-2", "44252-5", "44253-3", "44260-8", "69722-7",
    ]  # fmt: skip
    assert phq9.loinc_total == "44261-6"


def test_gad7_and_ahc_carry_their_total_and_panel_codes() -> None:
    assert get_instrument("gad7").loinc_total == "70274-6"
    assert get_instrument("ahc_hrsn").loinc_panel == "96777-8"


def test_rules_of_a_loaded_definition_cannot_be_changed() -> None:
    flag = get_instrument("phq9").flags[0]
    with pytest.raises(TypeError):
        flag.rule["value"] = 3  # type: ignore[index]


# --- PHQ-9, GAD-7, PHQ-2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    result = score("phq9", spread(total, 9))
    assert (result.score, result.band, result.risk_level) == (total, band, None)


def test_phq9_item9_flags_suicide_ideation_whatever_the_total() -> None:
    result = score("phq9", {**spread(0, 9), "q9": 1})
    assert (result.score, result.band, result.flags) == (1, "minimal", ["suicide_ideation"])


def test_phq9_without_item9_has_no_flag_even_at_a_high_total() -> None:
    result = score("phq9", spread(24, 9))
    assert (result.band, result.flags) == ("severe", [])


@pytest.mark.parametrize("difficulty", ["not", "somewhat", "very", "extremely"])
def test_phq9_difficulty_item_is_accepted_and_unscored(difficulty: str) -> None:
    answers = spread(7, 9)
    assert score("phq9", {**answers, "q10": difficulty}) == score("phq9", answers)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (19, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_boundaries(total: int, band: str) -> None:
    result = score("gad7", spread(total, 7))
    assert (result.score, result.band, result.flags, result.risk_level) == (total, band, [], None)


@pytest.mark.parametrize(
    ("q1", "q2", "flags"),
    [(0, 0, []), (1, 1, []), (2, 0, []), (0, 2, []), (2, 1, ["positive"]), (3, 3, ["positive"])],
)
def test_phq2_is_positive_from_3(q1: int, q2: int, flags: list[str]) -> None:
    result = score("phq2", {"q1": q1, "q2": q2})
    assert (result.score, result.band, result.flags, result.risk_level) == (
        q1 + q2,
        None,
        flags,
        None,
    )


def test_result_dict_has_exactly_the_api_keys() -> None:
    assert score("phq2", {"q1": 3, "q2": 0}).as_dict() == {
        "score": 3,
        "band": None,
        "flags": ["positive"],
        "risk_level": None,
    }


def test_result_names_instrument_and_version() -> None:
    result = score("gad7", spread(3, 7))
    assert (result.instrument, result.version) == ("gad7", "1.0")


# --- C-SSRS -----------------------------------------------------------------------------

NO = {"q1": False, "q2": False, "q6": False}


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        pytest.param({}, "none", id="all-no"),
        pytest.param({"q1": True}, "low", id="wish-dead-only"),
        pytest.param(
            {"q2": True, "q3": False, "q4": False, "q5": False}, "low", id="thoughts-only"
        ),
        pytest.param(
            {"q1": True, "q2": True, "q3": False, "q4": False, "q5": False}, "low", id="1+2"
        ),
        pytest.param({"q2": True, "q3": True, "q4": False, "q5": False}, "moderate", id="method"),
        pytest.param({"q2": True, "q3": False, "q4": True, "q5": False}, "high", id="intent"),
        pytest.param({"q2": True, "q3": False, "q4": False, "q5": True}, "high", id="plan"),
        pytest.param({"q2": True, "q3": True, "q4": True, "q5": True}, "high", id="3+4+5"),
        pytest.param({"q6": True, "q6_recent": False}, "moderate", id="behaviour-long-ago"),
        pytest.param({"q6": True, "q6_recent": True}, "high", id="behaviour-recent"),
        pytest.param({"q1": True, "q6": True, "q6_recent": False}, "moderate", id="1+old-6"),
        pytest.param({"q3": True, "q4": True, "q5": True}, "none", id="3-5-ignored-when-2-no"),
        pytest.param({"q1": True, "q4": True, "q5": True}, "low", id="4-5-ignored-keeps-low"),
        pytest.param({"q6_recent": True}, "none", id="recent-ignored-when-6-no"),
    ],
)
def test_cssrs_risk_level(answers: dict[str, bool], risk: str) -> None:
    result = score("cssrs", {**NO, **answers})
    assert result.as_dict() == {"score": None, "band": None, "flags": [], "risk_level": risk}


def test_cssrs_missing_recent_when_behaviour_is_yes_names_q6_recent() -> None:
    with pytest.raises(Invalid) as caught:
        score("cssrs", {**NO, "q6": True})
    assert field_names(caught.value) == ["q6_recent"]


def test_cssrs_thoughts_yes_requires_items_3_to_5() -> None:
    with pytest.raises(Invalid) as caught:
        score("cssrs", {**NO, "q2": True})
    assert field_names(caught.value) == ["q3", "q4", "q5"]


def test_cssrs_thoughts_no_needs_no_items_3_to_5() -> None:
    assert score("cssrs", NO).risk_level == "none"


# --- AHC HRSN ---------------------------------------------------------------------------

AHC_CLEAR: dict[str, Any] = {
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


@pytest.mark.parametrize(
    ("change", "flags"),
    [
        pytest.param({}, [], id="none"),
        pytest.param({"q1": "worried"}, ["housing_instability"], id="worried"),
        pytest.param({"q1": "no_steady_place"}, ["housing_instability"], id="no-steady"),
        pytest.param({"q2": ["mold"]}, ["housing_quality"], id="mold"),
        pytest.param({"q2": ["pests", "leaks", "lead"]}, ["housing_quality"], id="several"),
        pytest.param({"q3": "often"}, ["food_insecurity"], id="food-worry-often"),
        pytest.param({"q3": "sometimes"}, ["food_insecurity"], id="food-worry-sometimes"),
        pytest.param({"q4": "often"}, ["food_insecurity"], id="food-ran-out-often"),
        pytest.param({"q4": "sometimes"}, ["food_insecurity"], id="food-ran-out-sometimes"),
        pytest.param({"q5": True}, ["transportation"], id="transport"),
        pytest.param({"q6": "yes"}, ["utilities"], id="threatened"),
        pytest.param({"q6": "already_shut_off"}, ["utilities"], id="shut-off"),
        pytest.param({"q7": 5, "q8": 4, "q9": 1, "q10": 1}, ["interpersonal_safety"], id="safety"),
    ],
)
def test_ahc_flag(change: dict[str, Any], flags: list[str]) -> None:
    result = score("ahc_hrsn", {**AHC_CLEAR, **change})
    assert (result.flags, result.band, result.risk_level) == (flags, None, None)


def test_ahc_flags_come_in_domain_order() -> None:
    everything = {
        "q1": "worried",
        "q2": ["heat"],
        "q3": "sometimes",
        "q4": "never",
        "q5": True,
        "q6": "already_shut_off",
        "q7": 5,
        "q8": 5,
        "q9": 5,
        "q10": 5,
    }
    assert score("ahc_hrsn", everything).flags == [
        "housing_instability",
        "housing_quality",
        "food_insecurity",
        "transportation",
        "utilities",
        "interpersonal_safety",
    ]


@pytest.mark.parametrize(
    ("safety", "total", "flagged"),
    [
        ((1, 1, 1, 1), 4, False),
        ((3, 3, 2, 2), 10, False),
        ((3, 3, 3, 2), 11, True),
        ((5, 5, 5, 5), 20, True),
    ],
)
def test_ahc_score_is_the_safety_sum_positive_above_10(
    safety: tuple[int, int, int, int], total: int, flagged: bool
) -> None:
    answers = {**AHC_CLEAR, **dict(zip(["q7", "q8", "q9", "q10"], safety, strict=True))}
    result = score("ahc_hrsn", answers)
    assert result.score == total
    assert ("interpersonal_safety" in result.flags) is flagged


# --- invalid answers --------------------------------------------------------------------

PHQ9_OK = spread(5, 9)
CSSRS_OK = {**NO, "q2": True, "q3": False, "q4": False, "q5": False}


@pytest.mark.parametrize(
    ("key", "answers", "fields"),
    [
        pytest.param("phq9", {**PHQ9_OK, "q3": True}, ["q3"], id="bool-is-not-int"),
        pytest.param("phq9", {**PHQ9_OK, "q3": "3"}, ["q3"], id="string-is-not-int"),
        pytest.param("phq9", {**PHQ9_OK, "q3": 3.0}, ["q3"], id="float-is-not-int"),
        pytest.param("phq9", {**PHQ9_OK, "q3": 4}, ["q3"], id="above-range"),
        pytest.param("phq9", {**PHQ9_OK, "q3": -1}, ["q3"], id="below-range"),
        pytest.param("phq9", {**PHQ9_OK, "q3": None}, ["q3"], id="null"),
        pytest.param("phq9", {k: v for k, v in PHQ9_OK.items() if k != "q9"}, ["q9"], id="gap"),
        pytest.param("phq9", {**PHQ9_OK, "q10": "a lot"}, ["q10"], id="difficulty"),
        pytest.param("phq9", {}, [f"q{i}" for i in range(1, 10)], id="empty"),
        pytest.param("phq2", {"q1": 1}, ["q2"], id="phq2-missing"),
        pytest.param("gad7", {**spread(0, 7), "q1": 1, "q7": 9}, ["q7"], id="gad7-range"),
        pytest.param("cssrs", {**NO, "q1": "yes"}, ["q1"], id="yes-string"),
        pytest.param("cssrs", {**NO, "q1": 1}, ["q1"], id="int-is-not-bool"),
        pytest.param("cssrs", {"q1": False}, ["q2", "q6"], id="cssrs-missing"),
        pytest.param("cssrs", {**CSSRS_OK, "q4": None}, ["q4"], id="null-when-asked"),
        pytest.param("cssrs", {**NO, "q3": "maybe"}, ["q3"], id="typed-even-if-not-asked"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q1": "homeless"}, ["q1"], id="unknown-choice"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q2": "mold"}, ["q2"], id="list-expected"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q2": ["mould"]}, ["q2"], id="unknown-problem"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q2": ["mold", "mold"]}, ["q2"], id="repeat"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q5": "yes"}, ["q5"], id="transport-bool"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q6": True}, ["q6"], id="utilities-string"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q7": 0}, ["q7"], id="safety-below"),
        pytest.param("ahc_hrsn", {**AHC_CLEAR, "q10": 6}, ["q10"], id="safety-above"),
        pytest.param(
            "ahc_hrsn",
            {**AHC_CLEAR, "q1": None, "q3": "always", "q8": "2", "q9": True},
            ["q1", "q3", "q8", "q9"],
            id="every-bad-item-named",
        ),
    ],
)
def test_invalid_answers_name_each_bad_item(
    key: str, answers: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(Invalid) as caught:
        score(key, answers)
    assert field_names(caught.value) == fields
    assert all(d["message"] for d in caught.value.details)


def test_invalid_answer_message_does_not_echo_the_value() -> None:
    with pytest.raises(Invalid) as caught:
        score("phq2", {"q1": "lives at 12 Elm St", "q2": 0})
    assert "Elm" not in json.dumps(caught.value.details)


def test_answers_must_be_an_object() -> None:
    with pytest.raises(Invalid) as caught:
        score("phq2", [1, 2])  # type: ignore[arg-type]
    assert field_names(caught.value) == ["answers"]


def test_unknown_extra_keys_are_ignored() -> None:
    assert score("phq2", {"q1": 1, "q2": 2, "q3": "x", "comment": None}).score == 3


@pytest.mark.parametrize("key", ["prapare", "PHQ9", "../forms/instruments/phq9", "", "instrument"])
def test_unknown_instrument_is_not_found(key: str) -> None:
    with pytest.raises(NotFound):
        score(key, {})


# --- answers schema ---------------------------------------------------------------------


def test_answers_schema_titles_are_the_item_wording() -> None:
    schema = answers_schema("phq9")
    assert schema["properties"]["q9"]["title"] == (
        "Thoughts that you would be better off dead, or of hurting yourself in some way"
    )
    assert schema["description"].startswith("Over the last 2 weeks")


def test_answers_schema_offers_labelled_options() -> None:
    q1 = answers_schema("phq9")["properties"]["q1"]
    assert q1["type"] == ["integer", "string"]  # a whole number, or "declined"
    assert q1["oneOf"][2] == {"const": 2, "title": "More than half the days"}
    assert q1["oneOf"][-1] == {"const": "declined", "title": "Declined to answer"}


def test_answers_schema_multi_select_is_a_unique_list() -> None:
    q2 = answers_schema("ahc_hrsn")["properties"]["q2"]
    assert (q2["type"], q2["uniqueItems"]) == ("array", True)
    assert {"const": "lead", "title": "Lead paint or pipes"} in q2["items"]["oneOf"]


def test_answers_schema_requires_cssrs_follow_ups_through_if_then() -> None:
    schema = answers_schema("cssrs")
    assert schema["required"] == ["q1", "q2", "q6"]
    assert {
        "if": {"properties": {"q2": {"const": True}}, "required": ["q2"]},
        "then": {"required": ["q3", "q4", "q5"]},
    } in schema["allOf"]
    assert {
        "if": {"properties": {"q6": {"const": True}}, "required": ["q6"]},
        "then": {"required": ["q6_recent"]},
    } in schema["allOf"]


@pytest.mark.parametrize("key", SHIPPED)
def test_answers_schema_is_a_valid_2020_12_schema(key: str) -> None:
    Draft202012Validator.check_schema(answers_schema(key))


@pytest.mark.parametrize(
    ("key", "answers"),
    [
        ("phq9", PHQ9_OK),
        ("phq9", {**PHQ9_OK, "q10": "very"}),
        ("phq9", {**PHQ9_OK, "q1": True}),
        ("phq9", {**PHQ9_OK, "q1": "1"}),
        ("phq9", {**PHQ9_OK, "q10": None}),
        ("phq2", {"q1": 0}),
        ("cssrs", NO),
        ("cssrs", {**NO, "q2": True}),
        ("cssrs", CSSRS_OK),
        ("cssrs", {**NO, "q6": True}),
        ("cssrs", {**NO, "q6": True, "q6_recent": False}),
        ("cssrs", {**NO, "q3": True}),
        ("cssrs", {**NO, "q1": 0}),
        ("ahc_hrsn", AHC_CLEAR),
        ("ahc_hrsn", {**AHC_CLEAR, "q2": ["mold", "mold"]}),
        ("ahc_hrsn", {**AHC_CLEAR, "q2": ["stove"]}),
        ("ahc_hrsn", {**AHC_CLEAR, "q7": 6}),
    ],
)
def test_answers_schema_agrees_with_the_scorer(key: str, answers: dict[str, Any]) -> None:
    schema_accepts = Draft202012Validator(answers_schema(key)).is_valid(answers)
    try:
        score(key, answers)
        scorer_accepts = True
    except Invalid:
        scorer_accepts = False
    assert schema_accepts is scorer_accepts


def test_answers_schema_nests_inside_a_task_form() -> None:
    form = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"cssrs": answers_schema("cssrs")},
        "required": ["cssrs"],
    }
    validator = Draft202012Validator(form)
    assert validator.is_valid({"cssrs": {**NO, "q6": True, "q6_recent": True}})
    assert not validator.is_valid({"cssrs": {**NO, "q6": True}})


# --- a site's own instrument ------------------------------------------------------------


def made_up(version: str = "1.0") -> dict[str, Any]:
    """An invented instrument (not PRAPARE or Zarit text) exercising every item type."""
    return {
        "key": "strain_check",
        "title": "Made-up strain check",
        "version": version,
        "attribution": "CareBridge test suite",
        "licence": "Invented for tests",
        "items": [
            {
                "id": "q1",
                "text": "How tired are you?",
                "type": "integer",
                "options": [{"value": v, "label": str(v), "score": v} for v in range(5)],
            },
            {
                "id": "q2",
                "text": "Hours of care a day",
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
            },
            {
                "id": "q3",
                "text": "Do you have help?",
                "type": "string",
                "options": [
                    {"value": "yes", "label": "Yes", "score": 0},
                    {"value": "no", "label": "No", "score": 1},
                ],
            },
            {
                "id": "q4",
                "text": "Who could help?",
                "type": "multi",
                "options": [
                    {"value": "family", "label": "Family"},
                    {"value": "friend", "label": "A friend"},
                ],
                "when": {"item": "q3", "equals": "no"},
            },
            {
                "id": "q5",
                "text": "Anything else?",
                "type": "text",
                "required": False,
                "max_length": 20,
            },
            {"id": "q6", "text": "Feel unsafe?", "type": "boolean"},
        ],
        "score": {"op": "sum", "items": ["q1", "q2", "q3"]},
        "bands": [
            {"min": 0, "max": 5, "label": "low"},
            {"min": 6, "max": 10, "label": "medium"},
            {"min": 11, "max": 15, "label": "high"},
        ],
        "flags": [
            {"name": "heavy_load", "rule": {"op": "score_gt", "value": 10}},
            {"name": "has_helpers", "rule": {"op": "nonempty", "item": "q4"}},
            {"name": "no_note", "rule": {"op": "not", "rule": {"op": "nonempty", "item": "q5"}}},
        ],
        "risk_rules": [
            {"level": "urgent", "rule": {"op": "equals", "item": "q6", "value": True}},
            {"level": "watch", "rule": {"op": "sum_gte", "items": ["q1", "q2"], "value": 12}},
            {"level": "routine", "rule": {"op": "always"}},
        ],
    }


STRAIN_OK = {"q1": 4, "q2": 8, "q3": "no", "q4": ["family"], "q5": "tired", "q6": False}


def test_imported_instrument_scores(tmp_path: Path) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    result = score("strain_check", STRAIN_OK, instruments_dir=tmp_path)
    assert result.as_dict() == {
        "score": 13,
        "band": "high",
        "flags": ["heavy_load", "has_helpers"],
        "risk_level": "watch",
    }


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param(
            {"q1": 0, "q2": 0, "q3": "yes", "q6": False},
            (0, "low", ["no_note"], "routine"),
            id="lowest",
        ),
        pytest.param(
            {"q1": 0, "q2": 5, "q3": "yes", "q5": "ok", "q6": False},
            (5, "low", [], "routine"),
            id="top-of-low",
        ),
        pytest.param(
            {"q1": 0, "q2": 5, "q3": "no", "q4": ["friend"], "q5": "ok", "q6": False},
            (6, "medium", ["has_helpers"], "routine"),
            id="string-option-scores",
        ),
        pytest.param(
            {"q1": 4, "q2": 6, "q3": "yes", "q5": "ok", "q6": False},
            (10, "medium", [], "routine"),
            id="score-10",
        ),
        pytest.param(
            {"q1": 4, "q2": 7, "q3": "yes", "q5": "ok", "q6": False},
            (11, "high", ["heavy_load"], "routine"),
            id="score-11",
        ),
        pytest.param(
            {**STRAIN_OK, "q3": "yes"},
            (12, "high", ["heavy_load"], "watch"),
            id="stale-conditional-ignored",
        ),
        pytest.param({**STRAIN_OK, "q4": []}, (13, "high", ["heavy_load"], "watch"), id="none"),
        pytest.param(
            {**STRAIN_OK, "q6": True},
            (13, "high", ["heavy_load", "has_helpers"], "urgent"),
            id="first-risk-rule-wins",
        ),
    ],
)
def test_imported_instrument_rules(
    tmp_path: Path, answers: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    result = score("strain_check", answers, instruments_dir=tmp_path)
    assert (result.score, result.band, result.flags, result.risk_level) == expected


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"q2": 11}, ["q2"]),
        ({"q3": "maybe", "q5": "x" * 21}, ["q3", "q5"]),
        ({"q4": ["neighbour"]}, ["q4"]),
        ({"q6": None}, ["q6"]),
    ],
)
def test_imported_instrument_checks_answers(
    tmp_path: Path, change: dict[str, Any], fields: list[str]
) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    with pytest.raises(Invalid) as caught:
        score("strain_check", {**STRAIN_OK, **change}, instruments_dir=tmp_path)
    assert field_names(caught.value) == fields


def test_imported_conditional_item_is_required_only_when_asked(tmp_path: Path) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    answers = {k: v for k, v in STRAIN_OK.items() if k != "q4"}
    with pytest.raises(Invalid) as caught:
        score("strain_check", answers, instruments_dir=tmp_path)
    assert field_names(caught.value) == ["q4"]
    assert score("strain_check", {**answers, "q3": "yes"}, instruments_dir=tmp_path).score == 12


def test_import_from_a_file_writes_key_json(tmp_path: Path) -> None:
    source = tmp_path / "upload.json"
    source.write_text(json.dumps(made_up()), encoding="utf-8")
    site = tmp_path / "site"
    instrument = import_definition(source, instruments_dir=site)
    assert instrument.key == "strain_check"
    assert (site / "strain_check.json").is_file()
    assert [i.key for i in list_instruments(instruments_dir=site)] == ["strain_check"]


def test_import_of_identical_content_is_a_no_op(tmp_path: Path) -> None:
    first = import_definition(made_up(), instruments_dir=tmp_path)
    assert import_definition(made_up(), instruments_dir=tmp_path) == first


def test_import_of_changed_content_under_the_same_version_conflicts(tmp_path: Path) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    changed = made_up()
    changed["title"] = "Renamed"
    with pytest.raises(Conflict):
        import_definition(changed, instruments_dir=tmp_path)


def test_import_of_a_new_version_replaces_the_definition(tmp_path: Path) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    assert score("strain_check", STRAIN_OK, instruments_dir=tmp_path).band == "high"
    newer = made_up("1.1")
    newer["bands"] = [{"min": 0, "max": 15, "label": "any"}]
    import_definition(newer, instruments_dir=tmp_path)
    result = score("strain_check", STRAIN_OK, instruments_dir=tmp_path)
    assert (result.version, result.band) == ("1.1", "any")


def test_invalid_import_writes_nothing(tmp_path: Path) -> None:
    broken = made_up()
    del broken["licence"]
    with pytest.raises(Invalid):
        import_definition(broken, instruments_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"key": "a", "key": "b"}', "appears twice"),
    ],
)
def test_import_refuses_unreadable_json(tmp_path: Path, text: str, message: str) -> None:
    source = tmp_path / "upload.json"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        import_definition(source, instruments_dir=tmp_path / "site")
    assert message in caught.value.details[0]["message"]


def test_import_of_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        import_definition(tmp_path / "nope.json", instruments_dir=tmp_path)


def test_definition_stored_under_another_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps(made_up()), encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        get_instrument("other", instruments_dir=tmp_path)
    assert field_names(caught.value) == ["$.key"]


def test_imported_answers_schema_covers_every_item_type(tmp_path: Path) -> None:
    import_definition(made_up(), instruments_dir=tmp_path)
    schema = answers_schema("strain_check", instruments_dir=tmp_path)
    props = schema["properties"]
    assert (props["q2"]["minimum"], props["q2"]["maximum"]) == (0, 10)
    assert props["q5"] == {"title": "Anything else?", "type": "string", "maxLength": 20}
    assert props["q6"]["oneOf"] == [
        {"const": True, "title": "Yes"},
        {"const": False, "title": "No"},
        {"const": "declined", "title": "Declined to answer"},
    ]
    assert Draft202012Validator(schema).is_valid(STRAIN_OK)


# --- definition validation --------------------------------------------------------------


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    """made_up() with the value at `path` replaced (or removed when value is DELETE)."""
    data = copy.deepcopy(made_up())
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(broken(["licence"], DELETE), "$", id="licence-missing"),
        pytest.param(broken(["key"], "Strain Check"), "$.key", id="bad-key"),
        pytest.param(broken(["version"], "v1"), "$.version", id="bad-version"),
        pytest.param(broken(["items", 0, "type"], "slider"), "$.items[0].type", id="unknown-type"),
        pytest.param(broken(["items", 0, "requird"], True), "$.items[0]", id="typo-key"),
        pytest.param(broken(["items", 1, "id"], "q1"), "$.items[1].id", id="duplicate-id"),
        pytest.param(
            broken(["items", 0, "options", 1, "value"], 0),
            "$.items[0].options[1].value",
            id="duplicate-option",
        ),
        pytest.param(
            broken(["items", 0, "options", 1, "score"], 1.5),
            "$.items[0].options[1].score",
            id="float-score",
        ),
        pytest.param(
            broken(["items", 0, "options", 1, "value"], "1"),
            "$.items[0].options[1].value",
            id="string-option-on-integer-item",
        ),
        pytest.param(broken(["items", 1, "minimum"], 11), "$.items[1].minimum", id="min-above-max"),
        pytest.param(
            broken(["items", 3, "when", "item"], "q6"), "$.items[3].when.item", id="when-later"
        ),
        pytest.param(
            broken(["items", 3, "when", "equals"], "perhaps"), "$.items[3].when", id="when-value"
        ),
        pytest.param(broken(["score", "items"], ["q1", "q9"]), "$.score.items[1]", id="no-item"),
        pytest.param(
            broken(["score", "items"], ["q1", "q4"]), "$.score.items[1]", id="sum-unscored"
        ),
        pytest.param(broken(["bands", 1, "min"], 7), "$.bands[1].min", id="band-gap"),
        pytest.param(broken(["bands", 2, "max"], 14), "$.bands[2].max", id="band-short"),
        pytest.param(
            broken(["flags", 1, "rule"], {"op": "equals", "item": "q3", "value": "perhaps"}),
            "$.flags[1].rule.value",
            id="equals-not-an-option",
        ),
        pytest.param(
            broken(["flags", 1, "rule"], {"op": "item_gte", "item": "q6", "value": 1}),
            "$.flags[1].rule.item",
            id="item-gte-on-boolean",
        ),
        pytest.param(
            broken(["flags", 1, "rule"], {"op": "sum_gt", "items": ["q5"], "value": 1}),
            "$.flags[1].rule.items[0]",
            id="sum-of-text",
        ),
        pytest.param(
            broken(["flags", 1, "rule"], {"op": "between", "item": "q1"}),
            "$.flags[1].rule.op",
            id="unknown-op",
        ),
        pytest.param(broken(["flags", 1, "name"], "heavy_load"), "$.flags[1].name", id="dup-flag"),
        pytest.param(
            broken(["risk_rules", 0, "rule"], {"op": "equals", "item": "q6"}),
            "$.risk_rules[0].rule",
            id="rule-missing-value",
        ),
    ],
)
def test_definition_errors_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate_definition(data)
    assert field in field_names(caught.value), caught.value.details


def test_definition_must_be_an_object() -> None:
    with pytest.raises(Invalid) as caught:
        validate_definition([])  # type: ignore[arg-type]
    assert field_names(caught.value) == ["$"]


def test_made_up_definition_is_valid() -> None:
    validate_definition(made_up())


def chained() -> dict[str, Any]:
    """q3 is asked only when q2 is, and q2 only when q1 is one of two answers."""
    choice = [{"value": v, "label": v} for v in ("a", "b", "c")]
    return {
        "key": "chained",
        "title": "Chained follow-ups",
        "version": "1",
        "attribution": "CareBridge test suite",
        "licence": "Invented for tests",
        "items": [
            {"id": "q1", "text": "First", "type": "string", "options": choice},
            {
                "id": "q2",
                "text": "Second",
                "type": "boolean",
                "when": {"item": "q1", "in": ["a", "b"]},
            },
            {
                "id": "q3",
                "text": "Third",
                "type": "multi",
                "options": choice,
                "when": {"item": "q2", "equals": True},
            },
        ],  # fmt: skip
        "flags": [
            {"name": "picked_c", "rule": {"op": "in", "item": "q3", "values": ["c"]}},
            {
                "name": "a_then_yes",
                "rule": {
                    "op": "all_of",
                    "rules": [
                        {"op": "equals", "item": "q1", "value": "a"},
                        {"op": "equals", "item": "q2", "value": True},
                    ],
                },
            },
        ],
    }


@pytest.mark.parametrize(
    ("answers", "flags"),
    [
        pytest.param({"q1": "c"}, [], id="nothing-asked"),
        pytest.param({"q1": "c", "q2": True}, [], id="stale-chain-ignored"),
        pytest.param({"q1": "b", "q2": False}, [], id="third-not-asked"),
        pytest.param({"q1": "a", "q2": True, "q3": []}, ["a_then_yes"], id="answered"),
        pytest.param({"q1": "b", "q2": True, "q3": ["a", "c"]}, ["picked_c"], id="in-on-multi"),
        pytest.param({"q1": "c", "q2": True, "q3": ["c"]}, [], id="stale-c-ignored"),
    ],
)
def test_chained_conditions_accept_in_scorer_and_schema(
    tmp_path: Path, answers: dict[str, Any], flags: list[str]
) -> None:
    import_definition(chained(), instruments_dir=tmp_path)
    schema = answers_schema("chained", instruments_dir=tmp_path)
    assert score("chained", answers, instruments_dir=tmp_path).flags == flags
    assert Draft202012Validator(schema).is_valid(answers)


@pytest.mark.parametrize(
    ("answers", "missing"),
    [
        pytest.param({"q1": "a"}, ["q2"], id="second-asked"),
        pytest.param({"q1": "b", "q2": True}, ["q3"], id="third-asked"),
    ],
)
def test_chained_conditions_require_in_scorer_and_schema(
    tmp_path: Path, answers: dict[str, Any], missing: list[str]
) -> None:
    import_definition(chained(), instruments_dir=tmp_path)
    schema = answers_schema("chained", instruments_dir=tmp_path)
    with pytest.raises(Invalid) as caught:
        score("chained", answers, instruments_dir=tmp_path)
    assert field_names(caught.value) == missing
    assert not Draft202012Validator(schema).is_valid(answers)


def test_import_refuses_data_that_is_not_json(tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        import_definition({**made_up(), "x-when": {1, 2}}, instruments_dir=tmp_path)
