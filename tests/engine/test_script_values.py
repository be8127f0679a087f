"""What a script may leave in task data: JSON's types, converted or refused by name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from engine.errors import ScriptError
from engine.workflow.script_values import ValueRefused, to_task_data
from engine.workflow.scripting import RestrictedEnvironment


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ((1, (2, 3)), [1, [2, 3]]),
        ({1: "a", None: "b", 2.5: "c"}, {"1": "a", "null": "b", "2.5": "c"}),
        (date(2026, 3, 2), "2026-03-02"),
        (datetime(2026, 3, 2, 9, tzinfo=UTC), "2026-03-02T09:00:00+00:00"),
        ({"nested": [{"t": (1,)}]}, {"nested": [{"t": [1]}]}),
        (1.5, 1.5),
    ],
)
def test_values_are_converted_as_storing_would(value: Any, stored: Any) -> None:
    assert to_task_data(value, "variable 'x'") == stored


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"food"}, "holds a set"),
        (frozenset({1}), "holds a frozenset"),
        (Decimal("1.10"), "holds a Decimal"),
        (b"raw", "holds a bytes"),
        (timedelta(days=1), "holds a timedelta"),
        ({(1, 2): "pair"}, "dict key of type tuple"),
        ([range(3)], "holds a range"),
    ],
)
def test_values_that_would_change_are_refused_by_name(value: Any, fragment: str) -> None:
    with pytest.raises(ValueRefused) as caught:
        to_task_data(value, "variable 'x'")
    assert str(caught.value).startswith("variable 'x' ")
    assert fragment in str(caught.value)


def test_a_script_leaving_a_set_fails_naming_the_variable() -> None:
    with pytest.raises(ScriptError, match="variable 'seen' holds a set"):
        RestrictedEnvironment().execute("seen = {'food', 'rent'}", {})


def test_an_untouched_value_is_not_converted() -> None:
    # Only what the script added or changed crosses the boundary; the rest stays as it was.
    context: dict[str, Any] = {"kept": (1, 2)}
    RestrictedEnvironment().execute("other = 1", context)
    assert context == {"kept": (1, 2), "other": 1}


def test_a_result_too_large_for_json_is_refused() -> None:
    with pytest.raises(ScriptError, match="too large to keep"):
        RestrictedEnvironment().execute("x = 10**5000", {})
