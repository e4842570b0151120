"""The error taxonomy: domain errors and the one table that maps them to gRPC codes.

Domain code raises these; the call guard (servicekit.guard) turns them into a status with the code,
a message, and trailing metadata a program can branch on (``error-reason``,
``error-field``). A risk denial is not an error: it is an answer with reasons.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    """Base of every error a service reports to its caller on purpose."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    reason: str = "ERROR"

    def __init__(self, message: str, *, field: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if reason is not None:
            self.reason = reason

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [("error-reason", self.reason)]
        if self.field:
            pairs.append(("error-field", self.field))
        return tuple(pairs)


class InvalidArgument(DomainError):
    """The request is malformed; ``field`` names the offending field (dotted path)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, message: str, *, reason: str | None = None):
        super().__init__(f"{field}: {message}", field=field, reason=reason)
        self.detail = message

    def within(self, prefix: str) -> InvalidArgument:
        """The same error for the field nested under ``prefix``: a parser of one item of
        a list names fields relative to the item, and its caller adds where the item is
        only when something is wrong (no path strings built for every valid item)."""
        return InvalidArgument(f"{prefix}.{self.field}", self.detail, reason=self.reason)


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"

    def __init__(self, field: str | None, message: str, *, reason: str | None = None):
        super().__init__(message, field=field, reason=reason)


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate, stale version)."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "CONFLICT"


class Aborted(DomainError):
    """A concurrent change won (optimistic concurrency); the caller may retry."""

    code = grpc.StatusCode.ABORTED
    reason = "ABORTED"


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class ResourceExhausted(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self, message: str, *, retry_after_seconds: int | None = None, reason: str | None = None
    ):
        super().__init__(message, reason=reason)
        self.retry_after_seconds = retry_after_seconds

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = super().trailing_metadata()
        if self.retry_after_seconds is not None:
            pairs += (("retry-after", str(self.retry_after_seconds)),)
        return pairs


class Unavailable(DomainError):
    """A dependency (database, another service) cannot be reached; safe to retry later."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


def field_of(error: grpc.RpcError) -> str | None:
    """The ``error-field`` a service attached to a failed call, if any (client side)."""
    return _trailer(error, "error-field")


def reason_of(error: grpc.RpcError) -> str | None:
    """The ``error-reason`` a service attached to a failed call, if any (client side)."""
    return _trailer(error, "error-reason")


def _trailer(error: grpc.RpcError, key: str) -> str | None:
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for item in trailing or ():
        if item[0] == key:
            return item[1]
    return None
