"""The user's profile (risk service) and notification preferences (notification service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from google.protobuf import field_mask_pb2

from gateway.deps import UserSession
from gateway.proto_models import enum_value, from_json, to_json
from gateway.routers.common import ERROR_RESPONSES
from gateway.schemas import NotificationPreferences, PreferencesUpdate, Profile, ProfileUpdate
from trading.notification.v1 import notification_service_pb2 as notification_pb
from trading.risk.v1 import risk_service_pb2 as risk_pb
from trading.types.v1 import types_pb2

router = APIRouter(prefix="/v1/profile", tags=["profile"], responses=ERROR_RESPONSES)


def _without_secret(preferences: notification_pb.NotificationPreferences) -> dict[str, Any]:
    body = to_json(preferences)
    body.pop("webhook_secret", None)
    return body


@router.get("", response_model=Profile)
async def get_profile(session: UserSession) -> Any:
    """Tier, risk tolerance and paper mode."""
    reply = await session.risk.GetProfile(risk_pb.GetProfileRequest(user_id=session.user_id))
    return to_json(reply.profile)


@router.patch("", response_model=Profile)
async def update_profile(body: ProfileUpdate, session: UserSession) -> Any:
    """Change risk tolerance and/or paper mode. The tier cannot be set here (400)."""
    request = risk_pb.UpdateProfileRequest(user_id=session.user_id)
    if body.risk_tolerance is not None:
        request.risk_tolerance = enum_value(types_pb2.RiskTolerance, body.risk_tolerance)
    if body.paper_mode is not None:
        request.paper_mode = body.paper_mode
    reply = await session.risk.UpdateProfile(request)
    return to_json(reply.profile)


@router.get("/notifications", response_model=NotificationPreferences)
async def get_preferences(session: UserSession) -> Any:
    reply = await session.notification.GetPreferences(
        notification_pb.GetPreferencesRequest(user_id=session.user_id)
    )
    return _without_secret(reply.preferences)


@router.patch("/notifications", response_model=NotificationPreferences)
async def update_preferences(body: PreferencesUpdate, session: UserSession) -> Any:
    """Change the fields present in the body (the webhook secret is write-only)."""
    present = body.model_dump(exclude_unset=True)
    preferences = from_json(
        {key: value for key, value in present.items() if value is not None},
        notification_pb.NotificationPreferences,
    )
    reply = await session.notification.UpdatePreferences(
        notification_pb.UpdatePreferencesRequest(
            user_id=session.user_id,
            preferences=preferences,
            update_mask=field_mask_pb2.FieldMask(paths=sorted(present)),
        )
    )
    return _without_secret(reply.preferences)
