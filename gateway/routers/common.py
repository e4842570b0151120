"""What every resource router shares: documented error responses and id parameters."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path

from gateway.errors import ErrorBody

_DESCRIPTIONS = {
    400: "Invalid request; `error.field` names the offending field",
    401: "Missing, malformed or expired access token",
    403: "Not allowed",
    404: "Not found (or not yours)",
    409: "Conflicts with the current state",
    429: "Rate limited; see Retry-After",
    503: "A service is unavailable; retry later",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}

StrategyId = Annotated[uuid.UUID, Path(description="A strategy of the signed-in user.")]
BacktestId = Annotated[uuid.UUID, Path(description="A backtest of the signed-in user.")]
NotificationId = Annotated[uuid.UUID, Path(description="A notification of the signed-in user.")]
CommunityStrategyId = Annotated[uuid.UUID, Path(description="A marketplace listing.")]
