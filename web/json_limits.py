"""Request JSON with a nesting limit. No form, message or API body needs more than a few
levels; a body nested hundreds deep only exercises recursion further down (validation, deep
copies) and ended in a 500. Deeper than MAX_DEPTH is a 400 before any of that runs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

MAX_DEPTH = 32


class TooDeep(BadRequest):
    description = f"The JSON body is nested more than {MAX_DEPTH} levels deep."


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class LimitedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise TooDeep() from None
        if _depth_exceeds(value, MAX_DEPTH):
            raise TooDeep()
        return value
