"""FastAPI dependencies as ``Annotated`` aliases, and the two checks every route makes:
``authorize``/``may`` (the role/ownership table in ``assistant.auth``) and ``audit`` (the
trail). Routes import these from here, not from one another.

Two ways in: a bearer token (``CurrentUser``, every ``/v1`` route) and the web app's session
cookie (``session_user``, read by the pages and, for what a browser's ``<audio>`` element
fetches, ``Viewer``: the cookie or a token)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, object_session

from assistant.api.errors import request_id
from assistant.auth import ACTION_WORDS, FailureThrottle, Reach, hash_token, reach
from assistant.domain import Role
from assistant.errors import Forbidden, NotFound, TooManyAttempts, Unauthenticated
from assistant.review import Lexicon
from assistant.settings import Settings
from assistant.storage import User, repo, session_scope

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="A token from `caseassist users add`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back if it raises."""
    with session_scope(request.app.state.sessions) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit when the route returns, before the response is sent. With FastAPI's
# default ("request") the commit runs after the client has its answer, so a client's next call
# (approve right after an edit) could read the database before the edit was committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The token's user. A client address with too many recent failures is refused (429
    ``too_many_attempts``) before its token is looked at; each failure is audited (the
    address and why, never the token) in a transaction of its own, kept though the request
    fails."""
    client = request.client.host if request.client else "unknown"
    throttle: FailureThrottle = request.app.state.auth_throttle
    wait = throttle.retry_after(client)
    if wait is not None:
        log.warning("sign-in refused: too many failures from %s", client)
        raise TooManyAttempts(
            f"Too many failed sign-ins from this address; try again in {wait} s.",
            retry_after=wait,
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        sign_in_failed(request, client, "missing_token")
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    user = repo.user_by_token_hash(session=session, token_hash=hash_token(credentials.credentials))
    if user is None or not user.active:
        sign_in_failed(request, client, "invalid_token" if user is None else "inactive_user")
        raise Unauthenticated("The token is not valid.")
    return user


def sign_in_failed(
    request: Request, client: str, reason: str, *, throttle: FailureThrottle | None = None
) -> None:
    """Count a failed sign-in against ``client`` (in ``throttle``, by default the bearer
    tokens' one) and audit it: the address and why, never what was typed."""
    (throttle or request.app.state.auth_throttle).record_failure(client)
    with session_scope(request.app.state.sessions) as s:
        repo.add_audit(
            session=s,
            actor_id=None,
            action="auth.failed",
            object_type="auth",
            object_id=None,
            request_id=request_id(request),
            details={"client": client, "reason": reason},
        )
    log.info("sign-in failed (%s) from %s", reason, client)


CurrentUser = Annotated[User, Depends(get_current_user)]

#: The web app's session cookie: a random secret whose sha256 is a ``web_sessions`` row.
SESSION_COOKIE = "caseassist_session"


def session_user(request: Request, session: Session) -> User | None:
    """The user signed in with the request's session cookie, or None (no cookie, signed out,
    idle past ``session_idle_minutes`` or older than ``session_max_hours``). The cookie's
    secret is kept on ``request.state.session_secret`` for the CSRF check, the user's name on
    ``request.state.web_user_name`` for the page header (error pages too, which are drawn
    after the request's database session has closed)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    settings: Settings = request.app.state.settings
    user = repo.web_session_user(
        session=session,
        token_hash=hash_token(secret),
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )
    if user is not None:
        request.state.session_secret = secret
        request.state.web_user_name = user.name
    return user


def get_viewer(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """A bearer token's user, or without one the signed-in browser's: for GET routes a page
    embeds (the audio player cannot send a token). Never for a route that changes anything:
    a cookie is sent with cross-site requests too, and only the pages' forms check CSRF."""
    if credentials is None and request.method in ("GET", "HEAD"):
        user = session_user(request, session)
        if user is not None:
            return user
    return get_current_user(request, session, credentials)


Viewer = Annotated[User, Depends(get_viewer)]


def get_lexicon(request: Request) -> Lexicon:
    """The safeguarding red-flag lexicon, loaded at start-up (the one drafting reviews with)."""
    return request.app.state.lexicon


LexiconDep = Annotated[Lexicon, Depends(get_lexicon)]


def may(action: str, user: User, *, owner_id: str | None) -> bool:
    """Whether ``user`` may do ``action`` on something owned by ``owner_id`` (None: no owner):
    the role table and, for a manager in a team, whether the owner is in it (looked up in the
    session ``user`` was loaded in: every request's user is)."""
    return repo.may_reach(session=object_session(user), user=user, action=action, owner_id=owner_id)


def reach_of(action: str, user: User) -> Reach:
    """Whose things ``user`` may do ``action`` on: none, own, team or all."""
    return reach(action, role=Role(user.role), team=user.team)


def authorize(action: str, user: User, *, owner_id: str | None) -> None:
    """Raise unless ``user`` may do ``action``: NotFound for another user's things, else
    Forbidden."""
    if not may(action, user, owner_id=owner_id):
        # Another user's ids look exactly like ids that do not exist.
        if owner_id is not None and owner_id != user.id:
            raise NotFound("No such recording.")
        raise Forbidden(f"Your role ({user.role}) may not {ACTION_WORDS.get(action, action)}.")


def audit(
    session: Session,
    request: Request,
    user: User,
    action: str,
    object_type: str,
    object_id: str | None,
    **details: Any,
) -> None:
    """Append ``user``'s ``action`` to the audit trail; ``details``: ids, counts, formats."""
    repo.add_audit(
        session=session,
        actor_id=user.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=request_id(request),
        details=details,
    )
