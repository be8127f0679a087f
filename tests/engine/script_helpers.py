"""Helpers for script tests. Helpers run in the sandbox worker process, which imports them by
module and name, so they live here rather than as lambdas inside the tests."""

from __future__ import annotations


def double(x: float) -> float:
    return 2 * x
