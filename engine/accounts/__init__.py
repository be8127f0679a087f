from engine.accounts.models import ROLE_KEYS, ApiToken, Role, User
from engine.accounts.services import (
    TOKEN_SCOPES,
    authenticate,
    create_token,
    create_user,
    ensure_roles,
    get_user,
    set_password,
    token_scopes,
    user_for_token,
    users_with_role,
)

__all__ = [
    "ROLE_KEYS",
    "ApiToken",
    "Role",
    "User",
    "authenticate",
    "create_token",
    "create_user",
    "ensure_roles",
    "get_user",
    "TOKEN_SCOPES",
    "set_password",
    "token_scopes",
    "user_for_token",
    "users_with_role",
]
