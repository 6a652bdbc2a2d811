"""FastAPI dependencies as ``Annotated`` aliases, all in one place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from assistant.auth import hash_token
from assistant.errors import Unauthenticated
from assistant.settings import Settings
from assistant.storage import repo
from assistant.storage.crypto import MappingCipher
from assistant.storage.models import User

_bearer = HTTPBearer(auto_error=False, description="A token from `caseassist users add`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    user = repo.user_by_token_hash(session=session, token_hash=hash_token(credentials.credentials))
    if user is None or not user.active:
        raise Unauthenticated("The token is not valid.")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_cipher(request: Request) -> MappingCipher:
    return request.app.state.cipher


CipherDep = Annotated[MappingCipher, Depends(get_cipher)]
