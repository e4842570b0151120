"""Strategy lifecycle rules."""

import pytest

from executor_service.lifecycle import (
    Action,
    Actor,
    Status,
    ensure_editable,
    next_status,
    plan_transition,
)
from servicekit.errors import FailedPrecondition


@pytest.mark.parametrize(
    ("action", "current", "expected"),
    [
        (Action.ACTIVATE, Status.DRAFT, Status.ACTIVE),
        (Action.PAUSE, Status.ACTIVE, Status.PAUSED),
        (Action.RESUME, Status.PAUSED, Status.ACTIVE),
        (Action.STOP, Status.PAUSED, Status.STOPPED),
        (Action.STOP, Status.ACTIVE, Status.STOPPED),
        (Action.FAIL, Status.ACTIVE, Status.ERROR),
        (Action.ACTIVATE, Status.STOPPED, Status.ACTIVE),
    ],
)
def test_next_status_when_transition_allowed_returns_target(action, current, expected):
    assert next_status(action, current) == expected


@pytest.mark.parametrize(
    ("action", "current"),
    [
        (Action.PAUSE, Status.DRAFT),
        (Action.RESUME, Status.ACTIVE),
        (Action.ACTIVATE, Status.ACTIVE),
        (Action.PAUSE, Status.STOPPED),
        (Action.RESUME, Status.STOPPED),
    ],
)
def test_next_status_when_transition_not_allowed_raises_failed_precondition(action, current):
    with pytest.raises(FailedPrecondition) as caught:
        next_status(action, current)
    assert caught.value.reason == "INVALID_STRATEGY_TRANSITION"


def test_plan_transition_when_risk_pauses_records_actor_and_reason():
    transition = plan_transition(Action.PAUSE, Status.ACTIVE, Actor.RISK, " stop loss hit ")
    assert (transition.to_status, transition.actor, transition.reason) == (
        Status.PAUSED,
        Actor.RISK,
        "stop loss hit",
    )


def test_ensure_editable_when_active_raises_failed_precondition():
    with pytest.raises(FailedPrecondition):
        ensure_editable(Status.ACTIVE)
    ensure_editable(Status.PAUSED)
