"""What views need from the outside world, built once in create_app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm.session import Session, sessionmaker

from engine.calendar import Site
from engine.clock import Clock
from engine.drafts import DraftCipher
from engine.settings import Settings
from engine.uow import UnitOfWork


@dataclass(frozen=True)
class Deps:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    site: Site
    after_commit: Callable[[], None] | None = None


def deps() -> Deps:
    return current_app.extensions["carebridge"]


def sessions() -> sessionmaker[Session]:
    return deps().sessions


@contextmanager
def transaction() -> Iterator[Session]:
    """One request = one unit of work (engine.uow): commits on success, rolls back on any
    error, and turns every database conflict into engine.errors.Conflict (409)."""
    with UnitOfWork(deps().sessions, clock=deps().clock) as uow:
        yield uow.session


def clock() -> Clock:
    return deps().clock


def site() -> Site:
    return deps().site


def committed() -> None:
    """Tell the embedded scheduler that a command committed (it may have created a timer)."""
    hook = deps().after_commit
    if hook is not None:
        hook()


def draft_cipher() -> DraftCipher:
    """Built once per app, on first use (deriving the key costs a little)."""
    ext = current_app.extensions
    cipher = ext.get("carebridge.drafts")
    if cipher is None:
        settings = deps().settings
        cipher = DraftCipher(secret_key=settings.secret_key, draft_key=settings.draft_key)
        ext["carebridge.drafts"] = cipher
    return cipher
