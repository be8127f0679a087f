"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

# The largest id a row can have on every supported database: the id columns are INTEGER,
# signed 32-bit on PostgreSQL (SQLite's INTEGER would hold 64 bits).
MAX_ROW_ID = 2**31 - 1
# The largest integer any column holds (BIGINT): a JSON number past it is refused (400).
MAX_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` for row ids: a number larger than any row id is a 404 rather than an
    overflow in the database (a DataError on PostgreSQL past 2^31-1, an OverflowError on
    SQLite past 2^63-1: both were 500s). Raised here, not
    through the converter's `max`: Werkzeug turns a failed `max` into a 405 when the same path
    has a route for another method."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ROW_ID:
            raise NotFound()
        return number
