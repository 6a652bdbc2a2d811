"""Every error leaves the API in one shape: ``{"error": {"code", "message", "request_id"}}``.

Unexpected exceptions are answered 500 ``internal_error`` with the request id, and logged as
their type, the request id and where they were raised: never their message, which can quote
the request (SQLAlchemy's message carries the statement's parameters: a note's text). The
guard below catches them before Starlette's outermost middleware, which would re-raise them to
uvicorn to print in full ("Exception in ASGI application").

Every answer also carries the security headers (``SECURITY_HEADERS``, and a content policy:
none at all for the API, Swagger UI's and ReDoc's CDN assets for their pages, the service's own
scripts, styles and media for the web app's pages).
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import CaseAssistError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: The API answers JSON and files: a page may load nothing, be framed by nothing.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: /docs and /redoc are FastAPI's pages: an inline script, and Swagger UI / ReDoc from the
#: jsDelivr CDN (no package ships them locally here). On an offline machine they do not load;
#: the OpenAPI document itself is at /openapi.json.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
#: The web app's pages: their own scripts, styles and media only; forms post back here.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; media-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
API_PREFIXES = ("/v1/", "/health", "/openapi.json")


def content_policy(path: str) -> str:
    if path in DOCS_PATHS:
        return DOCS_CSP
    return API_CSP if path.startswith(API_PREFIXES) else PAGE_CSP


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = uuid.uuid4().hex[:16]
    return rid


def error_body(code: str, message: str, rid: str) -> dict:
    return {"error": {"code": code, "message": message, "request_id": rid}}


def install(app: FastAPI) -> None:
    app.add_middleware(Guard)

    @app.exception_handler(CaseAssistError)
    async def on_domain_error(request: Request, exc: CaseAssistError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        return JSONResponse(
            error_body(exc.code, exc.message, request_id(request)),
            status_code=exc.http_status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        # Field locations and error types only: never echo the submitted values.
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(
            error_body("validation_error", "; ".join(parts)[:500], request_id(request)),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail), request_id(request)), status_code=exc.status_code
        )


def log_unexpected(exc: BaseException, rid: str) -> None:
    """The exception's type, the request id and the last of our frames it passed; no message
    (nor its cause's, nor the frames' variables)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/assistant/" in f.filename] or frames
    where = f" at {ours[-1].filename}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    log.error("unhandled %s request_id=%s%s", type(exc).__name__, rid, where)


class Guard:
    """Pure ASGI middleware: a request id and the security headers on every answer, and the
    last catch for unexpected exceptions (answered 500, logged by ``log_unexpected``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        rid = state.get("request_id") or uuid.uuid4().hex[:16]
        state["request_id"] = rid
        csp = content_policy(scope.get("path", ""))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers["Content-Security-Policy"] = csp
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # noqa: BLE001 - the last catch, by design
            log_unexpected(exc, rid)
            if started:  # the answer is on its way: nothing more can be said
                return
            body = json.dumps(
                error_body("internal_error", f"Unexpected error; quote request id {rid}.", rid)
            ).encode()
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
