"""The gateway's routes as its OpenAPI document lists them (no server needed)."""

from __future__ import annotations

import re
from functools import cache

from gateway.app import create_app
from gateway.config import GatewaySettings
from tests.testkit.services import TEST_JWT_SECRET

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@cache
def openapi_document() -> dict:
    return create_app(GatewaySettings(jwt_secret=TEST_JWT_SECRET)).openapi()


def routes_with_path_parameters() -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation whose path takes a parameter."""
    found = []
    for path, operations in openapi_document()["paths"].items():
        if not re.search(r"\{[^}]+\}", path):
            continue
        for method in HTTP_METHODS:
            if method in operations:
                found.append((method.upper(), path))
    return found


def event_stream_routes() -> set[tuple[str, str]]:
    """Operations answering text/event-stream (endless: not for generated requests)."""
    found = set()
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if "text/event-stream" in content:
                found.add((method.upper(), path))
    return found
