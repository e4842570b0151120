"""Broker credentials: encrypted at rest, never printed."""

import pytest
from cryptography.fernet import Fernet

from executor_service.credentials import CredentialCipher, validate_keys
from servicekit.errors import FailedPrecondition, InvalidArgument


def test_encrypt_when_round_trip_returns_keys_and_ciphertext_hides_them():
    cipher = CredentialCipher(Fernet.generate_key().decode())
    keys = validate_keys("PKTESTKEY12345678", "very-secret-value-123")
    key_token, secret_token = cipher.encrypt(keys)
    assert b"very-secret" not in secret_token and b"PKTESTKEY" not in key_token
    assert cipher.decrypt(key_token, secret_token) == keys


def test_repr_when_keys_printed_shows_only_hint():
    keys = validate_keys("PKTESTKEY12345678", "very-secret-value-123")
    text = repr(keys) + str(keys) + f"{keys}"
    assert "very-secret" not in text and "PKTESTKEY1234" not in text and "5678" in text


def test_decrypt_when_key_rotated_raises_failed_precondition():
    keys = validate_keys("PKTESTKEY12345678", "very-secret-value-123")
    tokens = CredentialCipher(Fernet.generate_key().decode()).encrypt(keys)
    with pytest.raises(FailedPrecondition):
        CredentialCipher(Fernet.generate_key().decode()).decrypt(*tokens)


def test_encrypt_when_no_key_configured_raises_failed_precondition():
    with pytest.raises(FailedPrecondition):
        CredentialCipher(None).encrypt(validate_keys("PKTESTKEY12345678", "secret-secret"))


def test_validate_keys_when_secret_too_short_names_field():
    with pytest.raises(InvalidArgument) as caught:
        validate_keys("PKTESTKEY12345678", "x")
    assert caught.value.field == "api_secret"
