"""``python -m gateway``: serve the HTTP API on GATEWAY_HOST:GATEWAY_PORT (127.0.0.1:8080)."""

from __future__ import annotations

import socket
import sys

import uvicorn

from gateway.app import create_app
from gateway.config import GatewaySettings
from servicekit.compiled import exit_if_stale
from servicekit.logs import configure_logging
from servicekit.settings import load_settings
from servicekit.telemetry import shutdown_tracing


def _check_address_free(host: str, port: int) -> None:
    """Stop with one clear line when the address is taken (before any start-up noise)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            print(f"gateway: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
            sys.exit(1)


def main() -> None:
    exit_if_stale("gateway")
    settings = load_settings(GatewaySettings)
    _check_address_free(settings.host, settings.port)
    configure_logging("gateway", settings.log_level)
    app = create_app(settings)
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
            log_config=None,  # keep the JSON logging configured above
            access_log=False,
        )
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
