"""Who the browser is, and that a form came from our own page.

- Sign-in state: the ``caseassist_session`` cookie (``api.deps.SESSION_COOKIE``), HttpOnly,
  SameSite=Lax, Secure over https (``cookie_secure``), looked up by ``api.deps.session_user``.
- CSRF: every form carries ``csrf_token``. Signed in, it is derived from the session's secret
  (``auth.csrf_for``: bound to that session, stored nowhere); before sign-in (the sign-in and
  set-password forms) it is a random value also sent as the ``caseassist_csrf`` cookie
  (double submit). SameSite=Lax already keeps the session cookie off cross-site posts; the
  token is the second lock.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import Response

from assistant.api.deps import SESSION_COOKIE, SessionDep, session_user
from assistant.auth import csrf_for, new_secret
from assistant.errors import CaseAssistError
from assistant.storage import User

CSRF_COOKIE = "caseassist_csrf"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """A page needs a signed-in user: answered by a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in required")
        self.next_path = next_path


class CsrfRejected(CaseAssistError):
    code = "csrf_rejected"
    http_status = 403


def cookie_secure(request: Request) -> bool:
    setting = request.app.state.settings.cookie_secure
    return request.url.scheme == "https" if setting is None else bool(setting)


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A browser-session cookie (no Max-Age: gone when the browser closes; the server ends
    the sign-in on its own after the idle timeout)."""
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
    )


def csrf_token(request: Request) -> str:
    """The token this page's forms carry. Before sign-in a new one is made when the browser has
    none; ``remember_csrf`` then sends it as a cookie with the page."""
    secret = getattr(request.state, "session_secret", None)
    if secret:
        return csrf_for(secret)
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = new_secret()
    return token


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        set_cookie(response, request, CSRF_COOKIE, new)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403 ``csrf_rejected``) a form whose token is missing or not this browser's."""
    secret = getattr(request.state, "session_secret", None)
    expected = csrf_for(secret) if secret else request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfRejected(
            "The form had expired or did not come from this service. Go back, reload the "
            "page and try again."
        )


def page_user(request: Request, session: SessionDep) -> User:
    """The signed-in user, or a redirect to the sign-in page that comes back here."""
    user = session_user(request, session)
    if user is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise SignInRequired(path)
    request.state.web_user_role = user.role  # the header's menu: the audit log for auditors
    return user


PageUser = Annotated[User, Depends(page_user)]


def sign_in_url(next_path: str | None) -> str:
    return "/sign-in" + (f"?next={quote(next_path, safe='/')}" if next_path else "")


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a path on this service only (no ``//host`` or scheme)."""
    if next_path and next_path.startswith("/") and not next_path.startswith(("//", "/\\")):
        return next_path
    return "/"


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "CsrfRejected",
    "PageUser",
    "SignInRequired",
    "check_csrf",
    "clear_cookie",
    "csrf_token",
    "page_user",
    "remember_csrf",
    "safe_next",
    "set_cookie",
    "sign_in_url",
]
