"""URL converters. Flask's `int` accepts any length of digits, and an id past the database's
64-bit range made the query itself fail (a 500): such a URL matches no route (404) instead."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
