import time
import uuid

import jwt
import pytest

from servicekit import auth
from servicekit.errors import InvalidArgument, PermissionDenied, Unauthenticated

SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"


def verifier() -> auth.TokenVerifier:
    return auth.TokenVerifier(SECRET, "authenticated")


def test_verify_when_user_token_valid_returns_user_caller():
    user_id = uuid.uuid4()
    caller = verifier().verify(auth.mint_token(SECRET, str(user_id)))
    assert caller.user_id == user_id
    assert not caller.is_service


def test_verify_when_service_token_returns_service_caller():
    caller = verifier().verify(auth.mint_token(SECRET, "executor", role=auth.SERVICE_ROLE))
    assert caller.is_service and caller.user_id is None


def test_verify_when_expired_raises_unauthenticated():
    token = auth.mint_token(SECRET, str(uuid.uuid4()), ttl_seconds=-60)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier().verify(token)


def test_verify_when_signed_with_another_secret_raises_unauthenticated():
    token = auth.mint_token("another-secret-that-is-long-enough-0123456789", str(uuid.uuid4()))
    with pytest.raises(Unauthenticated, match="not valid"):
        verifier().verify(token)


def test_verify_when_algorithm_none_raises_unauthenticated():
    claims = {
        "sub": str(uuid.uuid4()),
        "role": "authenticated",
        "aud": "authenticated",
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        verifier().verify(token)


def test_verify_when_role_is_anon_raises_unauthenticated():
    token = auth.mint_token(SECRET, str(uuid.uuid4()), role="anon")
    with pytest.raises(Unauthenticated, match="anon"):
        verifier().verify(token)


def test_verify_when_audience_differs_raises_unauthenticated():
    token = auth.mint_token(SECRET, str(uuid.uuid4()), audience="someone-else")
    with pytest.raises(Unauthenticated):
        verifier().verify(token)


def test_bearer_token_when_metadata_missing_raises_unauthenticated():
    with pytest.raises(Unauthenticated, match="missing"):
        auth.bearer_token((("x-other", "1"),))


def test_bearer_token_when_scheme_is_not_bearer_raises_unauthenticated():
    with pytest.raises(Unauthenticated):
        auth.bearer_token((("authorization", "Basic abc"),))


def _as(caller: auth.Caller):
    return auth.set_current_caller(caller)


def test_authorize_user_when_user_names_itself_returns_id():
    user_id = uuid.uuid4()
    token = _as(auth.Caller(user_id, auth.USER_ROLE, "t"))
    try:
        assert auth.authorize_user(str(user_id)) == user_id
    finally:
        auth.reset_current_caller(token)


def test_authorize_user_when_user_names_another_raises_permission_denied_with_field():
    token = _as(auth.Caller(uuid.uuid4(), auth.USER_ROLE, "t"))
    try:
        with pytest.raises(PermissionDenied) as raised:
            auth.authorize_user(str(uuid.uuid4()))
        assert raised.value.field == "user_id"
    finally:
        auth.reset_current_caller(token)


def test_authorize_user_when_service_names_any_user_returns_id():
    user_id = uuid.uuid4()
    token = _as(auth.Caller(None, auth.SERVICE_ROLE, "t"))
    try:
        assert auth.authorize_user(str(user_id)) == user_id
    finally:
        auth.reset_current_caller(token)


def test_authorize_user_when_malformed_raises_invalid_argument_naming_field():
    token = _as(auth.Caller(None, auth.SERVICE_ROLE, "t"))
    try:
        with pytest.raises(InvalidArgument) as raised:
            auth.authorize_user("not-a-uuid", field="owner_id")
        assert raised.value.field == "owner_id"
    finally:
        auth.reset_current_caller(token)
