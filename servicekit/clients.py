"""Outgoing calls: channels with tracing and round-robin, deadlines, service identity."""

from __future__ import annotations

import json
import time

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from servicekit.auth import SERVICE_ROLE, mint_token
from servicekit.settings import ServiceSettings
from servicekit.telemetry import tracing_active

# Every call carries a deadline; this is the default for calls between services.
DEFAULT_DEADLINE = 2.0

# Round-robin over every address a name resolves to (headless Services in Kubernetes),
# and transparent retries of calls that never reached a server.
_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


def connect(address: str) -> grpc.aio.Channel:
    """An insecure channel to ``address``; with tracing on, it propagates W3C traceparent."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=aio_client_interceptors() if tracing_active() else None,
        options=[("grpc.service_config", _SERVICE_CONFIG), ("grpc.enable_retries", 1)],
    )


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying ``token`` (e.g. the user's, forwarded by the gateway)."""
    return (("authorization", f"Bearer {token}"),)


class ServiceIdentity:
    """Mints and renews the short-lived service_role token a service calls others with."""

    TTL_SECONDS = 300

    def __init__(self, settings: ServiceSettings, subject: str):
        self._secret = settings.jwt_secret
        self._audience = settings.jwt_audience
        self._subject = subject
        self._token = ""
        self._renew_at = 0.0

    def metadata(self) -> tuple[tuple[str, str], ...]:
        now = time.monotonic()
        if now >= self._renew_at:
            self._token = mint_token(
                self._secret,
                self._subject,
                role=SERVICE_ROLE,
                ttl_seconds=self.TTL_SECONDS,
                audience=self._audience,
            )
            self._renew_at = now + self.TTL_SECONDS / 2
        return bearer_metadata(self._token)


_identities: dict[tuple[str, str], ServiceIdentity] = {}


def service_metadata(settings: ServiceSettings, subject: str = "service") -> tuple:
    """Metadata for a call a service makes on its own behalf (bots, workers)."""
    key = (settings.jwt_secret, subject)
    identity = _identities.get(key)
    if identity is None:
        identity = _identities[key] = ServiceIdentity(settings, subject)
    return identity.metadata()
