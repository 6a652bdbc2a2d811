"""Users: only the sha256 of a bearer token is stored."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.domain import Role, team_label
from assistant.storage.models import User, utcnow
from assistant.storage.repo._base import get_row
from assistant.storage.repo.voices import erase_voice


def create_user(
    *, session: Session, name: str, role: Role | str, token_hash: str, team: str | None = None
) -> User:
    """``token_hash`` is the sha256 hex of the bearer token; the token itself is never stored.
    ``team``: a label (``domain.team_label`` tidies it; ValueError if it is not one) or None."""
    if not re.fullmatch(r"[0-9a-f]{64}", token_hash):
        raise ValueError("token_hash must be a lowercase sha256 hex digest")
    user = User(
        name=name,
        role=Role(role).value,
        token_hash=token_hash,
        active=True,
        team=team_label(team) if team is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, user_id: str) -> User:
    return get_row(session, User, user_id, "user")


def list_users(*, session: Session) -> list[User]:
    """Every user, active or not, oldest first."""
    return list(session.scalars(select(User).order_by(User.created_at, User.id)))


def set_team(*, session: Session, user_id: str, team: str | None) -> User:
    """Put the user in ``team`` (tidied by ``domain.team_label``; ValueError if it is not a
    label) or in none (None). Managers' reach follows at their next request."""
    user = get_user(session=session, user_id=user_id)
    user.team = team_label(team) if team is not None else None
    session.flush()
    return user


def team_of(*, session: Session, user_id: str) -> str | None:
    """The user's team (None: none, or no such user)."""
    return session.scalar(select(User.team).where(User.id == user_id))


def user_by_token_hash(
    *, session: Session, token_hash: str, include_inactive: bool = False
) -> User | None:
    """The user holding this token, or None. Deactivated users are None unless asked for."""
    stmt = select(User).where(User.token_hash == token_hash)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    return session.scalars(stmt).one_or_none()


def set_user_active(*, session: Session, user_id: str, active: bool) -> User:
    """Deactivating stamps ``deactivated_at`` (once: deactivating again keeps the first time,
    which started the retention period of the user's data) and erases their enrolled voice (kept
    only while they work here: a voice print is biometric data); reactivating clears the stamp."""
    user = get_user(session=session, user_id=user_id)
    if not active:
        erase_voice(session=session, user_id=user_id)
    if not active and user.active:
        user.deactivated_at = utcnow()
    elif active:
        user.deactivated_at = None
    user.active = active
    session.flush()
    return user
