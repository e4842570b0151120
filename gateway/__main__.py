"""``python -m gateway``: serve the HTTP API on GATEWAY_HOST:GATEWAY_PORT (127.0.0.1:8080)."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.config import GatewaySettings
from servicekit.logs import configure_logging
from servicekit.settings import load_settings
from servicekit.telemetry import shutdown_tracing


def main() -> None:
    settings = load_settings(GatewaySettings)
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
