"""The form renderer: every widget, posted strings back to typed JSON, errors kept with input."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from engine.forms import expand_instruments, field_errors
from engine.instruments import answers_schema
from engine.settings import ROOT
from web import formrender as fr

YES_NO = [{"const": True, "title": "Yes"}, {"const": False, "title": "No"}]
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"title": "Name", "type": "string", "maxLength": 40, "description": "Full name"},
        "notes": {"title": "Notes", "type": "string"},
        "visits": {"title": "Visits", "type": "integer", "minimum": 0, "maximum": 9},
        "weight": {"title": "Weight", "type": "number"},
        "seen_on": {"title": "Seen on", "type": "string", "format": "date"},
        "email": {"title": "Email", "type": "string", "format": "email"},
        "started": {"title": "Started", "type": "string", "format": "date-time"},
        "colour": {"title": "Colour", "type": "string", "enum": ["red", "green"]},
        "size": {
            "title": "Size",
            "type": "integer",
            "oneOf": [{"const": n, "title": f"Size {n}"} for n in range(1, 8)],
        },
        "pets": {
            "title": "Pets",
            "type": "array",
            "items": {
                "type": "string",
                "oneOf": [{"const": "cat", "title": "Cat"}, {"const": "dog", "title": "Dog"}],
            },
        },
        "agrees": {"title": "Agrees", "type": "boolean"},
        "consent": {"title": "Consent", "type": "boolean"},
        "screen": {
            "title": "Screen",
            "type": "object",
            "x-instrument": "demo",  # an instrument: its conditions are skip logic
            "properties": {
                "q1": {"title": "First", "type": "boolean", "oneOf": YES_NO},
                "q2": {"title": "Follow-up", "type": "boolean", "oneOf": YES_NO},
            },
            "required": ["q1"],
            "allOf": [
                {
                    "if": {"properties": {"q1": {"const": True}}, "required": ["q1"]},
                    "then": {"required": ["q2"]},
                }
            ],
        },
    },
    "required": ["name", "screen"],
}
UI = {
    "ui:order": ["name", "*", "screen"],
    "notes": {"ui:widget": "textarea", "ui:help": "Be brief."},
    "consent": {"ui:widget": "radio"},
}


@pytest.fixture
def fields() -> list[fr.Field]:
    return fr.build(SCHEMA, UI)


def _by_name(fields: list[fr.Field]) -> dict[str, fr.Field]:
    return {f.name: f for top in fields for f in top.walk()}


@pytest.mark.parametrize(
    ("name", "widget"),
    [
        ("name", "text"),
        ("notes", "textarea"),
        ("visits", "integer"),
        ("weight", "number"),
        ("seen_on", "date"),
        ("email", "email"),
        ("started", "datetime"),
        ("colour", "radio"),  # few options: radio
        ("size", "select"),  # many options: select
        ("pets", "checkboxes"),
        ("agrees", "checkbox"),
        ("consent", "radio"),  # a boolean asked as yes/no
        ("screen", "fieldset"),
        ("screen.q1", "radio"),
    ],
)
def test_each_schema_type_gets_its_widget(fields, name, widget) -> None:
    assert _by_name(fields)[name].widget == widget


@pytest.mark.parametrize(
    ("name", "snippet"),
    [
        ("name", 'type="text" id="f-name" name="name"'),
        ("notes", '<textarea id="f-notes" name="notes"'),
        ("visits", 'type="number" id="f-visits" name="visits"'),
        ("seen_on", 'type="date"'),
        ("email", 'type="email"'),
        ("started", 'type="datetime-local"'),
        ("colour", 'type="radio" id="f-colour-0" name="colour" value="red"'),
        ("size", '<option value="7">Size 7</option>'),
        ("pets", 'type="checkbox" id="f-pets-1" name="pets" value="dog"'),
        ("agrees", 'type="checkbox" id="f-agrees" name="agrees"'),
        ("consent", 'name="consent" value="true"'),
        ("screen.q1", 'name="screen.q1" value="false"'),
    ],
)
def test_each_widget_renders_its_control(fields, name, snippet) -> None:
    assert snippet in fr.render(fields)


def test_order_help_required_and_limits(fields) -> None:
    html = fr.render(fields)
    assert [f.name for f in fields][0] == "name"
    assert fields[-1].name == "screen"
    assert 'class="hint" id="f-notes-hint">Be brief.' in html
    assert 'maxlength="40"' in html
    assert 'min="0" max="9"' in html
    assert '<label for="f-name">Name <span class="req"' in html
    assert '<legend class="fieldset-legend">Screen' in html


def test_a_condition_becomes_skip_logic(fields) -> None:
    follow_up = _by_name(fields)["screen.q2"]
    assert follow_up.condition == fr.Condition("screen.q1", ("true",), label="“First” is “Yes”")
    assert follow_up.required
    html = fr.render(fields)
    assert 'data-show-when="screen.q1" data-show-values="[&#34;true&#34;]"' in html


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ({"name": "  Ana  "}, {"name": "Ana"}),
        ({"name": ""}, {}),
        ({"visits": "3"}, {"visits": 3}),
        ({"weight": "71.5"}, {"weight": 71.5}),
        ({"weight": "70"}, {"weight": 70}),
        ({"colour": "green"}, {"colour": "green"}),
        ({"size": "5"}, {"size": 5}),
        ({"pets": ["cat", "dog"]}, {"pets": ["cat", "dog"]}),
        ({}, {"pets": []}),
        ({"agrees": "true"}, {"agrees": True}),
        ({}, {"agrees": False}),
        ({"consent": "false"}, {"consent": False}),
        ({"notes": "line one\r\nline two  "}, {"notes": "line one\nline two"}),
    ],
)
def test_posted_strings_become_typed_json(fields, posted, expected) -> None:
    parsed = fr.parse(fields, fr.values_from_form(MultiDict(posted)))
    assert parsed.errors == {}
    data = {k: v for k, v in parsed.data.items() if k != "screen"}
    defaults = {"pets": [], "agrees": False}
    assert data == {**defaults, **expected}


def test_a_required_object_is_sent_even_when_empty_so_its_items_report() -> None:
    parsed = fr.parse(fr.build(SCHEMA, UI), {})
    assert parsed.data["screen"] == {}
    fields = {e["field"] for e in field_errors(SCHEMA, parsed.data)}
    assert {"name", "screen.q1"} <= fields


def test_an_optional_untouched_object_is_left_out() -> None:
    schema = {"type": "object", "properties": {"extra": SCHEMA["properties"]["screen"]}}
    assert fr.parse(fr.build(schema), {}).data == {}
    assert fr.parse(fr.build(schema), {"extra.q1": ["false"]}).data == {"extra": {"q1": False}}


@pytest.mark.parametrize(
    ("posted", "screen"),
    [
        ({"screen.q1": "true", "screen.q2": "false"}, {"q1": True, "q2": False}),
        ({"screen.q1": "false", "screen.q2": "true"}, {"q1": False}),  # hidden: not answered
    ],
)
def test_the_server_applies_the_skip_logic_too(fields, posted, screen) -> None:
    assert fr.parse(fields, fr.values_from_form(MultiDict(posted))).data["screen"] == screen


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"visits": "three"}, "visits", "Enter a whole number."),
        ({"weight": "heavy"}, "weight", "Enter a number."),
        ({"colour": "blue"}, "colour", "Choose one of the offered options."),
        ({"pets": ["cat", "eel"]}, "pets", "Choose one of the offered options."),
    ],
)
def test_unreadable_values_are_reported_and_kept(fields, posted, field, message) -> None:
    parsed = fr.parse(fields, fr.values_from_form(MultiDict(posted)))
    assert parsed.errors == {field: message}


def test_errors_and_input_are_rendered_together(fields) -> None:
    values = {"name": ["Ana <b>"], "visits": ["three"], "pets": ["dog"], "screen.q1": ["true"]}
    errors = fr.errors_by_field(
        [
            {"field": "visits", "message": "Must be a integer."},
            {"field": "screen.q2", "message": "This field is required."},
        ],
        {"visits": "Enter a whole number."},
    )
    html = fr.render(fields, values, errors)
    assert 'value="Ana &lt;b&gt;"' in html  # kept, and escaped
    assert (
        'id="f-visits" name="visits" aria-describedby="f-visits-error" aria-invalid="true"' in html
    )
    assert 'value="three"' in html
    assert "Enter a whole number." in html
    assert "Must be a integer." not in html
    assert 'value="dog" checked' in html
    assert 'id="f-screen-q2-error"' in html


@pytest.mark.parametrize(
    ("engine_message", "shown"),
    [
        ("[] should be non-empty", "Choose at least one."),
        ("'x' does not match '^[0-9]+$'", "Check the format of this answer."),
        ("This field is required.", "This field is required."),
    ],
)
def test_engine_messages_are_made_readable(engine_message, shown) -> None:
    assert fr.errors_by_field([{"field": "a", "message": engine_message}]) == {"a": shown}


def test_unplaced_errors_are_kept_for_the_summary(fields) -> None:
    assert fr.unplaced(fields, {"name": "x", "(form)": "y"}) == {"(form)": "y"}


def test_initial_values_round_trip(fields) -> None:
    data = {"name": "Ana", "visits": 2, "pets": ["cat"], "agrees": True, "screen": {"q1": False}}
    values = fr.initial_values(data)
    assert values["screen.q1"] == ["false"]
    parsed = fr.parse(fields, values)
    assert parsed.data == {**data}


def test_schema_defaults_prefill() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 3}}}
    assert fr.schema_defaults(schema) == {"n": ["3"]}


def _assessment() -> list[fr.Field]:
    schema = expand_instruments(
        json.loads((ROOT / "forms" / "assessment.schema.json").read_text()), answers_schema
    )
    ui = json.loads((ROOT / "forms" / "assessment.uischema.json").read_text())
    return fr.build(schema, ui)


def test_instruments_render_with_exact_wording_and_dotted_names() -> None:
    fields = _assessment()
    by = _by_name(fields)
    assert by["cssrs"].instrument == "cssrs"
    assert by["cssrs"].widget == "fieldset"
    assert by["phq9.q9"].title == (
        "Thoughts that you would be better off dead, or of hurting yourself in some way"
    )
    assert [o.label for o in by["phq2.q1"].options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
        "Declined to answer",  # a refused question is recorded, never guessed
    ]
    assert by["ahc_hrsn.q2"].widget == "checkboxes"
    html = fr.render(fields)
    assert 'data-instrument="phq9"' in html
    assert '<span class="item-no">9.</span> Thoughts that you would be better off dead' in html


@pytest.mark.parametrize("item", ["cssrs.q3", "cssrs.q4", "cssrs.q5"])
def test_cssrs_3_to_5_follow_a_yes_to_2(item) -> None:
    condition = _by_name(_assessment())[item].condition
    assert (condition.field, condition.values, condition.negate) == ("cssrs.q2", ("true",), False)


def test_cssrs_q6_recent_follows_a_yes_to_6() -> None:
    condition = _by_name(_assessment())["cssrs.q6_recent"].condition
    assert (condition.field, condition.values) == ("cssrs.q6", ("true",))


def test_outside_instruments_a_condition_only_makes_a_field_required() -> None:
    schema = json.loads((ROOT / "forms" / "referral.schema.json").read_text())
    fields = fr.build(schema)
    by = _by_name(fields)
    organisation, reason = by["organisation_name"], by["no_referral_reason"]
    assert organisation.condition is None  # always shown, always submitted
    assert not organisation.required
    assert organisation.required_when.values == ("true",)
    assert reason.required_when.negate
    html = fr.render(fields)
    assert "Required when “Referral made” is “Yes”." in html
    assert "Required unless “Referral made” is “Yes”." in html
    assert "data-show-when" not in html
    parsed = fr.parse(fields, {"referral_made": ["false"], "organisation_name": ["Food bank"]})
    assert parsed.data["organisation_name"] == "Food bank"


def test_an_enum_condition_lists_every_answer() -> None:
    schema = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "title": "Status", "enum": ["done", "failed", "held"]},
            "reason": {"type": "string", "title": "Reason"},
        },
        "if": {"properties": {"status": {"enum": ["failed", "held"]}}, "required": ["status"]},
        "then": {"required": ["reason"]},
    }
    when = _by_name(fr.build(schema))["reason"].required_when
    assert when.values == ("failed", "held")
    assert when.label == "“Status” is “Failed” or “Held”"
    assert when.met("held")
    assert not when.met("done")


NEW_YORK = ZoneInfo("America/New_York")


def test_a_date_and_time_is_read_in_the_readers_zone(fields) -> None:
    parsed = fr.parse(fields, {"started": ["2026-03-02T09:30"]}, zone=NEW_YORK)
    assert parsed.data["started"] == "2026-03-02T09:30:00-05:00"


def test_a_stored_date_and_time_is_shown_in_the_readers_zone(fields) -> None:
    html = fr.render(fields, {"started": ["2026-03-02T14:30:00+00:00"]}, zone=NEW_YORK)
    assert 'value="2026-03-02T09:30"' in html


def test_an_unreadable_date_and_time_is_reported_and_kept(fields) -> None:
    parsed = fr.parse(fields, {"started": ["half past nine"]}, zone=NEW_YORK)
    assert parsed.errors == {"started": "Enter a date and a time."}
    assert 'value="half past nine"' in fr.render(fields, {"started": ["half past nine"]})
