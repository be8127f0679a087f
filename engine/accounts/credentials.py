"""How a caller proved who they are: what permission checks and the audit trail need to tell
a person at a screen from an integration acting under a scoped token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.accounts.models import User


@dataclass(frozen=True)
class Credential:
    user: User
    token_id: int | None = None
    # None for a browser session (the person's own rights); a token's scopes otherwise.
    scopes: frozenset[str] | None = None

    @property
    def personal(self) -> bool:
        """Acting with the user's own rights: a browser session or an `api`-scoped token."""
        return self.scopes is None or "api" in self.scopes

    def has_scope(self, *scopes: str) -> bool:
        return self.scopes is not None and bool(self.scopes.intersection(scopes))

    def audit_details(self) -> dict[str, Any]:
        """Ids and scope names only, for audit rows."""
        if self.token_id is None:
            return {"via": "session"}
        return {"via": "token", "token_id": self.token_id, "scopes": sorted(self.scopes or ())}
