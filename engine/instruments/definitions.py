"""Screening-instrument definitions: JSON data files read into a typed, read-only view.

A definition is checked in two passes: the JSON Schema `instrument.schema.json` fixes its
shape, then `_cross_check` verifies what a schema cannot express (rules naming real
items, sums over scored items only, bands covering the whole score range). Only the
scoring engine interprets the rules; nothing here is clinical knowledge.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from jsonschema import Draft202012Validator, ValidationError

from engine.errors import Conflict, Invalid, NotFound
from engine.settings import Settings

SCHEMA_FILE = "instrument.schema.json"
MAX_DEFINITION_BYTES = 1_000_000
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")

ItemType = Literal["integer", "string", "boolean", "multi", "text"]
Scalar = int | str | bool
Rule = Mapping[str, Any]
Detail = dict[str, str]

_DEFAULT_BOOLEAN_OPTIONS: tuple[tuple[bool, str], ...] = ((True, "Yes"), (False, "No"))


def same(a: Any, b: Any) -> bool:
    """Equality that keeps JSON types apart: True is not 1, "1" is not 1."""
    return type(a) is type(b) and a == b


def _quote(values: Sequence[Scalar]) -> str:
    return ", ".join(json.dumps(v) for v in values)


@dataclass(frozen=True)
class Option:
    value: Scalar
    label: str
    score: int | None = None


@dataclass(frozen=True)
class Condition:
    """The item is shown (and required) only when `item` was answered with one of `values`."""

    item: str
    values: tuple[Scalar, ...]

    def met_by(self, value: Any) -> bool:
        return any(same(value, v) for v in self.values)


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    type: ItemType
    required: bool = True
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    when: Condition | None = None
    loinc: str | None = None
    help: str | None = None

    def option(self, value: Any) -> Option | None:
        return next((o for o in self.options if same(o.value, value)), None)

    @property
    def scorable(self) -> bool:
        """Whether every possible answer carries points, so the item can be summed."""
        if self.type == "integer" and not self.options:
            return True
        return bool(self.options) and all(o.score is not None for o in self.options)

    def points_range(self) -> tuple[int, int]:
        if self.type == "integer" and not self.options:
            return self._bounds()
        scores = [o.score for o in self.options if o.score is not None]
        return min(scores), max(scores)

    def points(self, value: Any) -> int:
        """Points of a valid answer to a scorable item."""
        option = self.option(value)
        if option is None:
            return int(value)
        if option.score is None:
            raise ValueError(f"{self.id} has answers without a score")
        return option.score

    def _bounds(self) -> tuple[int, int]:
        # The schema requires both for an integer item without options.
        if self.minimum is None or self.maximum is None:
            raise ValueError(f"{self.id} has neither options nor a range")
        return self.minimum, self.maximum

    def problem(self, value: Any) -> str | None:
        """Why `value` is not an acceptable answer to this item, or None when it is.

        Messages never repeat the value: it may be something a client said."""
        match self.type:
            case "integer":
                if type(value) is not int:
                    return self._integer_rule()
                if self.options:
                    return None if self.option(value) else self._integer_rule()
                low, high = self._bounds()
                return None if low <= value <= high else self._integer_rule()
            case "string":
                if isinstance(value, str) and self.option(value):
                    return None
                return f"must be one of {_quote([o.value for o in self.options])}"
            case "boolean":
                return None if type(value) is bool else "must be true or false"
            case "multi":
                allowed = f"must be a list of {_quote([o.value for o in self.options])}"
                if not isinstance(value, list):
                    return allowed + " (an empty list when none apply)"
                if not all(isinstance(v, str) and self.option(v) for v in value):
                    return allowed
                if len(set(value)) != len(value):
                    return "must not list a choice twice"
                return None
            case "text":
                if not isinstance(value, str):
                    return "must be text"
                if self.max_length is not None and len(value) > self.max_length:
                    return f"must be at most {self.max_length} characters"
                return None
        raise AssertionError(self.type)  # pragma: no cover - the schema allows no other type

    def _integer_rule(self) -> str:
        if not self.options:
            return f"must be a whole number from {self.minimum} to {self.maximum}"
        values = sorted(int(o.value) for o in self.options)
        if values == list(range(values[0], values[-1] + 1)):
            return f"must be a whole number from {values[0]} to {values[-1]}"
        return f"must be one of {_quote(values)}"


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    label: str


@dataclass(frozen=True)
class Flag:
    name: str
    rule: Rule


@dataclass(frozen=True)
class RiskRule:
    level: str
    rule: Rule


@dataclass(frozen=True)
class Instrument:
    """Read-only view of one validated definition. `rule` mappings are frozen too."""

    key: str
    title: str
    version: str
    attribution: str
    licence: str
    stem: str | None
    description: str | None
    loinc_panel: str | None
    loinc_total: str | None
    items: tuple[Item, ...]
    score_items: tuple[str, ...]  # empty: the instrument has no numeric score
    bands: tuple[Band, ...]
    flags: tuple[Flag, ...]
    risk_rules: tuple[RiskRule, ...]
    # With a declined answer, the risk level is at least this one (None: no floor).
    incomplete_risk_level: str | None = None
    definition_json: str = field(default="{}", repr=False, compare=False)

    @property
    def has_score(self) -> bool:
        return bool(self.score_items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        """The definition as stored (a fresh copy the caller may change)."""
        result: dict[str, Any] = json.loads(self.definition_json)
        return result


# --- loading ---------------------------------------------------------------------------


def default_instruments_dir() -> Path:
    return Settings().forms_dir / "instruments"


def _directory(instruments_dir: Path | None) -> Path:
    return Path(instruments_dir) if instruments_dir is not None else default_instruments_dir()


# Parsed definitions by file, reused while the file's identity (inode, mtime, size) holds.
# A dict is enough: a race only costs a second parse of the same file.
_cache: dict[Path, tuple[tuple[int, int, int], Instrument]] = {}


def get_instrument(key: str, *, instruments_dir: Path | None = None) -> Instrument:
    """The definition `<key>.json` in the directory. Unknown key -> NotFound."""
    directory = _directory(instruments_dir)
    # The key becomes a file name: anything outside the key pattern cannot name one of ours.
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise NotFound("No such screening instrument.", code="instrument_not_found")
    path = directory / f"{key}.json"
    if not path.is_file():
        raise NotFound(f"No screening instrument {key!r}.", code="instrument_not_found")
    return _load_file(path)


def list_instruments(*, instruments_dir: Path | None = None) -> list[Instrument]:
    """Every definition in the directory, by key. A broken file raises Invalid."""
    directory = _directory(instruments_dir)
    if not directory.is_dir():
        return []
    return sorted((_load_file(p) for p in _definition_files(directory)), key=lambda i: i.key)


def _definition_files(directory: Path) -> Iterator[Path]:
    for path in directory.glob("*.json"):
        if not path.name.endswith(".schema.json") and path.is_file():
            yield path


def _load_file(path: Path) -> Instrument:
    stat = path.stat()
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    data = _read_json(path)
    instrument = _build_checked(data, source=path.name)
    if instrument.key != path.stem:
        raise Invalid(
            "The instrument definition is not valid.",
            code="invalid_instrument",
            details=[{"field": "$.key", "message": f"must match the file name {path.name}"}],
        )
    _cache[path] = (stamp, instrument)
    return instrument


class _DuplicateKey(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal keys; in a clinical definition that
    # hides an edit mistake, so refuse it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _read_json(path: Path) -> Any:
    def invalid(message: str) -> Invalid:
        return Invalid(
            f"{path.name} is not a readable instrument definition.",
            code="invalid_instrument",
            details=[{"field": "$", "message": message}],
        )

    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            raise invalid(f"larger than {MAX_DEFINITION_BYTES} bytes")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NotFound(f"{path.name} does not exist.", code="file_not_found") from None
    except OSError:
        raise invalid("cannot be read") from None
    except UnicodeDecodeError:
        raise invalid("is not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKey as exc:
        raise invalid(f"key {exc.args[0]!r} appears twice in one object") from None
    except json.JSONDecodeError as exc:
        raise invalid(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None


# --- validation ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _meta_validator() -> Draft202012Validator:
    # The meta-schema always comes from the shipped forms, whatever directory a site uses.
    schema = json.loads((default_instruments_dir() / SCHEMA_FILE).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_definition(data: dict[str, Any]) -> None:
    """Raise Invalid (details: [{"field": JSON path, "message"}]) unless `data` is a
    complete, self-consistent instrument definition."""
    _build_checked(data)


def _build_checked(data: Any, *, source: str | None = None) -> Instrument:
    problems = _shape_problems(data)
    instrument = None
    if not problems:
        instrument = _build(data)
        problems = _cross_check(instrument, data)
    if problems or instrument is None:
        where = f" ({source})" if source else ""
        raise Invalid(
            f"The instrument definition is not valid{where}.",
            code="invalid_instrument",
            details=problems,
        )
    return instrument


def _shape_problems(data: Any) -> list[Detail]:
    if not isinstance(data, Mapping):
        return [{"field": "$", "message": "must be a JSON object"}]
    # JSON Schema counts 1.0 as an integer; scores and answers here are whole numbers only.
    float_paths = list(_float_paths(data, "$"))
    floats = [{"field": p, "message": "must be a whole number"} for p in float_paths]
    errors = sorted(_meta_validator().iter_errors(data), key=lambda e: e.json_path)
    return floats + [
        {"field": e.json_path, "message": _schema_message(e)}
        for e in errors
        if not (e.validator == "type" and e.json_path in float_paths)
    ]


def _float_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, float):
        yield path
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _float_paths(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _float_paths(child, f"{path}[{index}]")


def _schema_message(error: ValidationError) -> str:
    # jsonschema quotes whole objects in some messages; name them instead of dumping them.
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        return "unknown key " + ", ".join(repr(k) for k in _unexpected_keys(error))
    message = str(error.message)
    if isinstance(error.instance, Mapping | list):
        message = message.replace(repr(error.instance), "this value")
    return message


def _unexpected_keys(error: ValidationError) -> list[str]:
    # jsonschema types both as "maybe unset"; an additionalProperties error has both objects.
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    declared = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [
        key for key in instance if key not in declared and not any(p.search(key) for p in patterns)
    ]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _build(data: Mapping[str, Any]) -> Instrument:
    """Typed view of schema-valid data (cross-references are checked afterwards)."""
    loinc = data.get("loinc") or {}
    score = data.get("score")
    return Instrument(
        key=data["key"],
        title=data["title"],
        version=data["version"],
        attribution=data["attribution"],
        licence=data["licence"],
        stem=data.get("stem"),
        description=data.get("description"),
        loinc_panel=loinc.get("panel"),
        loinc_total=loinc.get("total"),
        items=tuple(_build_item(i) for i in data["items"]),
        score_items=tuple(score["items"]) if score else (),
        bands=tuple(Band(b["min"], b["max"], b["label"]) for b in data.get("bands", [])),
        flags=tuple(Flag(f["name"], _freeze(f["rule"])) for f in data.get("flags", [])),
        risk_rules=tuple(
            RiskRule(r["level"], _freeze(r["rule"])) for r in data.get("risk_rules", [])
        ),
        incomplete_risk_level=data.get("incomplete_risk_level"),
        definition_json=json.dumps(data, ensure_ascii=False),
    )


def _build_item(data: Mapping[str, Any]) -> Item:
    options = tuple(Option(o["value"], o["label"], o.get("score")) for o in data.get("options", []))
    if data["type"] == "boolean" and not options:
        options = tuple(Option(v, label) for v, label in _DEFAULT_BOOLEAN_OPTIONS)
    when = data.get("when")
    condition = None
    if when is not None:
        values = (when["equals"],) if "equals" in when else tuple(when["in"])
        condition = Condition(when["item"], values)
    return Item(
        id=data["id"],
        text=data["text"],
        type=data["type"],
        required=data.get("required", True),
        options=options,
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        max_length=data.get("max_length"),
        when=condition,
        loinc=data.get("loinc"),
        help=data.get("help"),
    )


class _Problems(list[Detail]):
    def add(self, path: str, message: str) -> None:
        self.append({"field": path, "message": message})


def _cross_check(instrument: Instrument, data: Mapping[str, Any]) -> list[Detail]:
    problems = _Problems()
    known: dict[str, Item] = {}
    for index, item in enumerate(instrument.items):
        path = f"$.items[{index}]"
        if item.id in known:
            problems.add(f"{path}.id", f"item id {item.id!r} is used twice")
            continue
        _check_item(item, path, known, problems)
        known[item.id] = item

    if instrument.has_score:
        for index, item_id in enumerate(instrument.score_items):
            _check_summable(item_id, f"$.score.items[{index}]", known, problems)
    _check_bands(instrument, known, problems)

    names = [f.name for f in instrument.flags]
    for index, flag in enumerate(instrument.flags):
        if names.index(flag.name) != index:
            problems.add(f"$.flags[{index}].name", f"flag {flag.name!r} is defined twice")
        _check_rule(flag.rule, f"$.flags[{index}].rule", instrument, known, problems)
    for index, risk in enumerate(instrument.risk_rules):
        _check_rule(risk.rule, f"$.risk_rules[{index}].rule", instrument, known, problems)
    levels = [r.level for r in instrument.risk_rules]
    if (
        instrument.incomplete_risk_level is not None
        and instrument.incomplete_risk_level not in levels
    ):
        problems.add(
            "$.incomplete_risk_level",
            f"{instrument.incomplete_risk_level!r} is not one of the risk_rules levels",
        )
    return problems


def _check_item(item: Item, path: str, earlier: Mapping[str, Item], problems: _Problems) -> None:
    seen: list[Scalar] = []
    for index, option in enumerate(item.options):
        if any(same(option.value, v) for v in seen):
            problems.add(f"{path}.options[{index}].value", "the same value is offered twice")
        seen.append(option.value)
    if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
        problems.add(f"{path}.minimum", "must not be greater than maximum")
    if item.when is None:
        return
    target = earlier.get(item.when.item)
    if target is None:
        problems.add(f"{path}.when.item", "must name an item listed before this one")
        return
    if target.type in ("multi", "text"):
        problems.add(f"{path}.when.item", f"cannot depend on a {target.type} item")
        return
    for value in item.when.values:
        problem = target.problem(value)
        if problem:
            problems.add(f"{path}.when", f"{target.id} {problem}")


def _check_summable(
    item_id: str, path: str, known: Mapping[str, Item], problems: _Problems
) -> None:
    # Sums never skip an item: a missing answer would otherwise count as a silent 0.
    item = known.get(item_id)
    if item is None:
        problems.add(path, f"no item {item_id!r}")
    elif not item.scorable:
        problems.add(path, f"{item_id} has answers without a score")
    elif not item.required or item.when is not None:
        problems.add(path, f"{item_id} must be required and always asked to be summed")


def _check_bands(instrument: Instrument, known: Mapping[str, Item], problems: _Problems) -> None:
    if not instrument.bands:
        return
    if not instrument.has_score:
        problems.add("$.bands", "bands need a score")
        return
    summed = [known[i] for i in instrument.score_items if i in known and known[i].scorable]
    if len(summed) != len(instrument.score_items):
        return  # already reported; the range is unknown
    low = sum(i.points_range()[0] for i in summed)
    high = sum(i.points_range()[1] for i in summed)
    labels: set[str] = set()
    for index, band in enumerate(instrument.bands):
        path = f"$.bands[{index}]"
        if band.label in labels:
            problems.add(f"{path}.label", f"band {band.label!r} is defined twice")
        labels.add(band.label)
        if band.min > band.max:
            problems.add(f"{path}.min", "must not be greater than max")
        if index == 0 and band.min > low:
            problems.add(f"{path}.min", f"must be at most {low}, the lowest possible score")
        if index > 0 and band.min != instrument.bands[index - 1].max + 1:
            expected = instrument.bands[index - 1].max + 1
            problems.add(f"{path}.min", f"must be {expected}: bands run upwards without gaps")
    if instrument.bands[-1].max < high:
        problems.add(
            f"$.bands[{len(instrument.bands) - 1}].max",
            f"must be at least {high}, the highest possible score",
        )


def _check_rule(
    rule: Rule, path: str, instrument: Instrument, known: Mapping[str, Item], problems: _Problems
) -> None:
    op = rule["op"]
    if op in ("any_of", "all_of"):
        for index, child in enumerate(rule["rules"]):
            _check_rule(child, f"{path}.rules[{index}]", instrument, known, problems)
    elif op == "not":
        _check_rule(rule["rule"], f"{path}.rule", instrument, known, problems)
    elif op in ("score_gte", "score_gt"):
        if not instrument.has_score:
            problems.add(f"{path}.op", f"{op} needs a score")
    elif op in ("sum_gte", "sum_gt"):
        for index, item_id in enumerate(rule["items"]):
            _check_summable(item_id, f"{path}.items[{index}]", known, problems)
    elif op != "always":
        _check_item_rule(rule, path, known, problems)


def _check_item_rule(rule: Rule, path: str, known: Mapping[str, Item], problems: _Problems) -> None:
    op = rule["op"]
    item = known.get(rule["item"])
    if item is None:
        problems.add(f"{path}.item", f"no item {rule['item']!r}")
        return
    if op in ("item_gte", "item_gt") and item.type != "integer":
        problems.add(f"{path}.item", f"{op} needs an integer item")
    elif op == "nonempty" and item.type not in ("multi", "text"):
        problems.add(f"{path}.item", "nonempty needs a multi or text item")
    elif op == "equals" and item.type == "multi":
        problems.add(f"{path}.op", "use 'in' or 'nonempty' for a multi item")
    elif op in ("equals", "in"):
        values = [rule["value"]] if op == "equals" else list(rule["values"])
        for index, value in enumerate(values):
            at = f"{path}.value" if op == "equals" else f"{path}.values[{index}]"
            answer = [value] if item.type == "multi" else value
            problem = item.problem(answer)
            if problem:
                problems.add(at, f"{item.id} {problem}")


# --- import ----------------------------------------------------------------------------


def import_definition(
    path_or_data: str | os.PathLike[str] | Mapping[str, Any], *, instruments_dir: Path
) -> Instrument:
    """Validate a site's own definition (a JSON file or parsed data) and store it as
    `<key>.json` in `instruments_dir`.

    Identical content is a no-op. Different content under a version already stored raises
    Conflict: scored assessments record the version, so a change needs a new one."""
    if isinstance(path_or_data, Mapping):
        try:  # a private copy, and proof that the data is plain JSON
            data: Any = json.loads(json.dumps(path_or_data))
        except (TypeError, ValueError):
            raise Invalid(
                "The instrument definition is not valid.",
                code="invalid_instrument",
                details=[{"field": "$", "message": "must contain JSON values only"}],
            ) from None
    elif isinstance(path_or_data, str | os.PathLike):
        data = _read_json(Path(path_or_data))
    else:
        raise Invalid(
            "Expected a file path or a definition object.",
            code="invalid_instrument",
            details=[{"field": "$", "message": "must be a JSON object"}],
        )
    instrument = _build_checked(data)
    directory = Path(instruments_dir)
    target = directory / f"{instrument.key}.json"
    if target.is_file():
        current = _existing(target)
        if current is not None and _canonical(current.to_dict()) == _canonical(data):
            return current
        if current is not None and current.version == instrument.version:
            raise Conflict(
                f"Instrument {instrument.key!r} version {instrument.version} already exists "
                "with different content; give the new definition a new version.",
                code="instrument_version_exists",
            )
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return _load_file(target)


def _existing(path: Path) -> Instrument | None:
    try:
        return _load_file(path)
    except Invalid:
        return None  # a broken file may be replaced by a valid one


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _write_atomically(target: Path, text: str) -> None:
    # Readers never see half a file: write beside it, then rename over it.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
