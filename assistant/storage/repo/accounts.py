"""Web sign-in: set-password links, password hashes, browser sessions, and single sign-on
(OpenID Connect) accounts and sign-ins under way.

Secrets arrive already hashed (``auth.hash_token``), passwords already argon2-hashed
(``auth.hash_password``): nothing here sees a secret in the clear.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assistant.domain import Role
from assistant.storage.models import OidcLogin, PasswordLink, User, WebSession, utcnow
from assistant.storage.repo.users import create_user, get_user


def create_password_link(
    *, session: Session, user_id: str, token_hash: str, valid_for: timedelta
) -> PasswordLink:
    """A link to set ``user_id``'s password, valid for ``valid_for``. Earlier unspent links
    stay valid until they expire or a password is set."""
    get_user(session=session, user_id=user_id)
    now = utcnow()
    link = PasswordLink(
        user_id=user_id, token_hash=token_hash, created_at=now, expires_at=now + valid_for
    )
    session.add(link)
    session.flush()
    return link


def user_for_password_link(*, session: Session, token_hash: str) -> User | None:
    """The active user a link sets the password of, or None if the link is unknown, spent or
    expired."""
    link = session.scalars(
        select(PasswordLink).where(PasswordLink.token_hash == token_hash)
    ).one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = session.get(User, link.user_id)
    return user if user is not None and user.active else None


def set_password(*, session: Session, token_hash: str, password_hash: str) -> User | None:
    """Set the password through a link and spend it, every other unspent link of the user and
    every session they have open. None if the link is not valid (nothing changes)."""
    user = user_for_password_link(session=session, token_hash=token_hash)
    if user is None:
        return None
    now = utcnow()
    user.password_hash = password_hash
    user.password_set_at = now
    session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    end_user_sessions(session=session, user_id=user.id, now=now)
    session.flush()
    return user


def users_for_sign_in(*, session: Session, name: str) -> list[User]:
    """Active users with a password whose name is ``name`` (case and outer spaces ignored).
    Names are not unique: the caller tries the password against each."""
    # compared here, not by the database's lower(): SQLite's folds ASCII only, so "Łucja"
    # never matched "łucja" (nor itself: lower("Łucja") is "Łucja", Python's "łucja")
    wanted = _folded(name)
    stmt = select(User).where(User.active.is_(True), User.password_hash.is_not(None))
    return [u for u in session.scalars(stmt) if _folded(u.name) == wanted]


def _folded(name: str) -> str:
    """A name as sign-in compares it: outer spaces, case and Unicode composition ignored."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def create_web_session(*, session: Session, user_id: str, token_hash: str) -> WebSession:
    now = utcnow()
    row = WebSession(user_id=user_id, token_hash=token_hash, created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return row


def web_session_user(
    *, session: Session, token_hash: str, idle: timedelta, lifetime: timedelta
) -> User | None:
    """The active user of a session that is neither ended, idle for longer than ``idle``, nor
    older than ``lifetime``; its last-seen time is moved on. A lapsed session is ended."""
    row = session.scalars(
        select(WebSession).where(WebSession.token_hash == token_hash)
    ).one_or_none()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if now - row.last_seen_at > idle or now - row.created_at > lifetime:
        row.ended_at = now
        session.flush()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    # At most once a minute (a tenth of the timeout when that is shorter): precise enough for
    # a timeout counted in minutes, and spares a write on every request (and on each of an
    # audio player's range requests).
    if now - row.last_seen_at > min(timedelta(seconds=60), idle / 10):
        row.last_seen_at = now
        session.flush()
    return user


def end_web_session(*, session: Session, token_hash: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_user_sessions(*, session: Session, user_id: str, now: datetime | None = None) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


# --- single sign-on (OpenID Connect) --------------------------------------------------------
def create_oidc_login(*, session: Session, token_hash: str, next_path: str) -> OidcLogin:
    """A sign-in with the provider under way (``token_hash``: the browser secret's sha256).
    Rows a day old are cleared here: each is only good for minutes."""
    now = utcnow()
    session.execute(
        delete(OidcLogin)
        .where(OidcLogin.created_at < now - timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    row = OidcLogin(token_hash=token_hash, next_path=next_path, created_at=now)
    session.add(row)
    session.flush()
    return row


def spend_oidc_login(*, session: Session, token_hash: str, max_age: timedelta) -> str | None:
    """Spend the sign-in of this secret if it is unspent and younger than ``max_age``; where
    to go after signing in, or None (unknown, spent or stale: the caller refuses). One
    conditional UPDATE, so two callbacks racing with one secret cannot both win."""
    now = utcnow()
    spent = session.execute(
        update(OidcLogin)
        .where(
            OidcLogin.token_hash == token_hash,
            OidcLogin.used_at.is_(None),
            OidcLogin.created_at > now - max_age,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalars(
        select(OidcLogin.next_path).where(OidcLogin.token_hash == token_hash)
    ).one()


def user_by_oidc_identity(*, session: Session, issuer: str, subject: str) -> User | None:
    """The account of this person at this provider, active or not."""
    return session.scalars(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    ).one_or_none()


def create_oidc_user(
    *, session: Session, name: str, role: Role, issuer: str, subject: str, token_hash: str
) -> User:
    """An account for a person first signing in with the provider. ``token_hash``: the
    sha256 of an API token nobody is shown (the column needs one; it opens nothing until an
    administrator issues a real token). No password: they sign in with the provider only."""
    user = create_user(session=session, name=name, role=role, token_hash=token_hash)
    user.oidc_issuer = issuer
    user.oidc_subject = subject
    session.flush()
    return user
