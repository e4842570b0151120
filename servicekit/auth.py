"""Who is calling: verification of Supabase access tokens and the caller's identity.

A token is either a user's (``role: authenticated``, ``sub`` = the user's id) or a
service's (``role: service_role``), the latter minted by a service acting on its own
(a bot, a worker) from the shared ``JWT_SECRET``. HS256 tokens are checked against
the secret; asymmetric ones (RS256/ES256) against the project's JWKS when configured.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from servicekit.errors import InvalidArgument, PermissionDenied, Unauthenticated
from servicekit.ids import uuid_from_text

SERVICE_ROLE = "service_role"
USER_ROLE = "authenticated"
_ASYMMETRIC = ("RS256", "ES256", "EdDSA")
# Seconds of clock difference with the token's issuer tolerated on its expiry.
EXPIRY_LEEWAY = 5
# A cached verification is redone at least this often (seconds).
REVERIFY_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified identity behind the current call."""

    user_id: uuid.UUID | None
    role: str
    token: str
    # Unix time after which the token is refused (its ``exp`` plus the leeway).
    expires_at: float = float("inf")

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE_ROLE


_current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "current_caller", default=None
)


def current_caller() -> Caller:
    """The caller of the RPC being served (set by the call guard, servicekit.guard)."""
    caller = _current_caller.get()
    if caller is None:
        raise Unauthenticated("no verified caller for this call")
    return caller


def set_current_caller(caller: Caller | None) -> contextvars.Token:
    return _current_caller.set(caller)


def reset_current_caller(token: contextvars.Token) -> None:
    _current_caller.reset(token)


def parse_user_id(value: str, field: str = "user_id") -> uuid.UUID:
    """A user id from the wire, or InvalidArgument naming the field."""
    try:
        return uuid_from_text(value)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(field, "must be a UUID") from None


def authorize_user(user_id_value: str, field: str = "user_id") -> uuid.UUID:
    """The user a request acts for, if the caller may act for them.

    A service caller may name any user; a user only themselves.
    """
    user_id = parse_user_id(user_id_value, field)
    caller = current_caller()
    if caller.is_service or caller.user_id == user_id:
        return user_id
    raise PermissionDenied(field, f"{field}: you may act only on your own account")


class TokenVerifier:
    """Checks signature, expiry and audience of a bearer token."""

    def __init__(self, secret: str, audience: str, jwks_url: str | None = None):
        self._secret = secret
        self._audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm == "HS256":
                key: object = self._secret
            elif algorithm in _ASYMMETRIC and self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            else:
                raise Unauthenticated(f"token algorithm {algorithm!r} is not accepted")
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=[algorithm],
                audience=self._audience,
                options={"require": ["exp", "sub", "role"]},
                leeway=EXPIRY_LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token has expired") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"token is not valid: {error}") from None
        return _caller_from_claims(claims, token)


class VerifiedTokenCache:
    """Remembers recently verified tokens: a hot caller pays once. An entry lasts until
    its token expires, and at most REVERIFY_EVERY seconds, so a token is refused from
    the moment it expires, and a changed key set (JWKS) is seen within that time."""

    def __init__(
        self,
        verifier: TokenVerifier,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ):
        self._verifier = verifier
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def verify(self, token: str) -> Caller:
        now = self._clock()
        entry = self._entries.get(token)
        if entry is not None and now < entry[1]:
            return entry[0]
        caller = self._verifier.verify(token)
        self._entries[token] = (caller, min(now + REVERIFY_EVERY, caller.expires_at))
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return caller


def _caller_from_claims(claims: dict, token: str) -> Caller:
    role = claims.get("role")
    expires_at = float(claims["exp"]) + EXPIRY_LEEWAY
    if role == SERVICE_ROLE:
        return Caller(user_id=None, role=role, token=token, expires_at=expires_at)
    if role != USER_ROLE:
        raise Unauthenticated(f"token role {role!r} may not call this service")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise Unauthenticated("token subject is not a user id") from None
    return Caller(user_id=user_id, role=role, token=token, expires_at=expires_at)


def mint_token(
    secret: str,
    sub: str,
    role: str = USER_ROLE,
    ttl_seconds: int = 3600,
    audience: str = "authenticated",
) -> str:
    """An HS256 token shaped like Supabase's (development, tests, service calls)."""
    now = int(time.time())
    claims = {"sub": sub, "role": role, "aud": audience, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    """The token from ``authorization: Bearer ...`` metadata, or Unauthenticated."""
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
            raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
    raise Unauthenticated("missing authorization metadata (Bearer token)")
