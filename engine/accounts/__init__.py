from engine.accounts.models import ROLE_KEYS, ApiToken, Role, User
from engine.accounts.services import (
    authenticate,
    create_token,
    create_user,
    ensure_roles,
    get_user,
    set_password,
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
    "set_password",
    "user_for_token",
    "users_with_role",
]
