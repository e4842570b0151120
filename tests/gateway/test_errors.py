"""The one table from gRPC status to HTTP, and the error body every failure has."""

from __future__ import annotations

import grpc
import pytest
from fastapi import FastAPI

from gateway.errors import STATUS_TABLE, UPSTREAM_FAILURE, install_error_handlers
from gateway.request_ids import RequestIdMiddleware
from tests.gateway.asgi_app import asgi_client

SECRET_DETAIL = "Traceback (most recent call last): asyncpg.exceptions password=hunter2"


def _rpc_error(code, details="the service's words", trailers=()) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers), details=details
    )


def _app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom():
        raise error

    app.add_middleware(RequestIdMiddleware)
    return app


async def _get(error: Exception):
    async with asgi_client(_app_raising(error)) as client:
        return await client.get("/boom", headers={"X-Request-ID": "req-123"})


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 503),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
        (grpc.StatusCode.DATA_LOSS, 502),
    ],
)
async def test_rpc_error_when_mapped_has_its_http_status_and_the_error_body(code, status):
    response = await _get(_rpc_error(code))
    assert response.status_code == status
    body = response.json()["error"]
    assert set(body) == {"code", "message", "field", "reason", "request_id"}
    assert body["request_id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"


async def test_invalid_argument_when_service_names_a_field_is_400_with_that_field():
    error = _rpc_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        "config.grid.upper_price: must be above lower_price",
        [("error-field", "config.grid.upper_price"), ("error-reason", "INVALID_ARGUMENT")],
    )
    body = (await _get(error)).json()["error"]
    assert body["field"] == "config.grid.upper_price"
    assert body["message"] == "config.grid.upper_price: must be above lower_price"
    assert body["reason"] == "INVALID_ARGUMENT"


async def test_resource_exhausted_when_service_says_retry_after_is_429_with_that_header():
    error = _rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota", [("retry-after", "42")])
    response = await _get(error)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"


async def test_resource_exhausted_when_no_retry_after_trailer_still_sends_the_header():
    response = await _get(_rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED))
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
    ],
)
async def test_error_when_details_are_internal_never_reach_the_client(code):
    response = await _get(_rpc_error(code, SECRET_DETAIL))
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["error"]["message"] == STATUS_TABLE.get(code, UPSTREAM_FAILURE).message


async def test_unexpected_exception_when_a_route_has_a_bug_is_500_without_detail():
    from gateway.app import create_app
    from tests.gateway.asgi_app import gateway_settings

    app = create_app(gateway_settings())

    @app.get("/bug")
    async def bug():
        raise RuntimeError(SECRET_DETAIL)

    async with asgi_client(app) as client:
        response = await client.get("/bug", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert response.json()["error"] == {
        "code": "internal",
        "message": "internal error; it was logged",
        "field": None,
        "reason": None,
        "request_id": "bug-1",
    }


async def test_request_body_when_invalid_is_400_naming_the_field_not_422(token_for_nobody):
    async with asgi_client() as client:
        response = await client.put(
            "/v1/marketplace/strategies/00000000-0000-0000-0000-000000000001/rating",
            json={"rating": 9},
            headers={"Authorization": f"Bearer {token_for_nobody}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "rating"
    assert response.json()["error"]["code"] == "invalid_argument"


async def test_service_down_when_route_called_is_503(token_for_nobody):
    async with asgi_client() as client:
        response = await client.get(
            "/v1/notifications/unread-count",
            headers={"Authorization": f"Bearer {token_for_nobody}"},
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


async def test_readyz_when_services_are_down_is_503_naming_them():
    async with asgi_client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {
            "risk": "unreachable",
            "backtest": "unreachable",
            "notification": "unreachable",
            "executor": "unreachable",
        },
    }
