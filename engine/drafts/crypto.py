"""The key that seals drafts. CAREBRIDGE_DRAFT_KEY (a Fernet key) when set; otherwise one is
derived from CAREBRIDGE_SECRET_KEY with HKDF, so rotating the secret key makes old drafts
unreadable (they are then treated as absent, never as an error a worker must deal with)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"carebridge task drafts v1"


class DraftCipher:
    def __init__(self, *, secret_key: str, draft_key: str | None = None) -> None:
        if draft_key:
            key = draft_key.encode()
        else:
            raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
                secret_key.encode()
            )
            key = base64.urlsafe_b64encode(raw)
        self._fernet = Fernet(key)

    def seal(self, data: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode())

    def open(self, token: bytes) -> dict[str, Any] | None:
        """The answers, or None when the token was sealed under another key."""
        try:
            value = json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            return None
        return value if isinstance(value, dict) else None
