"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

# The largest id a database row can have (BIGINT / SQLite INTEGER: signed 64-bit).
MAX_ROW_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` for row ids: a number larger than any row id is a 404 rather than an
    overflow in the driver (a 500 on SQLite, a DataError on PostgreSQL). Raised here, not
    through the converter's `max`: Werkzeug turns a failed `max` into a 405 when the same path
    has a route for another method."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ROW_ID:
            raise NotFound()
        return number
