"""The strategy lifecycle: draft -> active -> paused -> stopped (and error), with reasons.

Pure rules, no I/O: which transitions exist, who may make them, and the record of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from servicekit.errors import FailedPrecondition


class Status(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"


class Actor(StrEnum):
    USER = "user"
    RISK = "risk"
    KILL_SWITCH = "kill_switch"
    SYSTEM = "system"


class Action(StrEnum):
    ACTIVATE = "activate"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    FAIL = "fail"


# (action, from) -> to. Stopped is final for running but a stopped strategy may be
# activated again (it re-runs the activation checks); error likewise.
_TRANSITIONS: dict[tuple[Action, Status], Status] = {
    (Action.ACTIVATE, Status.DRAFT): Status.ACTIVE,
    (Action.ACTIVATE, Status.STOPPED): Status.ACTIVE,
    (Action.ACTIVATE, Status.ERROR): Status.ACTIVE,
    (Action.PAUSE, Status.ACTIVE): Status.PAUSED,
    (Action.RESUME, Status.PAUSED): Status.ACTIVE,
    (Action.STOP, Status.ACTIVE): Status.STOPPED,
    (Action.STOP, Status.PAUSED): Status.STOPPED,
    (Action.STOP, Status.DRAFT): Status.STOPPED,
    (Action.STOP, Status.ERROR): Status.STOPPED,
    (Action.FAIL, Status.ACTIVE): Status.ERROR,
    (Action.FAIL, Status.PAUSED): Status.ERROR,
}

# Statuses in which the config may be edited or the strategy deleted.
EDITABLE = frozenset({Status.DRAFT, Status.PAUSED, Status.STOPPED, Status.ERROR})


@dataclass(frozen=True)
class Transition:
    """One recorded status change."""

    from_status: Status
    to_status: Status
    actor: Actor
    reason: str


def next_status(action: Action, current: Status) -> Status:
    """The status ``action`` leads to from ``current``, or FAILED_PRECONDITION."""
    target = _TRANSITIONS.get((action, current))
    if target is None:
        raise FailedPrecondition(
            f"cannot {action.value} a strategy that is {current.value}",
            reason="INVALID_STRATEGY_TRANSITION",
        )
    return target


def plan_transition(action: Action, current: Status, actor: Actor, reason: str) -> Transition:
    """The transition ``action`` makes from ``current``, with its actor and reason."""
    return Transition(current, next_status(action, current), actor, reason.strip())


def ensure_editable(current: Status) -> None:
    """Refuse edits and deletion while a strategy is running."""
    if current not in EDITABLE:
        raise FailedPrecondition(
            f"a strategy that is {current.value} cannot be changed; pause or stop it first",
            reason="STRATEGY_ACTIVE",
        )
