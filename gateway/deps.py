"""Dependencies of the routes, as ``Annotated`` types: settings, the caller, the services.

Every dependency is ``async def``: FastAPI runs a plain ``def`` one in a worker thread,
a thread hop per dependency per request for what is a dictionary lookup.

``Session`` is what a route talks to the services through: the caller's own bearer
token and the request id go in every call's metadata, and every call has a deadline
(unary calls ``call_deadline_seconds``, streams ``stream_deadline_seconds``), so a
route cannot forget either.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import grpc
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.config import GatewaySettings
from gateway.errors import ApiError
from gateway.rate_limit import TokenBucketLimiter, client_address, retry_after_header
from gateway.request_ids import current_request_id
from gateway.upstreams import Upstreams
from servicekit.auth import USER_ROLE, VerifiedTokenCache
from servicekit.clients import bearer_metadata
from servicekit.errors import Unauthenticated

# The `reason` of the gateway's own 429s (a service's quota answers with its own reason).
RATE_LIMIT_REASON = "GATEWAY_RATE_LIMIT"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="SupabaseAccessToken",
    description="A Supabase access token (JWT) of the signed-in user.",
)


async def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


async def get_upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


Settings = Annotated[GatewaySettings, Depends(get_settings)]


@dataclass(frozen=True)
class User:
    """The verified user behind a request."""

    id: uuid.UUID
    token: str

    @property
    def id_str(self) -> str:
        return str(self.id)


def _unauthenticated(request: Request, message: str) -> ApiError:
    # A failed sign-in counts against the client address, like any anonymous request.
    limiter: TokenBucketLimiter = request.app.state.anonymous_limiter
    wait = limiter.acquire(("ip", client_address(request.scope)))
    if wait:
        return ApiError(429, headers=retry_after_header(wait))
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="trading"'})


async def current_user(
    request: Request,
    settings: Settings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of a valid access token; 401 for a missing, malformed or expired one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated(request, "missing bearer token")
    tokens: VerifiedTokenCache = request.app.state.token_cache
    try:
        if settings.jwt_jwks_url:
            # Fetching the key set is blocking network I/O: keep it off the event loop.
            caller = await run_in_threadpool(tokens.verify, credentials.credentials)
        else:
            caller = tokens.verify(credentials.credentials)
    except Unauthenticated as error:
        message = "token has expired" if "expired" in error.message else "invalid token"
        raise _unauthenticated(request, message) from None
    except Exception:
        # A JWKS endpoint that cannot be reached: the token cannot be checked now.
        raise ApiError(503, "cannot verify tokens right now") from None
    if caller.role != USER_ROLE or caller.user_id is None:
        raise _unauthenticated(request, "a user access token is required")
    return User(id=caller.user_id, token=credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


class _BoundStub:
    """A stub whose calls carry fixed metadata and a deadline."""

    def __init__(self, stub: Any, metadata: tuple, deadline: float, stream_deadline: float):
        self._stub = stub
        self._metadata = metadata
        self._deadline = deadline
        self._stream_deadline = stream_deadline

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)
        streaming = isinstance(method, grpc.aio.UnaryStreamMultiCallable)
        timeout = self._stream_deadline if streaming else self._deadline

        def call(request: Any) -> Any:
            return method(request, metadata=self._metadata, timeout=timeout)

        return call


class Session:
    """The services, called as the signed-in user (their own token, never service_role)."""

    def __init__(self, user: User, upstreams: Upstreams, settings: GatewaySettings):
        self.user = user
        metadata = (*bearer_metadata(user.token), ("x-request-id", current_request_id() or ""))
        deadlines = (settings.call_deadline_seconds, settings.stream_deadline_seconds)
        self.risk: Any = _BoundStub(upstreams.risk, metadata, *deadlines)
        self.backtest: Any = _BoundStub(upstreams.backtest, metadata, *deadlines)
        self.notification: Any = _BoundStub(upstreams.notification, metadata, *deadlines)
        self.executor: Any = _BoundStub(upstreams.executor, metadata, *deadlines)

    @property
    def user_id(self) -> str:
        return self.user.id_str


async def user_session(
    user: CurrentUser,
    settings: Settings,
    upstreams: Annotated[Upstreams, Depends(get_upstreams)],
) -> Session:
    return Session(user, upstreams, settings)


UserSession = Annotated[Session, Depends(user_session)]


def rate_limited(bucket: str):
    """A dependency taking one token of the user's ``bucket`` (429 with Retry-After)."""

    async def take_token(request: Request, user: CurrentUser) -> None:
        limiter: TokenBucketLimiter = request.app.state.user_limiters[bucket]
        wait = limiter.acquire((bucket, user.id))
        if wait:
            raise ApiError(
                429,
                f"too many {bucket} requests",
                reason=RATE_LIMIT_REASON,
                headers=retry_after_header(wait),
            )

    return Depends(take_token)
