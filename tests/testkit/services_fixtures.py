"""Pytest fixtures built on tests.testkit.services (users, tokens)."""

from __future__ import annotations

import pytest

from tests.testkit.services import create_user


@pytest.fixture
async def user_a(database):
    """A fresh signed-up user in the test's database."""
    return await create_user(database)


@pytest.fixture
async def user_b(database):
    """A second user, for proving that A's data never reaches B."""
    return await create_user(database)
