"""Server interceptors: who is calling, what went wrong, and one log line per call.

Every RPC handler is wrapped so that, in the handler's own task:
- the bearer token is verified and the caller stored in a ContextVar (health checks and
  reflection are public);
- a ``DomainError`` becomes its status code with ``error-reason``/``error-field``
  trailers; a lost database becomes UNAVAILABLE; anything else is logged with its stack
  and reaches the caller as a bare INTERNAL with no detail;
- one structured log line records method, code, duration and caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import grpc

from servicekit import auth
from servicekit.errors import DomainError, Unauthenticated, Unavailable

log = logging.getLogger("servicekit.rpc")

PUBLIC_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

# Errors that mean "the database is not there right now", not "the code is wrong".
_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,
    TimeoutError,
)


class VerifiedTokenCache:
    """Remembers recently verified tokens until they expire: a hot caller pays once."""

    def __init__(self, verifier: auth.TokenVerifier, max_entries: int = 10_000):
        self._verifier = verifier
        self._entries: OrderedDict[str, tuple[auth.Caller, float]] = OrderedDict()
        self._max_entries = max_entries

    def verify(self, token: str) -> auth.Caller:
        now = time.monotonic()
        entry = self._entries.get(token)
        if entry is not None and entry[1] > now:
            return entry[0]
        caller = self._verifier.verify(token)
        # Re-verify at least once a minute so an expiring token is refused in time.
        self._entries[token] = (caller, now + 60.0)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return caller


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Authentication, error mapping and access logging for every handler."""

    def __init__(self, verifier: auth.TokenVerifier):
        self._tokens = VerifiedTokenCache(verifier)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        public = method.startswith(PUBLIC_METHOD_PREFIXES)
        if handler.unary_unary:
            return handler._replace(
                unary_unary=self._wrap_unary(handler.unary_unary, method, public)
            )
        if handler.unary_stream:
            return handler._replace(
                unary_stream=self._wrap_stream(handler.unary_stream, method, public)
            )
        if handler.stream_unary:
            return handler._replace(
                stream_unary=self._wrap_unary(handler.stream_unary, method, public)
            )
        return handler._replace(
            stream_stream=self._wrap_stream(handler.stream_stream, method, public)
        )

    def _authenticate(self, context: grpc.aio.ServicerContext, public: bool):
        if public:
            return auth.set_current_caller(None)
        token = auth.bearer_token(context.invocation_metadata())
        return auth.set_current_caller(self._tokens.verify(token))

    @contextlib.asynccontextmanager
    async def _served(
        self, context: grpc.aio.ServicerContext, method: str, public: bool
    ) -> AsyncIterator[None]:
        """One call's scope: caller set, errors mapped to a status, one log line."""
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        caller_token = None
        try:
            caller_token = self._authenticate(context, public)
            yield
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except (asyncio.CancelledError, GeneratorExit):
            # The caller went away or its deadline passed: nothing to answer.
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as error:
            status = _status_for(error, method)
            code = status.code if status else grpc.StatusCode.INTERNAL
            await _abort(context, status)
        finally:
            _log_call(method, code, started)
            if caller_token is not None:
                auth.reset_current_caller(caller_token)

    def _wrap_unary(self, behavior, method: str, public: bool):
        async def wrapper(request, context: grpc.aio.ServicerContext):
            async with self._served(context, method, public):
                return await behavior(request, context)

        return wrapper

    def _wrap_stream(self, behavior, method: str, public: bool):
        async def wrapper(request, context: grpc.aio.ServicerContext):
            async with self._served(context, method, public):
                async for response in behavior(request, context):
                    yield response

        return wrapper


def _status_for(error: BaseException, method: str) -> DomainError | None:
    """The status ``error`` stands for; None for a bug (answered as a bare INTERNAL)."""
    if isinstance(error, DomainError):
        if isinstance(error, Unauthenticated):
            log.info("refused unauthenticated call to %s: %s", method, error.message)
        return error
    if isinstance(error, _UNAVAILABLE_ERRORS):
        log.warning("dependency unavailable in %s: %s", method, error)
        return Unavailable("a dependency is unavailable; retry later")
    log.error("unexpected error in %s", method, exc_info=error)
    return None


async def _abort(context: grpc.aio.ServicerContext, status: DomainError | None) -> None:
    if status is None:
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    else:
        await context.abort(
            status.code, status.message, trailing_metadata=status.trailing_metadata()
        )


def _log_call(method: str, code: grpc.StatusCode, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    caller = auth._current_caller.get()
    log.info(
        "rpc",
        extra={
            "rpc_method": method,
            "rpc_code": code.name,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "caller_role": caller.role if caller else None,
            "user_id": str(caller.user_id) if caller and caller.user_id else None,
        },
    )
