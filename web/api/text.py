"""Text the database cannot store is refused at the edge: PostgreSQL rejects NUL (U+0000) in
text and JSON columns, which would otherwise surface as a 500 from deep inside a command."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import BadRequest, Invalid

NUL = "\x00"


def refuse_nul_characters() -> None:
    """400 for a query parameter with NUL; 422 naming the field for a JSON body with one."""
    for key, value in request.args.items(multi=True):
        if NUL in key or NUL in value:
            raise BadRequest("Parameters cannot contain NUL characters.", code="bad_parameter")
    if request.is_json:
        where = _nul_in(request.get_json(silent=True), "")
        if where is not None:
            raise Invalid(
                "Text cannot contain NUL characters.",
                code="invalid_text",
                details=[{"field": where or "(body)", "message": "Must not contain NUL."}],
            )


def _nul_in(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) holding NUL, else None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                return path  # the object holding the key: the key itself is not printable
            here = f"{path}.{key}" if path else str(key)
            found = _nul_in(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_in(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None
