"""The retry policy shared by every outgoing channel."""

from __future__ import annotations

from notification_service.channels import RetryPolicy


def test_retry_policy_when_attempts_grow_doubles_the_delay_up_to_the_cap():
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=5.0)
    assert [policy.delay_after(attempt) for attempt in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_retry_policy_when_bound_reached_is_exhausted():
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(attempt) for attempt in (1, 2, 3, 4)] == [False, False, True, True]
