"""The FastAPI application: middleware, error handlers, routers, lifecycle of the channels."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from gateway.config import GatewaySettings
from gateway.errors import UnexpectedErrorMiddleware, install_error_handlers
from gateway.rate_limit import AnonymousRateLimitMiddleware, TokenBucketLimiter
from gateway.request_ids import HEADER as REQUEST_ID_HEADER
from gateway.request_ids import RequestIdMiddleware
from gateway.routers import backtests, health, marketplace, notifications, profile, risk, strategies
from gateway.upstreams import Upstreams
from servicekit.auth import TokenVerifier, VerifiedTokenCache
from servicekit.heap import startup_heap_frozen
from servicekit.telemetry import configure_tracing

API_DESCRIPTION = """\
The trading platform for browsers: strategies, backtests, risk, notifications and the
community marketplace. Every route under /v1 needs a Supabase access token
(`Authorization: Bearer <jwt>`). Errors have one shape:
`{"error": {"code", "message", "field", "reason", "request_id"}}`.
Money, prices and quantities are decimal strings.
"""


def create_app(
    settings: GatewaySettings, channels: dict[str, grpc.aio.Channel] | None = None
) -> FastAPI:
    """The gateway app. ``channels`` (name -> channel) lends existing channels to the
    services; without them the app connects to the addresses in ``settings`` on start-up."""
    configure_tracing("gateway", settings.otel_exporter_otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = Upstreams(channels, owned=False) if channels else Upstreams.connect(settings)
        app.state.upstreams = upstreams
        try:
            with startup_heap_frozen():
                yield
        finally:
            await upstreams.close()

    app = FastAPI(
        title="Trading platform API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token_cache = VerifiedTokenCache(
        TokenVerifier(settings.jwt_secret, settings.jwt_audience, settings.jwt_jwks_url)
    )
    app.state.anonymous_limiter = TokenBucketLimiter(
        settings.anonymous_rate_per_minute,
        settings.anonymous_burst,
        max_keys=settings.rate_limit_max_keys,
    )
    app.state.user_limiters = {
        "backtests": TokenBucketLimiter(
            settings.backtest_rate_per_minute,
            settings.backtest_burst,
            max_keys=settings.rate_limit_max_keys,
        ),
        "publishes": TokenBucketLimiter(
            settings.publish_rate_per_minute,
            settings.publish_burst,
            max_keys=settings.rate_limit_max_keys,
        ),
    }

    install_error_handlers(app)
    for module in (health, profile, strategies, risk, backtests, notifications, marketplace):
        app.include_router(module.router)

    # Added innermost first: a request meets the request id, then CORS, then the limiter.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(AnonymousRateLimitMiddleware, limiter=app.state.anonymous_limiter)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        max_age=600,
    )
    app.add_middleware(RequestIdMiddleware)
    # Server spans whose context the gRPC client interceptor carries into the services.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    app.openapi = _openapi_without_422(app)  # type: ignore[method-assign]
    return app


def _openapi_without_422(app: FastAPI):
    """Invalid input is a 400 with the error body here, never FastAPI's default 422."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = original()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
