"""Form validation: field errors, and one validator per deployed schema object."""

from __future__ import annotations

import pytest

from engine import forms
from engine.errors import Invalid

SCHEMA = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": {"type": "string", "minLength": 1}, "score": {"maximum": 3}},
    "additionalProperties": False,
}


def test_errors_name_each_field():
    errors = forms.field_errors(SCHEMA, {"score": 4, "extra": 1})
    assert sorted(errors, key=lambda e: e["field"]) == [
        {"field": "extra", "message": "This form has no such field."},
        {"field": "reason", "message": "This field is required."},
        {"field": "score", "message": "Must be at most 3."},
    ]


def test_a_schema_object_gets_one_validator_reused_across_submissions():
    first = forms._validator(SCHEMA)
    assert forms._validator(SCHEMA) is first
    assert forms.field_errors(SCHEMA, {"reason": "x"}) == []
    assert forms.field_errors(SCHEMA, {}) == forms.field_errors(SCHEMA, {})


def test_an_equal_but_different_schema_object_is_validated_by_its_own_rules():
    strict = dict(SCHEMA, required=["reason", "score"])
    forms._validator(SCHEMA)
    assert forms.field_errors(strict, {"reason": "x"}) == [
        {"field": "score", "message": "This field is required."}
    ]


def test_the_validator_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(forms, "_VALIDATORS", {})
    monkeypatch.setattr(forms, "_VALIDATORS_MAX", 3)
    schemas = [{"type": "object", "title": str(i)} for i in range(5)]
    for schema in schemas:
        forms._validator(schema)
    assert len(forms._VALIDATORS) == 3


def test_validate_raises_invalid_with_details():
    with pytest.raises(Invalid) as caught:
        forms.validate(SCHEMA, {})
    assert caught.value.details == [{"field": "reason", "message": "This field is required."}]
