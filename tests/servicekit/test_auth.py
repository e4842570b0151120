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


def test_verify_gives_the_tokens_expiry_plus_the_leeway():
    token = auth.mint_token(SECRET, str(uuid.uuid4()), ttl_seconds=600)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert verifier().verify(token).expires_at == exp + auth.EXPIRY_LEEWAY


class _CountingVerifier:
    """Answers one caller expiring at ``expires_at``, until told the token has expired."""

    def __init__(self, expires_at: float):
        self.caller = auth.Caller(uuid.uuid4(), auth.USER_ROLE, "t", expires_at=expires_at)
        self.calls = 0
        self.expired = False

    def verify(self, token: str) -> auth.Caller:
        self.calls += 1
        if self.expired:
            raise Unauthenticated("token has expired")
        return self.caller


def _cache(verifier: _CountingVerifier, now: list[float]) -> auth.VerifiedTokenCache:
    return auth.VerifiedTokenCache(verifier, clock=lambda: now[0])  # type: ignore[arg-type]


def test_token_cache_when_token_reused_verifies_once():
    counting, now = _CountingVerifier(expires_at=1_000.0), [100.0]
    cache = _cache(counting, now)
    assert cache.verify("t") is cache.verify("t") is counting.caller
    assert counting.calls == 1


def test_token_cache_when_cached_token_expires_refuses_it_from_then():
    counting, now = _CountingVerifier(expires_at=130.0), [100.0]
    cache = _cache(counting, now)
    cache.verify("t")
    counting.expired = True
    now[0] = 129.9
    assert cache.verify("t") is counting.caller  # still valid: from the cache
    now[0] = 130.0
    with pytest.raises(Unauthenticated, match="expired"):
        cache.verify("t")


def test_token_cache_when_token_lives_long_reverifies_every_minute():
    counting, now = _CountingVerifier(expires_at=1_000_000.0), [100.0]
    cache = _cache(counting, now)
    cache.verify("t")
    now[0] = 100.0 + auth.REVERIFY_EVERY
    cache.verify("t")
    assert counting.calls == 2


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
