"""Checking and scoring answers to an instrument, and the JSON Schema of those answers.

Everything is driven by the definition's data; nothing here knows PHQ-9 from a
site-imported instrument. Two readings of the same definition must agree: the answers
this module accepts are the ones `answers_schema` accepts (except whole-number floats
such as 3.0, which JSON Schema counts as integers and we refuse).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import Invalid
from engine.instruments.definitions import (
    Condition,
    Instrument,
    Item,
    Rule,
    get_instrument,
    same,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Any item may be answered with this string: the client chose not to answer. It is never
# scored as a value (a refused question is not "never" or "no").
DECLINED = "declined"
DECLINED_LABEL = "Declined to answer"
INCOMPLETE_FLAG = "incomplete"


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    version: str
    score: int | None
    band: str | None
    flags: list[str]
    risk_level: str | None
    declined: tuple[str, ...] = ()  # ids of the items the client declined to answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "band": self.band,
            "flags": list(self.flags),
            "risk_level": self.risk_level,
        }


def score(
    key: str, answers: Mapping[str, Any], *, instruments_dir: Path | None = None
) -> ScoreResult:
    """Score `answers` (keyed by item id) for instrument `key`.

    Unknown key -> NotFound. Missing, out-of-range or wrong-typed answers -> Invalid whose
    details name every bad item. Keys that are not items are ignored."""
    return score_answers(get_instrument(key, instruments_dir=instruments_dir), answers)


def score_answers(instrument: Instrument, answers: Mapping[str, Any]) -> ScoreResult:
    """A screen with declined items is incomplete: no total, no band, flag `incomplete`.
    Flags and risk rules still read the answers that were given (and a partial sum for
    threshold rules), so a positive reached on what was answered is never lost."""
    counted, declined = _checked(instrument, answers)
    complete_total = instrument.has_score and all(i in counted for i in instrument.score_items)
    partial = _sum(instrument, instrument.score_items, counted) if instrument.has_score else None
    total = partial if complete_total else None
    band = None
    if total is not None and not declined:
        band = next((b.label for b in instrument.bands if b.min <= total <= b.max), None)
    flags = [f.name for f in instrument.flags if _holds(f.rule, instrument, counted, partial)]
    risk = next(
        (r.level for r in instrument.risk_rules if _holds(r.rule, instrument, counted, partial)),
        None,
    )
    if declined:
        flags.append(INCOMPLETE_FLAG)
        risk = _at_least(instrument, risk, instrument.incomplete_risk_level)
    return ScoreResult(
        instrument.key, instrument.version, total, band, flags, risk, tuple(declined)
    )


def _at_least(instrument: Instrument, level: str | None, floor: str | None) -> str | None:
    # risk_rules are ordered from the highest level down.
    order = [r.level for r in instrument.risk_rules]
    if floor is None or level not in order:
        return floor if level is None else level
    return floor if order.index(floor) < order.index(level) else level


def check_answers(instrument: Instrument, answers: Any) -> dict[str, Any]:
    """The answers that count: valid, and for a conditional item, only when it was asked.

    A present answer is type-checked even when its item was not asked (a form may keep a
    stale value after its trigger changed); it is then ignored, never scored. A declined
    item counts as unanswered: the items it would have revealed are not asked."""
    return _checked(instrument, answers)[0]


def _checked(instrument: Instrument, answers: Any) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(answers, Mapping):
        raise Invalid(
            "The answers must be an object keyed by item id.",
            code="invalid_answers",
            details=[{"field": "answers", "message": "must be an object keyed by item id"}],
        )
    counted: dict[str, Any] = {}
    declined: list[str] = []
    problems: list[dict[str, str]] = []
    for item in instrument.items:
        asked = _asked(item, counted)
        if item.id in answers:
            value = answers[item.id]
            if _is_declined(item, value):
                if asked:
                    declined.append(item.id)
                continue
            problem = item.problem(value)
            if problem:
                problems.append({"field": item.id, "message": problem})
            elif asked:
                counted[item.id] = value
        elif asked and item.required:
            problems.append({"field": item.id, "message": "an answer is required"})
    if problems:
        raise Invalid(
            "Some answers are missing or not allowed.", code="invalid_answers", details=problems
        )
    return counted, declined


def _is_declined(item: Item, value: Any) -> bool:
    # Free text keeps the word as written; every other item type reads it as a refusal.
    return item.type != "text" and value == DECLINED


def _asked(item: Item, counted: Mapping[str, Any]) -> bool:
    # Conditions point at earlier items, so `counted` already holds the trigger's answer
    # if (and only if) the trigger was itself asked and valid.
    if item.when is None:
        return True
    return item.when.item in counted and item.when.met_by(counted[item.when.item])


def _sum(instrument: Instrument, item_ids: tuple[str, ...], counted: Mapping[str, Any]) -> int:
    # Definitions only sum required, unconditional items, so an id is missing from `counted`
    # only when it was declined: the sum is then of the answers given (a lower bound).
    return sum(instrument.item(i).points(counted[i]) for i in item_ids if i in counted)


def _holds(
    rule: Rule, instrument: Instrument, counted: Mapping[str, Any], total: int | None
) -> bool:
    """Evaluate a rule. An unanswered (or not asked) item satisfies no item rule."""
    op = rule["op"]
    match op:
        case "always":
            return True
        case "any_of":
            return any(_holds(r, instrument, counted, total) for r in rule["rules"])
        case "all_of":
            return all(_holds(r, instrument, counted, total) for r in rule["rules"])
        case "not":
            return not _holds(rule["rule"], instrument, counted, total)
        case "score_gte":
            return total is not None and total >= int(rule["value"])
        case "score_gt":
            return total is not None and total > int(rule["value"])
        case "sum_gte":
            return _sum(instrument, tuple(rule["items"]), counted) >= int(rule["value"])
        case "sum_gt":
            return _sum(instrument, tuple(rule["items"]), counted) > int(rule["value"])
    if rule["item"] not in counted:
        return False
    value = counted[rule["item"]]
    match op:
        case "equals":
            return same(value, rule["value"])
        case "in":
            chosen = value if isinstance(value, list) else [value]
            return any(same(c, v) for c in chosen for v in rule["values"])
        case "nonempty":
            return len(value) > 0
        case "item_gte":
            return bool(value >= rule["value"])
        case "item_gt":
            return bool(value > rule["value"])
    raise AssertionError(op)  # pragma: no cover - validate_definition admits no other op


# --- the answers as JSON Schema ----------------------------------------------------------


def answers_schema(key: str, *, instruments_dir: Path | None = None) -> dict[str, Any]:
    """JSON Schema (2020-12) of the answers object, for embedding in task forms.

    Property titles are the item wording, options are `oneOf` of `const` + `title`, and
    conditional items are required through `if`/`then`. The schema carries its own `$id`
    so it stays a valid schema resource when nested inside another form's schema."""
    return schema_for(get_instrument(key, instruments_dir=instruments_dir))


def schema_for(instrument: Instrument) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:carebridge:instrument:{instrument.key}:{instrument.version}",
        "title": instrument.title,
        "type": "object",
        "properties": {item.id: _item_schema(item) for item in instrument.items},
        "required": [i.id for i in instrument.items if i.required and i.when is None],
    }
    if instrument.stem:
        schema["description"] = instrument.stem
    conditional = _conditional_requirements(instrument)
    if conditional:
        schema["allOf"] = conditional
    return schema


def _item_schema(item: Item) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": item.text}
    if item.help:
        schema["description"] = item.help
    choices = [{"const": o.value, "title": o.label} for o in item.options]
    declined = {"const": DECLINED, "title": DECLINED_LABEL}
    match item.type:
        case "integer" if item.options:
            schema.update(type=["integer", "string"], oneOf=[*choices, declined])
        case "integer":
            # A number box in forms; "declined" is for items with listed answers (and the API).
            schema.update(type="integer", minimum=item.minimum, maximum=item.maximum)
        case "string" | "boolean":
            schema.update(type=sorted({item.type, "string"}), oneOf=[*choices, declined])
        case "multi":
            # A list field keeps its checkboxes in forms; the API still takes "declined".
            schema.update(
                type="array", uniqueItems=True, items={"type": "string", "oneOf": choices}
            )
        case "text":
            schema["type"] = "string"
            if item.max_length is not None:
                schema["maxLength"] = item.max_length
    return schema


def _conditional_requirements(instrument: Instrument) -> list[dict[str, Any]]:
    """One if/then per distinct trigger, requiring the items it reveals.

    The `if` repeats the trigger's own conditions so a nested item is required only when
    its whole chain was asked, as `check_answers` does."""
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for item in instrument.items:
        if item.when is None or not item.required:
            continue
        chain = _condition_chain(instrument, item.when)
        when = {
            "properties": {c.item: _condition_schema(c) for c in chain},
            "required": sorted({c.item for c in chain}),
        }
        signature = json.dumps(when, sort_keys=True)
        groups.setdefault(signature, (when, []))[1].append(item.id)
    return [{"if": when, "then": {"required": ids}} for when, ids in groups.values()]


def _condition_chain(instrument: Instrument, condition: Condition) -> list[Condition]:
    chain = [condition]
    trigger = instrument.item(condition.item)
    while trigger.when is not None:
        chain.append(trigger.when)
        trigger = instrument.item(trigger.when.item)
    return chain


def _condition_schema(condition: Condition) -> dict[str, Any]:
    if len(condition.values) == 1:
        return {"const": condition.values[0]}
    return {"enum": list(condition.values)}
