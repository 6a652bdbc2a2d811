"""Single sign-on: "Sign in with your council account" (``web.oidc`` talks to the provider).

``GET /sign-in/oidc`` starts: a random secret goes to the browser as a cookie (its sha256 to
``oidc_logins``) and the browser to the provider. ``GET /sign-in/oidc/callback`` finishes:
the secret is spent, the provider's answer checked, the person's account found by (issuer,
subject) or made, their role set from their claims, and the same server-side session as a
password sign-in begins. Every sign-in and every refusal is audited (address, reason, the
account; never a code or token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from assistant.api.deps import SESSION_COOKIE, SessionDep, audit
from assistant.api.errors import request_id
from assistant.auth import FailureThrottle, hash_token, new_secret, new_token
from assistant.storage import User, repo, session_scope
from assistant.web.oidc import (
    CALLBACK_PATH,
    LOGIN_COOKIE,
    LOGIN_MAX_AGE,
    OidcProvider,
    SsoRefused,
)
from assistant.web.render import render
from assistant.web.security import CSRF_COOKIE, clear_cookie, safe_next, set_cookie

router = APIRouter(include_in_schema=False)

#: Refusals a forger can cause (a made-up state or code, a forged token): counted against the
#: address like a wrong password. A person without a role or a provider that is down is not.
THROTTLED = frozenset({"oidc_state", "oidc_code", "oidc_id_token"})


def provider(request: Request) -> OidcProvider | None:
    return getattr(request.app.state, "oidc", None)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _redirect_uri(request: Request) -> str:
    return request.app.state.settings.base_url + CALLBACK_PATH


@router.get("/sign-in/oidc")
def start(
    request: Request,
    session: SessionDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    sso = provider(request)
    if sso is None:
        return render(request, "error.html", _not_configured(), status_code=404)
    secret = new_secret()
    try:
        url = sso.authorization_url(secret=secret, redirect_uri=_redirect_uri(request))
    except SsoRefused as exc:
        return refuse(request, session, exc)
    repo.create_oidc_login(
        session=session, token_hash=hash_token(secret), next_path=safe_next(next_path)
    )
    response = RedirectResponse(url, status_code=303)
    set_cookie(response, request, LOGIN_COOKIE, secret)
    return response


@router.get(CALLBACK_PATH)
def callback(request: Request, session: SessionDep) -> Response:
    sso = provider(request)
    if sso is None:
        return render(request, "error.html", _not_configured(), status_code=404)
    client = _client(request)
    throttle: FailureThrottle = request.app.state.sign_in_throttle
    wait = throttle.retry_after(client)
    if wait:
        minutes = -(-wait // 60)
        return refuse(
            request,
            session,
            SsoRefused(
                "too_many_attempts",
                f"Too many failed attempts. Try again in {minutes} minutes.",
                status=429,
            ),
        )
    secret = request.cookies.get(LOGIN_COOKIE, "")
    next_path = None
    if secret:
        # spent and committed at once, before the provider is asked anything: the request's own
        # transaction must not hold SQLite's write lock through the token exchange
        with session_scope(request.app.state.sessions) as own:
            next_path = repo.spend_oidc_login(
                session=own, token_hash=hash_token(secret), max_age=LOGIN_MAX_AGE
            )
    if not next_path:
        return refuse(
            request,
            session,
            SsoRefused(
                "oidc_state",
                "This sign-in was started too long ago, already used, or started in another "
                "browser. Go back to the sign-in page and try again.",
            ),
        )
    params = {k: v for k, v in request.query_params.items()}
    try:
        who = sso.identity(secret=secret, redirect_uri=_redirect_uri(request), params=params)
    except SsoRefused as exc:
        return refuse(request, session, exc)
    user = repo.user_by_oidc_identity(session=session, issuer=who.issuer, subject=who.subject)
    if who.role is None:
        if user is not None:  # their access was taken away at the provider: end it here too
            repo.end_user_sessions(session=session, user_id=user.id)
        return refuse(
            request,
            session,
            SsoRefused(
                "oidc_no_role",
                "Your council account has no role in this service, so you cannot sign in. "
                "Ask your manager or IT service desk to give you access.",
                status=403,
            ),
            user_id=user.id if user else None,
        )
    if user is not None and not user.active:
        return refuse(
            request,
            session,
            SsoRefused(
                "deactivated",
                "Your account in this service has been switched off. Ask your administrator.",
                status=403,
            ),
            user_id=user.id,
        )
    if user is None:
        user = repo.create_oidc_user(
            session=session,
            name=who.name,
            role=who.role,
            issuer=who.issuer,
            subject=who.subject,
            token_hash=hash_token(new_token()),  # never shown: see create_oidc_user
        )
        if sso.team_claim:
            repo.set_team(session=session, user_id=user.id, team=who.team)
        audit(session, request, user, "user.add", "user", user.id, role=who.role.value, via="oidc")
    else:
        if sso.team_claim and user.team != who.team:
            before = user.team
            repo.set_team(session=session, user_id=user.id, team=who.team)
            audit(
                session, request, user, "user.team_set", "user", user.id,
                had_team=before is not None, in_team=who.team is not None, changed=True,
                via="oidc",
            )  # fmt: skip
        if user.role != who.role.value:
            audit(
                session,
                request,
                user,
                "user.role_changed",
                "user",
                user.id,
                old=user.role,
                new=who.role.value,
                via="oidc",
            )
            user.role = who.role.value
        user.name = who.name
    return _signed_in(request, session, user, next_path, client)


@router.get("/sign-out/oidc")
def provider_sign_out(request: Request) -> Response:
    """RP-initiated logout: to the provider's ``end_session_endpoint``, which ends its own
    session and sends the browser back to our signed-out page. A link on that page, not a
    redirect from the sign-out form: the pages' CSP (``form-action 'self'``) rightly stops a
    form's redirect to another site. Our session has already ended."""
    sso = provider(request)
    done = request.app.state.settings.base_url + "/sign-in?done=signed-out"
    url = sso.logout_url(post_logout_redirect_uri=done) if sso is not None else None
    return RedirectResponse(url or "/sign-in?done=signed-out", status_code=303)


def _signed_in(
    request: Request, session: SessionDep, user: User, target: str, client: str
) -> Response:
    """The session a password sign-in makes, from the same code path's parts: a fresh secret,
    its sha256 stored, the cookie, the audit row."""
    secret = new_secret()
    repo.create_web_session(session=session, user_id=user.id, token_hash=hash_token(secret))
    audit(
        session, request, user, "auth.sign_in", "user", user.id,
        client=client, method="oidc", role=user.role,
    )  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, secret)
    clear_cookie(response, request, LOGIN_COOKIE)
    clear_cookie(response, request, CSRF_COOKIE)
    return response


def refuse(
    request: Request, session: SessionDep, exc: SsoRefused, *, user_id: str | None = None
) -> Response:
    """The refusal page; an ``auth.failed`` audit row (address and reason, and the account
    when there is one; nothing the provider sent). No account is made or changed."""
    client = _client(request)
    if exc.reason in THROTTLED:
        request.app.state.sign_in_throttle.record_failure(client)
    details = {"client": client, "reason": exc.reason, "method": "oidc"}
    if user_id:
        details["user_id"] = user_id
    repo.add_audit(
        session=session,
        actor_id=None,
        action="auth.failed",
        object_type="auth",
        object_id=None,
        request_id=request_id(request),
        details=details,
    )
    response = render(request, "sso_refused.html", {"message": exc.message}, status_code=exc.status)
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


def _not_configured() -> dict[str, object]:
    return {
        "title": "Page not found",
        "message": "Single sign-on is not set up on this service.",
        "status": 404,
    }
