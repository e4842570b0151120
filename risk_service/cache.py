"""The in-process cache of what every ValidateTrade reads: the platform configuration,
the platform kill switches, and per user the profile and the user's kill switches.

Every change to those tables is announced on the Postgres channel
``risk_config_changed`` (triggers in the migration); a listener on each replica drops
the entries concerned at once, so a kill switch set through any replica governs every
replica within milliseconds. While the listener is not connected nothing is cached (every
call reads the database), so a lost connection never serves stale switches. A load that
raced with an announcement is not stored (a generation counter), and no entry lives
longer than ``max_age_seconds`` in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import asyncpg

from risk_service.kill_switch import KillSwitch
from risk_service.limits import PlatformConfig
from risk_service.model import Profile
from risk_service.store import RiskStore

log = logging.getLogger("risk_service.cache")

CHANNEL = "risk_config_changed"


@dataclass(frozen=True, slots=True)
class PlatformState:
    config: PlatformConfig
    switches: tuple[KillSwitch, ...]
    loaded_at: float


@dataclass(frozen=True, slots=True)
class UserState:
    profile: Profile
    switches: tuple[KillSwitch, ...]
    loaded_at: float


class RiskCache:
    def __init__(self, store: RiskStore, *, max_age_seconds: float = 60.0, max_users: int = 10_000):
        self._store = store
        self._max_age = max_age_seconds
        self._max_users = max_users
        self._platform: PlatformState | None = None
        self._users: OrderedDict[uuid.UUID, UserState] = OrderedDict()
        self._generation = 0
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        """Is the change listener connected (and so is caching on)?"""
        return self._listening.is_set()

    async def wait_listening(self, timeout: float = 5.0) -> None:
        """Wait until the change listener is connected (tests, benchmarks)."""
        async with asyncio.timeout(timeout):
            await self._listening.wait()

    # --- reads ------------------------------------------------------------------------

    async def platform(self) -> PlatformState:
        state = self._platform
        if state is not None and self._fresh(state.loaded_at):
            return state
        generation = self._generation
        config, switches = await self._store.load_platform()
        state = PlatformState(config, switches, time.monotonic())
        if self.listening and generation == self._generation:
            self._platform = state
        return state

    async def user(self, user_id: uuid.UUID) -> UserState:
        state = self._users.get(user_id)
        if state is not None and self._fresh(state.loaded_at):
            return state
        generation = self._generation
        profile, switches = await self._store.load_user(user_id)
        state = UserState(profile, switches, time.monotonic())
        if self.listening and generation == self._generation:
            self._users[user_id] = state
            self._users.move_to_end(user_id)
            while len(self._users) > self._max_users:
                self._users.popitem(last=False)
        return state

    def _fresh(self, loaded_at: float) -> bool:
        return self.listening and time.monotonic() - loaded_at < self._max_age

    # --- invalidation -----------------------------------------------------------------

    def invalidate(self, table: str | None = None, user_id: uuid.UUID | None = None) -> None:
        """Drop what a change to ``table`` (for ``user_id``) may have made stale."""
        self._generation += 1
        if table in (None, "platform_config") or (table == "kill_switches" and user_id is None):
            self._platform = None
        if user_id is None:
            if table in (None, "user_profiles"):
                self._users.clear()
        else:
            self._users.pop(user_id, None)

    def clear(self) -> None:
        self._generation += 1
        self._platform = None
        self._users.clear()

    def _on_notification(self, connection, pid, channel, payload: str) -> None:
        try:
            change = json.loads(payload)
            user = change.get("user_id")
            self.invalidate(change.get("table"), uuid.UUID(user) if user else None)
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable %s payload %r: dropping the whole cache", CHANNEL, payload)
            self.clear()

    async def listen_forever(self, pool: asyncpg.Pool, probe_seconds: float = 2.0) -> None:
        """Hold a pool connection LISTENing on the channel; reconnect when it drops."""
        while True:
            connection = None
            try:
                connection = await pool.acquire()
                await connection.add_listener(CHANNEL, self._on_notification)
                # Anything cached before the listener was up may have missed a change.
                self.clear()
                self._listening.set()
                while True:
                    await asyncio.sleep(probe_seconds)
                    async with asyncio.timeout(probe_seconds):
                        await connection.fetchval("select 1")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("change listener lost (%s); caching is off until it is back", error)
            finally:
                self._listening.clear()
                self.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.remove_listener(CHANNEL, self._on_notification)
                    with contextlib.suppress(Exception):
                        await pool.release(connection)
            await asyncio.sleep(0.5)
