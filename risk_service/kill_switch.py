"""Kill switches: which one governs an order, and who may set or lift which.

A switch is HALTED (nothing passes) or REDUCING (only orders that shrink a position
pass), at platform, user or strategy level. A switch a service or an operator set cannot
be changed or lifted by the user.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from servicekit.errors import InvalidArgument, PermissionDenied


class SwitchScope(StrEnum):
    PLATFORM = "platform"
    USER = "user"
    STRATEGY = "strategy"


class SwitchMode(StrEnum):
    REDUCING = "reducing"
    HALTED = "halted"


_SEVERITY = {SwitchMode.REDUCING: 1, SwitchMode.HALTED: 2}
_BREADTH = {SwitchScope.STRATEGY: 0, SwitchScope.USER: 1, SwitchScope.PLATFORM: 2}


@dataclass(frozen=True, slots=True)
class KillSwitch:
    scope: SwitchScope
    mode: SwitchMode
    reason: str
    user_id: uuid.UUID | None = None
    strategy_id: uuid.UUID | None = None
    set_by_service: bool = False
    id: uuid.UUID | None = None
    updated_at: dt.datetime | None = None

    def covers(self, user_id: uuid.UUID, strategy_id: uuid.UUID) -> bool:
        """Does this switch apply to orders of ``strategy_id`` owned by ``user_id``?"""
        if self.scope is SwitchScope.PLATFORM:
            return True
        if self.user_id != user_id:
            return False
        return self.scope is SwitchScope.USER or self.strategy_id == strategy_id

    def describe(self) -> str:
        level = {
            SwitchScope.PLATFORM: "platform",
            SwitchScope.USER: "account",
            SwitchScope.STRATEGY: "strategy",
        }[self.scope]
        return f"{level} kill switch ({self.mode.value}): {self.reason}"


def governing_switch(
    switches: Iterable[KillSwitch], user_id: uuid.UUID, strategy_id: uuid.UUID
) -> KillSwitch | None:
    """The most severe switch covering the order (HALTED over REDUCING, broader first)."""
    covering = [switch for switch in switches if switch.covers(user_id, strategy_id)]
    if not covering:
        return None
    return max(covering, key=lambda s: (_SEVERITY[s.mode], _BREADTH[s.scope]))


def check_target(
    scope: SwitchScope, user_id: uuid.UUID | None, strategy_id: uuid.UUID | None
) -> None:
    """A switch names exactly what its scope needs (InvalidArgument otherwise)."""
    if scope is SwitchScope.PLATFORM:
        if user_id is not None:
            raise InvalidArgument("user_id", "must be empty for a platform kill switch")
        if strategy_id is not None:
            raise InvalidArgument("strategy_id", "must be empty for a platform kill switch")
        return
    if user_id is None:
        raise InvalidArgument("user_id", f"is required for a {scope.value} kill switch")
    if scope is SwitchScope.USER and strategy_id is not None:
        raise InvalidArgument("strategy_id", "must be empty for a user kill switch")
    if scope is SwitchScope.STRATEGY and strategy_id is None:
        raise InvalidArgument("strategy_id", "is required for a strategy kill switch")


def authorize_change(
    scope: SwitchScope, caller_is_service: bool, existing: KillSwitch | None
) -> None:
    """Users set and lift their own switches; platform switches and switches a service
    set are for services (operators) only."""
    if caller_is_service:
        return
    if scope is SwitchScope.PLATFORM:
        raise PermissionDenied("scope", "only a service may set a platform kill switch")
    if existing is not None and existing.set_by_service:
        raise PermissionDenied(
            "scope", "this kill switch was set by the platform and cannot be changed by a user"
        )
