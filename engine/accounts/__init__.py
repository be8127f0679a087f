from engine.accounts.credentials import Credential
from engine.accounts.models import ROLE_KEYS, ApiToken, LoginFailure, Role, User, UserSession
from engine.accounts.services import (
    authenticate,
    change_password,
    create_user,
    ensure_roles,
    get_user,
    set_password,
    users_with_role,
)
from engine.accounts.sessions import (
    SessionPolicy,
    end_all_sessions,
    end_session,
    start_session,
    user_for_session,
)
from engine.accounts.throttle import Outcome, SignIn, is_locked, sign_in, unlock
from engine.accounts.tokens import (
    SCOPES,
    TokenGrant,
    create_token,
    grant_for_token,
    list_tokens,
    revoke_token,
    token_status,
    user_for_token,
)

__all__ = [
    "ROLE_KEYS",
    "SCOPES",
    "ApiToken",
    "Credential",
    "LoginFailure",
    "Outcome",
    "Role",
    "SessionPolicy",
    "SignIn",
    "TokenGrant",
    "User",
    "UserSession",
    "authenticate",
    "change_password",
    "create_token",
    "create_user",
    "ensure_roles",
    "end_all_sessions",
    "end_session",
    "get_user",
    "grant_for_token",
    "is_locked",
    "list_tokens",
    "revoke_token",
    "set_password",
    "sign_in",
    "start_session",
    "token_status",
    "unlock",
    "user_for_session",
    "user_for_token",
    "users_with_role",
]
