"""Signing in and out, and setting a password from the one-time link ``caseassist users add``
prints (single sign-on's own routes are in ``sso``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from assistant.api.deps import SESSION_COOKIE, SessionDep, audit, session_user, sign_in_failed
from assistant.auth import (
    FailureThrottle,
    hash_password,
    hash_token,
    new_secret,
    password_problem,
    verify_password,
)
from assistant.storage import User, repo
from assistant.web.render import render
from assistant.web.routes import sso
from assistant.web.security import (
    CSRF_COOKIE,
    check_csrf,
    clear_cookie,
    cookie_secure,
    safe_next,
    set_cookie,
)

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    session: SessionDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
    done: str | None = None,
) -> Response:
    """``done``: 'password' (just set), 'signed-out' or 'signed-out-sso', for a banner."""
    if session_user(request, session) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    context: dict[str, object] = {"next": safe_next(next_path), "done": done}
    if done == "password" and (name := request.cookies.get(JUST_SET)):
        context["name"] = unquote(name)[:200]
    return sign_in_form(request, context)


def sign_in_form(
    request: Request, context: dict[str, object], *, status_code: int = 200
) -> Response:
    """The sign-in page: the council-account button when single sign-on is set up, the
    password form unless local passwords are off."""
    settings = request.app.state.settings
    flags = {"sso": sso.provider(request) is not None, "local_passwords": settings.local_passwords}
    return render(request, "sign_in.html", {**context, **flags}, status_code=status_code)


PASSWORDS_OFF = (
    "Signing in with a password is switched off on this service. Use your council account."
)


def passwords_off(request: Request) -> Response | None:
    """The refusal when local passwords are off (``local_passwords``), else None."""
    if request.app.state.settings.local_passwords:
        return None
    return render(
        request,
        "error.html",
        {"title": "You cannot do that", "message": PASSWORDS_OFF, "status": 403},
        status_code=403,
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: SessionDep,
    name: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Check the name and password; on success a new session (a fresh secret: nothing from
    before sign-in is reused). Failures count against the address and the name alike, and
    each is audited (address and reason only)."""
    check_csrf(request, csrf_token)
    if refused := passwords_off(request):
        return refused
    target = safe_next(next_path)
    context = {"next": target, "name": name}
    missing = [
        (field, words)
        for field, value, words in (
            ("name", name.strip(), "Enter your name."),
            ("password", password, "Enter your password."),
        )
        if not value
    ]
    if missing:  # nothing to check: no failed attempt to count against anyone
        return sign_in_form(request, {**context, "errors": missing}, status_code=400)
    throttle: FailureThrottle = request.app.state.sign_in_throttle
    client = request.client.host if request.client else "unknown"
    account = "name:" + name.strip().lower()
    wait = max(throttle.retry_after(client) or 0, throttle.retry_after(account) or 0)
    if wait:
        minutes = -(-wait // 60)
        return sign_in_form(
            request,
            {**context, "error": f"Too many failed attempts. Try again in {minutes} minutes."},
            status_code=429,
        )
    found = [u for u in repo.users_for_sign_in(session=session, name=name) if u.password_hash]
    user = matching_user(found, password)
    if user is None:
        throttle.record_failure(account)
        sign_in_failed(request, client, "bad_password", throttle=throttle)
        return sign_in_form(
            request,
            {**context, "error": "Enter a correct user name and password."},
            status_code=400,
        )
    secret = new_secret()
    repo.create_web_session(session=session, user_id=user.id, token_hash=hash_token(secret))
    audit(session, request, user, "auth.sign_in", "user", user.id, client=client)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, secret)
    clear_cookie(response, request, CSRF_COOKIE)
    return response


def matching_user(candidates: list[User], password: str) -> User | None:
    """The candidate whose password this is (names are not unique), checking at least one
    hash so an unknown name takes as long as a wrong password."""
    if not candidates:
        verify_password(None, password)
        return None
    return next((u for u in candidates if verify_password(u.password_hash, password)), None)


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, csrf_token: FormText = "") -> Response:
    user = session_user(request, session)
    response = RedirectResponse("/sign-in?done=signed-out", status_code=303)
    if user is None:  # already signed out (or timed out): nothing to protect
        clear_cookie(response, request, SESSION_COOKIE)
        return response
    check_csrf(request, csrf_token)
    repo.end_web_session(session=session, token_hash=hash_token(request.state.session_secret))
    audit(session, request, user, "auth.sign_out", "user", user.id)
    if sso.provider(request) is not None and user.oidc_subject is not None:
        # the page then offers to sign out at the provider too (``sso.provider_sign_out``)
        response = RedirectResponse("/sign-in?done=signed-out-sso", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


EXPIRED = (
    "This link has expired or has already been used. Ask your administrator for a new one "
    "(caseassist users password-link)."
)


@router.get("/set-password")
def set_password_page(request: Request, session: SessionDep, token: str = "") -> Response:
    if refused := passwords_off(request):
        return refused
    user = repo.user_for_password_link(session=session, token_hash=hash_token(token))
    if user is None:
        return render(request, "link_expired.html", {"message": EXPIRED}, status_code=404)
    return render(request, "set_password.html", {"token": token, "name": user.name})


@router.post("/set-password")
def set_password(
    request: Request,
    session: SessionDep,
    token: FormText = "",
    password: FormText = "",
    confirm: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_csrf(request, csrf_token)
    if refused := passwords_off(request):
        return refused
    user = repo.user_for_password_link(session=session, token_hash=hash_token(token))
    if user is None:
        return render(request, "link_expired.html", {"message": EXPIRED}, status_code=404)
    problem = password_problem(password, confirm)
    if problem:
        return render(
            request,
            "set_password.html",
            {"token": token, "name": user.name, "error": problem},
            status_code=400,
        )
    repo.set_password(
        session=session, token_hash=hash_token(token), password_hash=hash_password(password)
    )
    audit(session, request, user, "user.password_set", "user", user.id)
    response = RedirectResponse("/sign-in?done=password", status_code=303)
    # the name they sign in with, filled in on the next page (a staff name, this browser only,
    # for a few minutes; never in the address, where history and logs would keep it)
    response.set_cookie(
        JUST_SET, quote(user.name), max_age=600, path="/sign-in", httponly=True, samesite="strict",
        secure=cookie_secure(request),
    )  # fmt: skip
    return response


JUST_SET = "caseassist_name"
"""Cookie: the name of the user who just set their password, for the sign-in form."""
