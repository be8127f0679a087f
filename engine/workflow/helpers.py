"""Functions diagram scripts may call (the sandbox's allow-list adds these by name)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def score_instrument(key: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    from engine.instruments import score

    return score(key, answers).as_dict()


SCRIPT_HELPERS: dict[str, Callable[..., Any]] = {"score_instrument": score_instrument}
