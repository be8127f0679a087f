"""Task forms: JSON Schema validation with field-level errors, and instrument expansion."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.errors import Invalid

_FORMATS = FormatChecker()
_REQUIRED = re.compile(r"'([^']+)' is a required property")


def _field_of(err: ValidationError) -> str:
    parts = [str(p) for p in err.absolute_path]
    if err.validator == "required":
        m = _REQUIRED.match(err.message)
        if m:
            parts.append(m.group(1))
    elif (
        err.validator == "additionalProperties"
        and isinstance(err.instance, Mapping)
        and isinstance(err.schema, Mapping)
    ):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        if extra:
            parts.append(extra[0])
    return ".".join(parts) or "(form)"


def _title_of(err: ValidationError) -> str | None:
    """The label of the field an error is about, when its schema gives one."""
    if err.validator == "required":
        m = _REQUIRED.match(err.message)
        props = err.schema.get("properties", {}) if isinstance(err.schema, Mapping) else {}
        sub = props.get(m.group(1)) if m else None
        title = sub.get("title") if isinstance(sub, Mapping) else None
    else:
        title = err.schema.get("title") if isinstance(err.schema, Mapping) else None
    return title if isinstance(title, str) and title else None


def _message_of(err: ValidationError) -> str:
    # Name the field and the rule: eighteen "This field is required." in one summary tell a
    # worker nothing. Schemas without titles keep the plain sentence.
    title = _title_of(err)
    if err.validator == "required":
        return f"{title} is required." if title else "This field is required."
    if err.validator == "const" and err.validator_value is True:
        return "This must be confirmed."
    if err.validator in ("enum", "oneOf", "const"):
        return "Choose one of the offered options."
    if err.validator == "minItems":
        n = err.validator_value
        return "Choose at least one." if n == 1 else f"Choose at least {n}."
    if err.validator == "maxItems":
        return f"Choose at most {err.validator_value}."
    if err.validator == "uniqueItems":
        return "Each choice may be given only once."
    if err.validator == "pattern":
        return "Not in the expected format."
    if err.validator == "additionalProperties":
        return "This form has no such field."
    if err.validator == "type":
        return f"Must be a {err.validator_value}."
    if err.validator == "maxLength":
        return f"At most {err.validator_value} characters."
    if err.validator == "minLength":
        if err.validator_value == 1:
            return f"{title} cannot be left empty." if title else "This field is required."
        return f"At least {err.validator_value} characters."
    if err.validator == "minimum":
        return f"Must be at least {err.validator_value}."
    if err.validator == "maximum":
        return f"Must be at most {err.validator_value}."
    if err.validator == "format":
        return f"Not a valid {err.validator_value}."
    return err.message


# Deployed forms are process-wide objects (engine.definitions caches them by content hash), so
# a validator built once per schema object serves every submission: building one (resolving
# the schema's keywords and $refs) costs more than validating a form. Keyed by id() because
# schemas are dicts; the entry keeps its schema alive so the id cannot be reused meanwhile.
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}
_VALIDATORS_MAX = 512
_VALIDATORS_LOCK = threading.Lock()


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = Draft202012Validator(schema, format_checker=_FORMATS)
    with _VALIDATORS_LOCK:  # web workers run threads
        while len(_VALIDATORS) >= _VALIDATORS_MAX:
            _VALIDATORS.pop(next(iter(_VALIDATORS)))  # oldest first: dicts keep insertion order
        _VALIDATORS[id(schema)] = (schema, validator)
    return validator


_SHORT_NAME = re.compile(r"\(([^()]+)\)\s*$")


def _instrument_name(schema: Mapping[str, Any]) -> str:
    """`Patient Health Questionnaire-9 (PHQ-9)` -> `PHQ-9`."""
    title = str(schema.get("title") or schema.get("x-instrument") or "screening")
    m = _SHORT_NAME.search(title)
    return m.group(1) if m else title


def _numbers(items: list[str]) -> str:
    """["7", "8", "9"] -> "7, 8 and 9"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _missing_items(errors: list[ValidationError]) -> dict[str, str]:
    """One message per instrument with unanswered items, at the instrument's own field:
    "Answer all 9 PHQ-9 questions; 7 and 8 are missing." Each item also gets a short note."""
    out: dict[str, str] = {}
    for err in errors:
        schema = err.schema
        if err.validator != "required" or not isinstance(schema, Mapping):
            continue
        if "x-instrument" not in schema:
            continue
        items = list(schema.get("required", []))
        present = err.instance if isinstance(err.instance, Mapping) else {}
        missing = [q for q in items if q not in present]
        numbers = [q[1:] if q[:1] == "q" and q[1:].isdigit() else q for q in missing]
        where = ".".join(str(p) for p in err.absolute_path) or "(form)"
        name = _instrument_name(schema)
        verb = "is" if len(missing) == 1 else "are"
        out[where] = (
            f"Answer all {len(items)} {name} questions; {_numbers(numbers)} {verb} missing."
        )
        for q, n in zip(missing, numbers, strict=True):
            out[f"{where}.{q}" if where != "(form)" else q] = f"Question {n} is not answered."
    return out


def field_errors(schema: Mapping[str, Any], data: Any) -> list[dict[str, str]]:
    validator = _validator(schema)
    found = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    errors: dict[str, str] = _missing_items(found)
    for err in found:
        errors.setdefault(_field_of(err), _message_of(err))
    return [{"field": f, "message": m} for f, m in errors.items()]


def validate(schema: Mapping[str, Any], data: Any) -> None:
    """Raise Invalid naming every bad field; nothing is changed by the caller on failure."""
    if not isinstance(data, Mapping):
        raise Invalid(
            "The form data must be an object.",
            code="form_invalid",
            details=[{"field": "(form)", "message": "Must be an object."}],
        )
    errors = field_errors(schema, data)
    if errors:
        raise Invalid("Some fields need attention.", code="form_invalid", details=errors)


def expand_instruments(
    schema: Mapping[str, Any], answers_schema: Callable[[str], dict[str, Any]]
) -> dict[str, Any]:
    """Replace `{"x-instrument": key}` placeholders with the instrument's answers schema, so a
    deployed definition freezes the instrument version it was deployed with."""
    out = copy.deepcopy(dict(schema))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "x-instrument" in node:
                expanded = answers_schema(node["x-instrument"])
                extra = {k: v for k, v in node.items() if k != "x-instrument"}
                return {**expanded, **extra, "x-instrument": node["x-instrument"]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(out)


def instrument_fields(schema: Mapping[str, Any]) -> dict[str, str]:
    """Top-level form fields that hold instrument answers: field name -> instrument key."""
    props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return {
        name: p["x-instrument"]
        for name, p in props.items()
        if isinstance(p, Mapping) and "x-instrument" in p
    }
