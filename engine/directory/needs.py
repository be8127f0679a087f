"""Taxonomy terms → CareBridge needs (the keys of the care plan's need list)."""

from __future__ import annotations

NEEDS = (
    "housing",
    "food",
    "transportation",
    "utilities",
    "safety",
    "mental_health",
    "financial",
    "caregiver_support",
)
# Names other tools (and the HSDS-based screens social workers know) use for the same needs.
ALIASES = {
    "interpersonal_safety": "safety",
    "behavioral_health": "mental_health",
    "behavioural_health": "mental_health",
    "housing_instability": "housing",
    "housing_quality": "housing",
    "food_insecurity": "food",
}
# Words in a term's code or name, checked in this order: the first need whose word appears
# wins (so "domestic violence shelter" is safety, not housing).
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("safety", ("domestic violence", "interpersonal", "abuse", "violence", "safety")),
    (
        "mental_health",
        ("mental", "behavioral", "behavioural", "counsel", "substance", "addiction", "crisis"),
    ),
    ("caregiver_support", ("caregiver", "respite")),
    ("food", ("food", "meal", "pantry", "nutrition", "grocer")),
    ("housing", ("housing", "shelter", "rent", "homeless", "eviction")),
    ("transportation", ("transport", "ride", "transit", "bus ")),
    ("utilities", ("utilit", "energy", "electric", "heating", "water bill")),
    ("financial", ("financial", "income", "cash", "money", "tax prep", "benefits")),
)


def canonical(need: str | None) -> str | None:
    """The CareBridge need for a need name or alias; None when it is not one."""
    if not need:
        return None
    key = need.strip().casefold().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in NEEDS else None


def need_of_term(code: str | None, name: str | None) -> str | None:
    """The need a taxonomy term maps to: its code when it is a need's key (our own taxonomy),
    else the first need whose keyword its code or name holds."""
    direct = canonical(code)
    if direct:
        return direct
    text = f" {code or ''} {name or ''} ".casefold().replace("_", " ")
    for need, words in _KEYWORDS:
        if any(word in text for word in words):
            return need
    return None
