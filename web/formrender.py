"""Task forms on the server: JSON Schema + UI hints → HTML fields, and the posted form → typed
JSON data for the engine to validate.

Field names are dotted paths (`cssrs.q1`), the same paths the engine's validation errors
name, so each error lands beside its field. Rendering always takes the *raw* submitted
strings, so a rejected form comes back exactly as the user typed it.

Supported: text, textarea, number/integer, date, email, enum/oneOf as radio or select,
arrays of enums as checkboxes, booleans (checkbox, or yes/no radio), nested objects as
fieldsets, `description`/`ui:help` as help text, required markers, and `if {X: const|enum}`
`then`/`else` conditions: inside a screening instrument they are skip logic (C-SSRS 3–5
only after a yes to 2: hidden by forms.js, dropped by the server when unmet); elsewhere
they make a field required only under the condition, which its hint says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from markupsafe import Markup

RADIO_MAX_OPTIONS = 5  # more than this and a select is easier to scan

Values = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Option:
    value: Any  # typed, as the schema has it
    label: str

    @property
    def raw(self) -> str:
        return raw_of(self.value)


@dataclass(frozen=True)
class Condition:
    """A sibling's answer (full dotted name) that a field depends on: `values` it must have,
    or, negated, any answer but those."""

    field: str
    values: tuple[str, ...]
    negate: bool = False
    label: str = ""  # "“Referral made” is “Yes”", for people

    def met(self, raw: str | None) -> bool:
        if self.negate:
            return raw not in (None, "") and raw not in self.values
        return raw in self.values


@dataclass
class Field:
    name: str
    title: str
    widget: str  # text|textarea|number|integer|date|email|radio|select|checkboxes|checkbox|fieldset
    required: bool = False
    help: str | None = None
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    condition: Condition | None = None  # hidden (and not submitted) unless it is met
    required_when: Condition | None = None  # required only when it is met
    instrument: str | None = None
    sensitive: bool = False
    type: str | None = None  # the JSON type of the value

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    def walk(self) -> Iterable[Field]:
        yield self
        for child in self.children:
            yield from child.walk()


def raw_of(value: Any) -> str:
    """How a typed value travels in an HTML form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# ---------------------------------------------------------------- schema → fields ---


def _options(node: Mapping[str, Any]) -> list[Option] | None:
    if isinstance(node.get("oneOf"), list) and all(
        isinstance(o, Mapping) and "const" in o for o in node["oneOf"]
    ):
        return [Option(o["const"], str(o.get("title", raw_of(o["const"])))) for o in node["oneOf"]]
    if isinstance(node.get("enum"), list):
        return [Option(v, raw_of(v).replace("_", " ").capitalize()) for v in node["enum"]]
    return None


def _ordered(props: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    order = ui.get("ui:order")
    if not isinstance(order, list):
        return list(props)
    names = [n for n in order if n in props]
    rest = [n for n in props if n not in names]
    if "*" in order:
        star = order.index("*")
        before = [n for n in order[:star] if n in props]
        return before + rest + [n for n in order[star + 1 :] if n in props]
    return names + rest


def _conditions(node: Mapping[str, Any], prefix: str) -> dict[str, tuple[Condition, bool]]:
    """Children that depend on a sibling's answer, from `if {X: const V | enum [..]}` with
    `then`/`else`: name -> (condition, required under it)."""
    out: dict[str, tuple[Condition, bool]] = {}
    props = node.get("properties") or {}
    clauses = [node] + [c for c in node.get("allOf", []) if isinstance(c, Mapping)]
    for clause in clauses:
        test = (
            clause.get("if", {}).get("properties")
            if isinstance(clause.get("if"), Mapping)
            else None
        )
        if not isinstance(test, Mapping) or len(test) != 1:
            continue
        ((controller, rule),) = test.items()
        if isinstance(rule, Mapping) and "const" in rule:
            wanted = [rule["const"]]
        elif isinstance(rule, Mapping) and isinstance(rule.get("enum"), list):
            wanted = list(rule["enum"])
        else:
            continue
        label = _describe_answer(props.get(controller), controller, wanted)
        for branch, negate in (("then", False), ("else", True)):
            body = clause.get(branch)
            if not isinstance(body, Mapping):
                continue
            required = set(body.get("required", []))
            for name in [*body.get("required", []), *body.get("properties", {})]:
                if name != controller and name not in out:
                    values = tuple(raw_of(v) for v in wanted)
                    condition = Condition(f"{prefix}{controller}", values, negate, label)
                    out[name] = (condition, name in required)
    return out


def _describe_answer(node: Any, name: str, wanted: list[Any]) -> str:
    node = node if isinstance(node, Mapping) else {}
    options = {o.raw: o.label for o in (_options(node) or [])}
    if node.get("type") == "boolean" and not options:
        options = {"true": "Yes", "false": "No"}
    answers = " or ".join(f"“{options.get(raw_of(v), raw_of(v))}”" for v in wanted)
    return f"“{node.get('title') or name}” is {answers}"


def build(schema: Mapping[str, Any], ui: Mapping[str, Any] | None = None) -> list[Field]:
    """The fields of an object schema, in `ui:order`."""
    return _children(schema, ui or {}, prefix="")


def _children(
    node: Mapping[str, Any], ui: Mapping[str, Any], prefix: str, *, skip_logic: bool = False
) -> list[Field]:
    """The fields of one object. Inside a screening instrument a condition is skip logic:
    the question is not asked (hidden, not submitted) unless it is met. Elsewhere it only
    makes the field required, which the field says: an optional note stays visible."""
    props = node.get("properties") or {}
    required = set(node.get("required", []))
    conditions = _conditions(node, prefix)
    fields = []
    for name in _ordered(props, ui):
        sub = props[name]
        if not isinstance(sub, Mapping):
            continue
        raw_ui = ui.get(name)
        sub_ui = raw_ui if isinstance(raw_ui, Mapping) else {}
        f = _field(f"{prefix}{name}", name, sub, sub_ui, name in required)
        if f is None:
            continue
        if name in conditions:
            condition, required_then = conditions[name]
            if skip_logic:
                f.condition = condition
                f.required = f.required or required_then
            elif required_then and not f.required:
                f.required_when = condition
        fields.append(f)
    return fields


def _field(
    full: str, name: str, node: Mapping[str, Any], ui: Mapping[str, Any], required: bool
) -> Field | None:
    widget = ui.get("ui:widget")
    if widget == "hidden":
        return None
    kind = node.get("type")
    title = str(node.get("title") or name.replace("_", " ").capitalize())
    help_parts = [str(p) for p in (node.get("description"), ui.get("ui:help")) if p]
    f = Field(
        name=full,
        title=title,
        widget="text",
        required=required,
        help=" ".join(help_parts) or None,
        instrument=node.get("x-instrument"),
        sensitive=bool(node.get("x-sensitive")),
        type=kind if isinstance(kind, str) else None,
    )
    if kind == "object" or "properties" in node:
        f.widget = "fieldset"
        f.type = "object"
        f.children = _children(node, ui, prefix=f"{full}.", skip_logic=bool(f.instrument))
        return f
    if kind == "array":
        raw_items = node.get("items")
        items = raw_items if isinstance(raw_items, Mapping) else {}
        options = _options(items)
        if options is not None:
            f.widget = "checkboxes"
            f.options = options
            f.attrs["item_type"] = items.get("type")
            return f
        f.widget = "textarea"  # a free list: one entry per line
        f.attrs["lines"] = True
        return f
    options = _options(node)
    if options is None and kind == "boolean" and widget in ("radio", "select"):
        options = [Option(True, "Yes"), Option(False, "No")]
    if options is not None:
        f.options = options
        if widget in ("radio", "select"):
            f.widget = widget
        else:
            f.widget = "radio" if len(options) <= RADIO_MAX_OPTIONS else "select"
        return f
    if kind == "boolean":
        f.widget = "checkbox"
        return f
    if kind in ("integer", "number"):
        f.widget = kind
        if widget == "resource_search":
            # A directory service id: static/js/resource_search.js puts a search over it.
            f.attrs["resource_search"] = True
        for key in ("minimum", "maximum"):
            if key in node:
                f.attrs[key[:3]] = node[key]
        return f
    fmt = node.get("format")
    if fmt == "date":
        f.widget = "date"
    elif fmt == "date-time":
        f.widget = "datetime"  # entered in the reader's zone, sent with its offset
    elif fmt == "email":
        f.widget = "email"
    elif widget == "textarea":
        f.widget = "textarea"
    if "maxLength" in node:
        f.attrs["maxlength"] = node["maxLength"]
    return f


# ---------------------------------------------------------------- values ------------


def initial_values(data: Mapping[str, Any] | None, prefix: str = "") -> dict[str, list[str]]:
    """Typed data (defaults, an earlier round's answers) → the raw strings a form holds."""
    out: dict[str, list[str]] = {}
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(initial_values(value, prefix=f"{name}."))
        elif isinstance(value, list):
            out[name] = [raw_of(v) for v in value]
        else:
            out[name] = [raw_of(value)]
    return out


def schema_defaults(schema: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if "default" in sub:
            out.update(initial_values({key: sub["default"]}, prefix))
        elif sub.get("type") == "object":
            out.update(schema_defaults(sub, prefix=f"{prefix}{key}."))
    return out


def values_from_form(form: Any) -> dict[str, list[str]]:
    """A werkzeug MultiDict (request.form) → name → list of raw strings."""
    return {key: list(form.getlist(key)) for key in form}


# ---------------------------------------------------------------- posted → typed ---


@dataclass(frozen=True)
class Parsed:
    data: dict[str, Any]
    errors: dict[str, str]  # fields whose text could not even be read as their type


def parse(fields: list[Field], values: Values, *, zone: tzinfo = UTC) -> Parsed:
    """`zone`: where a date and time typed without an offset was meant (the reader's)."""
    errors: dict[str, str] = {}
    data = _parse_object(fields, values, errors, zone)
    return Parsed(data, errors)


def _first(values: Values, name: str) -> str:
    got = values.get(name) or []
    return got[0].strip() if got else ""


def _touched(f: Field, values: Values) -> bool:
    if f.widget == "fieldset":
        return any(_touched(c, values) for c in f.children)
    return any(v.strip() for v in values.get(f.name, []))


def _parse_object(
    fields: list[Field], values: Values, errors: dict[str, str], zone: tzinfo
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.condition is not None and not f.condition.met(_first(values, f.condition.field)):
            continue  # the server applies the same skip logic as the page: hidden means unanswered
        if f.widget == "fieldset":
            if f.required or _touched(f, values):
                out[f.name.rsplit(".", 1)[-1]] = _parse_object(f.children, values, errors, zone)
            continue
        present, value = _parse_value(f, values, errors, zone)
        if present:
            out[f.name.rsplit(".", 1)[-1]] = value
    return out


def _match(f: Field, raw: str, options: list[Option], errors: dict[str, str]) -> Any:
    for option in options:
        if option.raw == raw:
            return option.value
    errors.setdefault(f.name, "Choose one of the offered options.")
    return raw


def _parse_value(
    f: Field, values: Values, errors: dict[str, str], zone: tzinfo
) -> tuple[bool, Any]:
    if f.widget == "checkboxes":
        picked = [v for v in values.get(f.name, []) if v != ""]
        return True, [_match(f, v, f.options, errors) for v in picked]
    if f.widget == "checkbox":
        return True, _first(values, f.name) in ("true", "on", "1", "yes")
    raw = _first(values, f.name)
    if f.widget == "textarea":
        raw = "\n".join(
            line.rstrip() for line in (values.get(f.name) or [""])[0].strip().splitlines()
        )
        if f.attrs.get("lines"):
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            return True, items
    if raw == "":
        return False, None
    if f.options:
        return True, _match(f, raw, f.options, errors)
    if f.widget == "datetime":
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            errors.setdefault(f.name, "Enter a date and a time.")
            return True, raw
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return True, moment.isoformat()
    if f.widget == "integer":
        try:
            return True, int(raw)
        except ValueError:
            errors.setdefault(f.name, "Enter a whole number.")
            return True, raw
    if f.widget == "number":
        try:
            number = float(raw)
        except ValueError:
            errors.setdefault(f.name, "Enter a number.")
            return True, raw
        return True, int(number) if number.is_integer() and "." not in raw else number
    return True, raw


def _local_input(raw: str, zone: tzinfo) -> str:
    """A stored ISO date and time with an offset, as a datetime-local input shows it."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw  # what the user typed, kept as it was
    if moment.tzinfo is None:
        return raw
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------- errors -----------

_FRIENDLY = (
    ("should be non-empty", "Choose at least one."),
    ("is too short", "Choose at least one."),
    ("does not match", "Check the format of this answer."),
    ("Must be a integer.", "Enter a whole number."),
    ("Must be a boolean.", "Choose yes or no."),
)


def friendly(message: str) -> str:
    for needle, better in _FRIENDLY:
        if needle in message:
            return better
    return message


def errors_by_field(details: Any, parse_errors: Mapping[str, str] | None = None) -> dict[str, str]:
    """The engine's `[{"field", "message"}]` → field name → message. Our own parse errors
    ("Enter a whole number.") say more than the schema's type error, so they win."""
    out: dict[str, str] = {}
    for d in details if isinstance(details, list) else []:
        if isinstance(d, Mapping) and d.get("field"):
            out.setdefault(str(d["field"]), friendly(str(d.get("message", "Check this answer."))))
    out.update(parse_errors or {})
    return out


def unplaced(fields: list[Field], errors: Mapping[str, str]) -> dict[str, str]:
    """Errors that name no rendered field: shown at the top of the form."""
    names = {f.name for top in fields for f in top.walk()}
    return {k: v for k, v in errors.items() if k not in names}


# ---------------------------------------------------------------- rendering --------


def _attrs(pairs: Mapping[str, Any]) -> Markup:
    parts = []
    for key, value in pairs.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(Markup(" {}").format(key))
        else:
            parts.append(Markup(' {}="{}"').format(key, value))
    return Markup("").join(parts)


def _label_text(f: Field) -> Markup:
    marker = (
        Markup(
            ' <span class="req" aria-hidden="true">*</span>'
            '<span class="visually-hidden"> (required)</span>'
        )
        if f.required
        else Markup("")
    )
    sensitive = (
        Markup(' <span class="badge badge-sensitive">Sensitive</span>') if f.sensitive else ""
    )
    return Markup("{}{}{}").format(f.title, marker, sensitive)


def _describedby(f: Field, error: str | None) -> str | None:
    ids = []
    if f.help or f.required_when:
        ids.append(f"{f.id}-hint")
    if error:
        ids.append(f"{f.id}-error")
    return " ".join(ids) or None


def _hint_and_error(f: Field, error: str | None) -> Markup:
    out = Markup("")
    if f.help or f.required_when:
        when = (
            Markup('<span class="req-when">Required {} {}.</span> ').format(
                "unless" if f.required_when.negate else "when", f.required_when.label
            )
            if f.required_when
            else ""
        )
        out += Markup('<p class="hint" id="{}-hint">{}{}</p>').format(f.id, when, f.help or "")
    if error:
        out += Markup(
            '<p class="field-error" id="{}-error">'
            '<span class="visually-hidden">Error: </span>{}</p>'
        ).format(f.id, error)
    return out


def _wrapper(
    f: Field, error: str | None, inner: Markup, *, group: bool, extra: str | None = None
) -> Markup:
    classes = ["field", f"field-{f.widget}"]
    if extra:
        classes.append(extra)
    if error:
        classes.append("has-error")
    data: dict[str, Any] = {"class": " ".join(classes)}
    if group and f.widget == "radio":
        data["role"] = "radiogroup"
        data["aria-required"] = "true" if f.required else None
    if f.condition is not None:
        data["data-show-when"] = f.condition.field
        data["data-show-values"] = json.dumps(list(f.condition.values))
        if f.condition.negate:
            data["data-show-negate"] = "true"
    if group:
        return Markup('<fieldset id="{}"{}>{}</fieldset>').format(f.id, _attrs(data), inner)
    return Markup("<div{}>{}</div>").format(_attrs(data), inner)


def render(
    fields: list[Field],
    values: Values | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    number_items: bool = False,
    zone: tzinfo = UTC,
) -> Markup:
    """`zone`: the reader's, in which a stored date and time is shown."""
    values = values or {}
    errors = errors or {}
    out = Markup("")
    for index, f in enumerate(fields, start=1):
        out += _render_field(f, values, errors, number=index if number_items else None, zone=zone)
    return out


def _render_field(
    f: Field, values: Values, errors: Mapping[str, str], number: int | None, zone: tzinfo
) -> Markup:
    error = errors.get(f.name)
    raw = values.get(f.name) or []
    current = raw[0] if raw else ""
    label = _label_text(f)
    if number is not None:
        label = Markup('<span class="item-no">{}.</span> {}').format(number, label)
    if f.widget == "fieldset":
        legend = Markup('<legend class="fieldset-legend">{}</legend>').format(label)
        inner = legend + _hint_and_error(f, error)
        if f.instrument:
            inner += Markup(
                '<p class="score-preview" data-instrument="{}" data-prefix="{}"'
                ' aria-live="polite" hidden></p>'
            ).format(f.instrument, f.name + ".")
        inner += render(f.children, values, errors, number_items=bool(f.instrument), zone=zone)
        return _wrapper(f, error, inner, group=True, extra="instrument" if f.instrument else None)
    if f.widget in ("radio", "checkboxes"):
        kind = "radio" if f.widget == "radio" else "checkbox"
        chosen = set(raw) if kind == "checkbox" else {current}
        legend = Markup("<legend>{}</legend>").format(label)
        items = Markup("")
        for i, option in enumerate(f.options):
            oid = f"{f.id}-{i}"
            items += Markup('<div class="choice"><input{}><label for="{}">{}</label></div>').format(
                _attrs(
                    {
                        "type": kind,
                        "id": oid,
                        "name": f.name,
                        "value": option.raw,
                        "checked": option.raw in chosen,
                        "aria-describedby": _describedby(f, error),
                    }
                ),
                oid,
                option.label,
            )
        short = len(f.options) <= 3 and all(len(o.label) <= 24 for o in f.options)
        cls = "choices choices-inline" if short and kind == "radio" else "choices"
        inner = (
            legend
            + _hint_and_error(f, error)
            + Markup('<div class="{}">{}</div>').format(cls, items)
        )
        return _wrapper(f, error, inner, group=True)
    label_html = Markup('<label for="{}">{}</label>').format(f.id, label)
    common = {
        "id": f.id,
        "name": f.name,
        "aria-describedby": _describedby(f, error),
        "aria-invalid": "true" if error else None,
        "aria-required": "true" if f.required else None,
    }
    if f.widget == "checkbox":
        control = Markup('<div class="choice"><input{}><label for="{}">{}</label></div>').format(
            _attrs({"type": "checkbox", **common, "value": "true", "checked": current == "true"}),
            f.id,
            label,
        )
        return _wrapper(f, error, control + _hint_and_error(f, error), group=False)
    if f.widget == "select":
        opts = Markup('<option value="">Choose…</option>')
        for option in f.options:
            opts += Markup("<option{}>{}</option>").format(
                _attrs({"value": option.raw, "selected": option.raw == current}), option.label
            )
        control = Markup("<select{}>{}</select>").format(_attrs(common), opts)
    elif f.widget == "textarea":
        text = "\n".join(raw) if f.attrs.get("lines") else current
        rows = 3 if f.attrs.get("lines") else 4
        control = Markup("<textarea{}>{}</textarea>").format(
            _attrs({**common, "rows": rows, "maxlength": f.attrs.get("maxlength")}), text
        )
    else:
        input_type = {
            "integer": "number",
            "number": "number",
            "date": "date",
            "datetime": "datetime-local",
            "email": "email",
        }
        if f.widget == "datetime":
            current = _local_input(current, zone)
        attrs = {"type": input_type.get(f.widget, "text"), **common, "value": current}
        if f.widget in ("integer", "number"):
            attrs.update(
                step="1" if f.widget == "integer" else "any",
                min=f.attrs.get("min"),
                max=f.attrs.get("max"),
                inputmode="numeric" if f.widget == "integer" else "decimal",
            )
            if f.attrs.get("resource_search"):
                attrs["data-resource-search"] = "/api/v1/resources"
        else:
            attrs["maxlength"] = f.attrs.get("maxlength")
        control = Markup("<input{}>").format(_attrs(attrs))
    return _wrapper(f, error, label_html + _hint_and_error(f, error) + control, group=False)
