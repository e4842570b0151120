"""Errors as the HTTP API reports them: one table from gRPC status to HTTP, one body shape.

Every error body is ``{"error": {"code", "message", "field", "reason", "request_id"}}``.
A service's message is shown only for the codes whose messages are written for the
caller (bad input, refused, conflict, quota); everything else gets a fixed message, so
no internal detail or stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.request_ids import current_request_id
from servicekit.errors import field_of, reason_of

log = logging.getLogger("gateway.errors")

_MAX_MESSAGE = 300


@dataclass(frozen=True)
class HttpError:
    """How one gRPC status reaches an HTTP client."""

    status: int
    code: str
    message: str  # the fixed message, used unless the service's own may be shown
    show_service_message: bool = False


STATUS_TABLE: dict[grpc.StatusCode, HttpError] = {
    grpc.StatusCode.INVALID_ARGUMENT: HttpError(400, "invalid_argument", "invalid request", True),
    grpc.StatusCode.OUT_OF_RANGE: HttpError(400, "invalid_argument", "value out of range", True),
    grpc.StatusCode.UNAUTHENTICATED: HttpError(401, "unauthenticated", "authentication required"),
    grpc.StatusCode.PERMISSION_DENIED: HttpError(403, "permission_denied", "not allowed", True),
    grpc.StatusCode.NOT_FOUND: HttpError(404, "not_found", "not found"),
    grpc.StatusCode.ALREADY_EXISTS: HttpError(409, "conflict", "already exists", True),
    grpc.StatusCode.ABORTED: HttpError(409, "conflict", "changed concurrently; retry", True),
    grpc.StatusCode.FAILED_PRECONDITION: HttpError(
        409, "failed_precondition", "not possible in the current state", True
    ),
    grpc.StatusCode.RESOURCE_EXHAUSTED: HttpError(429, "rate_limited", "too many requests", True),
    grpc.StatusCode.UNAVAILABLE: HttpError(503, "unavailable", "service unavailable; retry"),
    grpc.StatusCode.DEADLINE_EXCEEDED: HttpError(503, "unavailable", "service did not answer"),
    grpc.StatusCode.CANCELLED: HttpError(503, "unavailable", "request cancelled"),
    grpc.StatusCode.UNIMPLEMENTED: HttpError(501, "not_implemented", "not implemented yet"),
}
# INTERNAL, UNKNOWN, DATA_LOSS and anything unexpected: the service failed.
UPSTREAM_FAILURE = HttpError(502, "upstream_error", "a service failed; the error was logged")

# Fixed messages of errors the gateway raises itself, by HTTP status.
_OWN_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_argument", "invalid request"),
    401: ("unauthenticated", "authentication required"),
    403: ("permission_denied", "not allowed"),
    404: ("not_found", "not found"),
    405: ("method_not_allowed", "method not allowed"),
    409: ("conflict", "conflict"),
    429: ("rate_limited", "too many requests"),
    503: ("unavailable", "service unavailable; retry"),
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    reason: str | None = None
    request_id: str | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error the gateway itself answers with (auth, rate limit, a check of its own)."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        field: str | None = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        code, fixed = _OWN_ERRORS.get(status, ("error", "error"))
        super().__init__(message or fixed)
        self.status = status
        self.code = code
        self.message = message or fixed
        self.field = field
        self.reason = reason
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(
            code=code,
            message=message,
            field=field,
            reason=reason,
            request_id=current_request_id(),
        )
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_MAX_MESSAGE]


def describe_rpc_error(error: grpc.RpcError) -> tuple[HttpError, str, str | None, str | None]:
    """The HTTP error of a failed call: its mapping, message, field and reason."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    mapping = STATUS_TABLE.get(code, UPSTREAM_FAILURE)
    details = error.details() if hasattr(error, "details") else None
    message = _one_line(details) if mapping.show_service_message and details else mapping.message
    field = field_of(error) if mapping.status == 400 else None
    reason = reason_of(error) if mapping is not UPSTREAM_FAILURE else None
    return mapping, message, field, reason


def rpc_error_response(error: grpc.RpcError) -> JSONResponse:
    """The response for a failed gRPC call (the one table above)."""
    mapping, message, field, reason = describe_rpc_error(error)
    if mapping is UPSTREAM_FAILURE or mapping.status == 501:
        log.error("upstream call failed: %s %s", error.code(), _one_line(error.details() or ""))
    headers = {}
    if mapping.status == 429:
        headers["Retry-After"] = _retry_after(error)
    return error_response(
        mapping.status, mapping.code, message, field=field, reason=reason, headers=headers
    )


def renamed_field(error: grpc.RpcError, prefix: str, replacement: str = "") -> Exception:
    """``error`` with its field's ``prefix`` replaced, where the HTTP body is shaped
    differently from the request message (e.g. ``spec.start_time`` -> ``start_time``)."""
    mapping, message, field, reason = describe_rpc_error(error)
    if field is None or not field.startswith(prefix):
        return error
    renamed = replacement + field.removeprefix(prefix)
    if message.startswith(field):
        message = renamed + message.removeprefix(field)
    return ApiError(mapping.status, message, field=renamed, reason=reason)


def _retry_after(error: grpc.RpcError) -> str:
    for key, value in error.trailing_metadata() or ():
        if key == "retry-after" and str(value).isdigit():
            return str(value)
    return "1"


def _validation_field(location: tuple) -> str:
    # ("body", "config", "grid", "upper_price") -> "config.grid.upper_price"
    parts = [str(part) for part in location if part not in ("body",)]
    return ".".join(parts)


class UnexpectedErrorMiddleware:
    """A bug becomes a logged 500 with the error body (and the request id), no detail.

    Starlette's own catch-all runs outside every middleware, after the request id is
    gone; this one sits inside them.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # too late for a response of our own; the server closes the connection
            response = error_response(500, "internal", "internal error; it was logged")
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through the shapes above."""

    @app.exception_handler(grpc.RpcError)
    async def _rpc(request: Request, error: grpc.RpcError) -> JSONResponse:
        return rpc_error_response(error)

    @app.exception_handler(ApiError)
    async def _api(request: Request, error: ApiError) -> JSONResponse:
        return error_response(
            error.status,
            error.code,
            error.message,
            field=error.field,
            reason=error.reason,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        field = _validation_field(tuple(first.get("loc", ())))
        message = _one_line(f"{field}: {first.get('msg', 'invalid')}")
        return error_response(400, "invalid_argument", message, field=field or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code, fixed = _OWN_ERRORS.get(error.status_code, ("error", "error"))
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, code, fixed, headers=headers)
