"""factory_boy factories for plain rows; workflow state is always built through the services."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import Role, User
from engine.cases.models import CareTeamMember, Client

_ALL: list[type[SQLAlchemyModelFactory]] = []


def bind(session: Session) -> None:
    for f in _ALL:
        f._meta.sqlalchemy_session = session


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _ALL.append(cls)


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    timezone = "America/New_York"
    active = True

    @factory.post_generation
    def role_keys(self: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not extracted:
            return
        session = UserFactory._meta.sqlalchemy_session
        roles = session.scalars(select(Role).where(Role.key.in_(list(extracted)))).all()
        self.roles = list(roles)
        session.flush()


# Role-specific shorthands: SocialWorkerFactory() == UserFactory(role_keys=("social_worker",)).
SocialWorkerFactory = functools.partial(UserFactory, role_keys=("social_worker",))
NurseFactory = functools.partial(UserFactory, role_keys=("nurse",))
SupervisorFactory = functools.partial(UserFactory, role_keys=("supervisor",))
AdminFactory = functools.partial(UserFactory, role_keys=("admin",))


class ClientFactory(_Base):
    class Meta:
        model = Client

    given_name = factory.Iterator(["Ana", "Ben", "Chloe", "Dev", "Esi"])
    family_name = factory.Sequence(lambda n: f"Client{n}")
    birth_date = date(1960, 5, 17)
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    do_not_contact = False


class CareTeamMemberFactory(_Base):
    """A user on a case's care team: CareTeamMemberFactory(case_id=..., user_id=...)."""

    class Meta:
        model = CareTeamMember

    case_role = "other"
    added_at = factory.LazyFunction(lambda: datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


def client_payload(**overrides: Any) -> dict[str, Any]:
    data = {"given_name": "Rosa", "family_name": "Diaz", "birth_date": "1958-04-02", "mrn": None}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def signed_in(client: Any, user: User) -> Any:
    """Sign `client` (a Flask test client) in as `user` without the login form: a real
    server-side session row (at the app's clock) and the cookie session that points at it."""
    from engine.accounts import SessionPolicy, start_session

    session = UserFactory._meta.sqlalchemy_session
    now = client.application.extensions["carebridge"].clock.now()
    session_id = start_session(session, user=user, now=now, policy=SessionPolicy())
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess["sid"] = session_id
    return client
