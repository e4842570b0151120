"""Authentication at the gateway: 401 for a missing, malformed, expired or foreign token."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from servicekit.auth import mint_token
from tests.testkit.services import TEST_JWT_SECRET, service_token, user_token

PROTECTED = "/v1/notifications/unread-count"


def _error(response) -> dict:
    return response.json()["error"]


async def test_request_when_no_token_is_401_with_bearer_challenge(anonymous):
    response = await anonymous.get(PROTECTED)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _error(response)["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer  x y", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "token"],
)
async def test_request_when_token_is_malformed_is_401(anonymous, authorization):
    response = await anonymous.get(PROTECTED, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert _error(response)["message"] in {"invalid token", "missing bearer token"}


async def test_request_when_token_expired_is_401_saying_so(anonymous, new_user):
    user = await new_user()
    expired = user_token(user.id, ttl_seconds=-60)
    response = await anonymous.get(PROTECTED, headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert _error(response)["message"] == "token has expired"


async def test_request_when_token_signed_with_another_secret_is_401(anonymous, new_user):
    user = await new_user()
    forged = mint_token("another-secret-that-is-long-enough-0123456789", str(user.id))
    response = await anonymous.get(PROTECTED, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_request_when_token_has_no_expiry_is_401(anonymous, new_user):
    user = await new_user()
    claims = {"sub": str(user.id), "role": "authenticated", "aud": "authenticated"}
    token = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    response = await anonymous.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_request_when_token_is_a_service_token_is_401(anonymous):
    response = await anonymous.get(
        PROTECTED, headers={"Authorization": f"Bearer {service_token()}"}
    )
    assert response.status_code == 401
    assert _error(response)["message"] == "a user access token is required"


async def test_request_when_token_valid_reaches_the_service(new_user):
    user = await new_user()
    response = await user.client.get(PROTECTED)
    assert response.status_code == 200
    assert response.json() == {"unread_count": 0}


async def test_healthz_when_anonymous_is_200(anonymous):
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_every_service_and_the_database_answer_is_200(anonymous, stack):
    # Readiness is polled, as a probe does: on a loaded machine one check may miss its
    # 2 s deadline; what matters is that everything reports ready, not at which poll.
    for _ in range(10):
        response = await anonymous.get("/readyz")
        if response.status_code == 200:
            break
        await asyncio.sleep(1.0)
    body = response.json()
    assert body["checks"] == {
        "risk": "serving",
        "backtest": "serving",
        "notification": "serving",
        "executor": "serving",
        "database": "serving",
    }, f"missing services: {stack.missing}"
    assert response.status_code == 200
    assert body["status"] == "ready"
