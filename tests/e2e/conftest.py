"""The e2e tests run on the gateway's whole-platform stack."""

from tests.gateway.conftest import anonymous, new_user, stack, stack_database  # noqa: F401
