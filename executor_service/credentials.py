"""Broker credentials encrypted at rest with Fernet; the key comes from the environment.

Secrets are wrapped in ``BrokerKeys`` whose repr hides them, so a stray log line or
traceback cannot print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from servicekit.errors import FailedPrecondition, InvalidArgument


@dataclass(frozen=True)
class BrokerKeys:
    """An API key pair. Never printed: repr shows only the key id's last four characters."""

    api_key_id: str = field(repr=False)
    api_secret: str = field(repr=False)

    @property
    def hint(self) -> str:
        return key_hint(self.api_key_id)

    def __repr__(self) -> str:
        return f"BrokerKeys(api_key_id=...{self.hint}, api_secret=***)"


def key_hint(api_key_id: str) -> str:
    """The last four characters of a key id, the only part ever shown back."""
    return api_key_id[-4:] if len(api_key_id) > 8 else ""


class CredentialCipher:
    """Encrypts and decrypts broker keys with one Fernet key."""

    def __init__(self, key: str | None):
        self._fernet = Fernet(key.encode()) if key else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def _require(self) -> Fernet:
        if self._fernet is None:
            raise FailedPrecondition(
                "broker credentials cannot be stored: EXECUTOR_CREDENTIALS_KEY is not set",
                reason="CREDENTIALS_KEY_MISSING",
            )
        return self._fernet

    def encrypt(self, keys: BrokerKeys) -> tuple[bytes, bytes]:
        fernet = self._require()
        return fernet.encrypt(keys.api_key_id.encode()), fernet.encrypt(keys.api_secret.encode())

    def decrypt(self, key_id_token: bytes, secret_token: bytes) -> BrokerKeys:
        fernet = self._require()
        try:
            return BrokerKeys(
                fernet.decrypt(bytes(key_id_token)).decode(),
                fernet.decrypt(bytes(secret_token)).decode(),
            )
        except InvalidToken:
            raise FailedPrecondition(
                "stored broker credentials cannot be decrypted with the current key",
                reason="CREDENTIALS_UNREADABLE",
            ) from None


def validate_keys(api_key_id: str, api_secret: str) -> BrokerKeys:
    """Check the shape of a key pair (not its validity at the broker)."""
    key_id, secret = api_key_id.strip(), api_secret.strip()
    if not 8 <= len(key_id) <= 128:
        raise InvalidArgument("api_key_id", "must be 8 to 128 characters")
    if not 8 <= len(secret) <= 256:
        raise InvalidArgument("api_secret", "must be 8 to 256 characters")
    return BrokerKeys(key_id, secret)
