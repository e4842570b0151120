"""Request ids: taken from ``X-Request-ID`` when it is sane, made up otherwise, echoed back.

The id is kept in a ContextVar for the request's task, so error bodies, log lines and the
metadata of every call to a service (``x-request-id``) carry it.
"""

from __future__ import annotations

import contextvars
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
# A client's id is reused only if it cannot smuggle anything into logs or headers.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return _request_id.get()


def _incoming_id(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == _HEADER_KEY:
            text = value.decode("latin-1")
            if _ACCEPTABLE.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI middleware (safe with streaming responses) setting and echoing the id."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        token = _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _HEADER_KEY]
                headers.append((_HEADER_KEY, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
