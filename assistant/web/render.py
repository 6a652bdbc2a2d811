"""Pages from Jinja2 templates (autoescaped), and errors answered as pages on the web app's
paths while the API keeps its JSON error shape."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from assistant.api.errors import request_id
from assistant.errors import CaseAssistError
from assistant.web.security import SignInRequired, csrf_token, remember_csrf, sign_in_url

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Paths that are the API's (JSON errors); every other path is a page or a static file.
API_PREFIXES = ("/v1/", "/health", "/openapi.json", "/docs", "/redoc", "/static/")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _clock(seconds: float | None) -> str:
    """12.3 -> '0:12'; 3725 -> '1:02:05'."""
    s = int(seconds or 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _day(value: date | datetime | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


try:
    #: Pages show UK time, as practitioners read a clock (GMT in winter, BST in summer); times
    #: are stored in UTC. Without the system's time zone data, UTC as stored.
    LOCAL: tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without tzdata
    LOCAL = UTC


def _when(value: datetime | None) -> str:
    if not value:
        return ""
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LOCAL)
    return moment.strftime("%-d %B %Y %H:%M ") + (moment.tzname() or "UTC")


env.filters.update(clock=_clock, day=_day, when=_when)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page, with the CSRF token its forms carry and the signed-in user's name."""
    values = {
        "request": request,
        "user_name": getattr(request.state, "web_user_name", None),
        "user_role": getattr(request.state, "web_user_role", None),
        "csrf_token": csrf_token(request),
        "request_id": request_id(request),
        **(context or {}),
    }
    response = HTMLResponse(env.get_template(template).render(values), status_code=status_code)
    remember_csrf(request, response)
    return response


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def install_error_pages(app: FastAPI) -> None:
    """Errors on page paths become pages; on API paths the API's handlers answer as before."""
    api_error = app.exception_handlers[CaseAssistError]
    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, CaseAssistError):
            return await _answer(api_error(request, exc))
        return error_page(request, exc.http_status, exc.message)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, StarletteHTTPException):
            return await _answer(api_http_error(request, exc))
        message = "Page not found" if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, message)

    async def on_sign_in_required(request: Request, exc: Exception) -> Response:
        target = exc.next_path if isinstance(exc, SignInRequired) else None
        return RedirectResponse(sign_in_url(target), status_code=303)

    app.add_exception_handler(CaseAssistError, on_domain_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(SignInRequired, on_sign_in_required)


async def _answer(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {
        403: "You cannot do that",
        404: "Page not found",
        429: "Too many attempts",
    }
    title = titles.get(status, "Sorry, there is a problem" if status < 500 else "Service error")
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "status": status},
        status_code=status,
    )
