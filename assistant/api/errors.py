"""Every error leaves the API in one shape: ``{"error": {"code", "message", "request_id"}}``.

Unexpected exceptions are logged with their traceback (type and frames, not the message, which
could quote data) and answered with the request id only.
"""

from __future__ import annotations

import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = uuid.uuid4().hex[:16]
    return rid


def error_body(code: str, message: str, rid: str) -> dict:
    return {"error": {"code": code, "message": message, "request_id": rid}}


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def add_request_id(request: Request, call_next):
        rid = request_id(request)
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        return response

    @app.exception_handler(CaseAssistError)
    async def on_domain_error(request: Request, exc: CaseAssistError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
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

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        rid = request_id(request)
        log.error(
            "unhandled %s request_id=%s\n%s",
            type(exc).__name__,
            rid,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return JSONResponse(
            error_body("internal_error", f"Unexpected error; quote request id {rid}.", rid),
            status_code=500,
        )
