"""A report as CSV: a header row, then one row per bucket (shared by the API and the pages)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response

from engine.reports import Report

# A cell a spreadsheet would run as a formula (an organisation named "=HYPERLINK(...)").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_response(name: str, report: Report, *, first: str, last: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([_cell(row.get(c)) for c in report.columns])
    filename = f"carebridge-{name}-{first}-{last}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
