"""Server-sent events fed by a gRPC server stream (backtest progress, notifications).

The stream is opened and its first message read *before* the HTTP response starts, so
a refused or unknown id answers with a plain 404/403 instead of a 200 stream carrying an
error. Afterwards each message becomes one event; a failure mid-stream becomes one
``error`` event (same body as an error response) and ends the stream; the deadline
passing ends it quietly (the browser reconnects after ``retry``). When the client goes
away the gRPC call is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse

from gateway.config import GatewaySettings
from gateway.errors import ErrorBody, ErrorDetail, describe_rpc_error
from gateway.request_ids import current_request_id

Render = Callable[[Any], ServerSentEvent | None]

# How the OpenAPI document describes an event stream.
EVENT_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A text/event-stream of events (see each route's description).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def event(name: str, payload: Any, event_id: str | None = None) -> ServerSentEvent:
    """One SSE event whose data is ``payload`` as JSON."""
    return ServerSentEvent(data=json.dumps(payload, default=str), event=name, id=event_id)


async def open_stream(call: grpc.aio.UnaryStreamCall) -> Any:
    """The first message of ``call``; raises its RpcError (mapped to an HTTP error)."""
    try:
        return await call.read()
    except BaseException:
        call.cancel()
        raise


def event_stream_response(
    call: grpc.aio.UnaryStreamCall, first: Any, render: Render, settings: GatewaySettings
) -> EventSourceResponse:
    """An SSE response relaying ``call`` from its already-read ``first`` message."""
    return EventSourceResponse(
        _relay(call, first, render, settings.sse_retry_milliseconds),
        ping=settings.sse_ping_seconds,
    )


async def _relay(
    call: grpc.aio.UnaryStreamCall, first: Any, render: Render, retry_ms: int
) -> AsyncIterator[ServerSentEvent]:
    # The first frame tells the browser how long to wait before reconnecting.
    yield ServerSentEvent(comment="stream open", retry=retry_ms)
    try:
        message = first
        while message is not grpc.aio.EOF:
            rendered = render(message)
            if rendered is not None:
                yield rendered
            message = await call.read()
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            mapping, text, field, reason = describe_rpc_error(error)
            body = ErrorBody(
                error=ErrorDetail(
                    code=mapping.code,
                    message=text,
                    field=field,
                    reason=reason,
                    request_id=current_request_id(),
                )
            )
            yield event("error", body.model_dump())
    finally:
        call.cancel()
