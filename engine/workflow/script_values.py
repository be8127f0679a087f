"""What a script or expression may leave in task data: JSON's types, nothing else.

A workflow kept live between commands (engine.instances.live) holds the very objects a script
made; one restored from its stored state holds what the serializer made of them. The two must
not differ, or a condition (or the next script) could behave one way on the process that kept
the workflow and another way on the process that restored it: a `set` left in task data comes
back as something else, and `s.add(x)` works on one and fails on the other. So values enter
task data already in the form storing gives them, or are refused with a message that names the
variable (the runtime adds the element):

- converted: tuple -> list (as JSON would); int, float, bool and None dict keys -> their JSON
  text (`1` -> `"1"`, as JSON would); date and datetime -> ISO-8601 text (so every process reads
  the same string, whatever the serializer's registry knows);
- refused: set and frozenset (order and `.add` would not survive: say `sorted(s)`), Decimal,
  bytes, timedelta, other dict keys, and every other object (ranges, iterators, ...).

Functions, generators and modules are dropped before this point (scripting._is_code_or_module),
as the serializer would drop them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

__all__ = ["ValueRefused", "to_task_data"]

_SCALARS = (str, int, float, bool, type(None))
_HINTS: dict[type, str] = {
    set: "use sorted(...) or list(...)",
    frozenset: "use sorted(...) or list(...)",
    bytes: "store text instead",
    bytearray: "store text instead",
    dt.timedelta: "store a number of days or seconds instead",
}


class ValueRefused(ValueError):
    """A value that cannot enter task data; the message names the variable, never a value."""


def _refuse(value: Any, where: str) -> ValueRefused:
    kind = type(value).__name__
    hint = _HINTS.get(type(value), "store numbers, text, true/false, lists or dicts")
    return ValueRefused(f"{where} holds a {kind}, which task data cannot keep: {hint}")


def _key(key: Any, where: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool | int | float) or key is None:
        if isinstance(key, float) and not math.isfinite(key):
            raise ValueRefused(f"{where} has a dict key that is not a finite number")
        return json.dumps(key)
    raise ValueRefused(f"{where} has a dict key of type {type(key).__name__}: keys must be text")


def to_task_data(value: Any, where: str, *, depth: int = 0) -> Any:
    """`value` in JSON's types (see the module's docstring), or ValueRefused naming `where`
    ("variable 'x'": the top-level name only, since keys inside it may be data)."""
    if depth > 100:
        raise ValueRefused(f"{where} is nested too deeply")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {_key(k, where): to_task_data(v, where, depth=depth + 1) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_task_data(v, where, depth=depth + 1) for v in value]
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    raise _refuse(value, where)
