"""Whose recordings a user reaches under an action: ``auth``'s rule (owner, team, everyone)
as a row condition for lists and as a check on one owner. The team is read from the database
each time, so a move between teams counts from the next request on."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from assistant.auth import PERMISSIONS, Reach, allowed, reach
from assistant.domain import Role
from assistant.storage.models import Recording, User
from assistant.storage.repo.users import team_of


def owner_condition(user: User, action: str) -> ColumnElement[bool] | None:
    """The condition on ``Recording.owner_id`` for the recordings ``user`` may ``action``;
    None: none at all."""
    role = Role(user.role)
    scope = reach(action, role=role, team=user.team)
    if scope is Reach.ALL:
        return true()
    if scope is Reach.OWN:
        return Recording.owner_id == user.id
    if scope is Reach.TEAM:
        in_team = Recording.owner_id.in_(select(User.id).where(User.team == user.team))
        if role in PERMISSIONS[action][0]:
            return or_(Recording.owner_id == user.id, in_team)
        return in_team
    return None


def may_reach(*, session: Session | None, user: User, action: str, owner_id: str | None) -> bool:
    """Whether ``user`` may ``action`` something owned by ``owner_id`` (None: no owner). The
    owner's team is looked up only when the answer turns on it; without a ``session`` it
    counts as unknown, which no team matches (refused, never widened)."""
    role = Role(user.role)
    is_owner = owner_id == user.id
    owner_team = None
    if (
        session is not None
        and owner_id is not None
        and not is_owner
        and reach(action, role=role, team=user.team) is Reach.TEAM
    ):
        owner_team = team_of(session=session, user_id=owner_id)
    return allowed(action, role=role, is_owner=is_owner, team=user.team, owner_team=owner_team)
