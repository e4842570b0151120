"""Liveness (/healthz: the gateway itself) and readiness (/readyz: services and database)."""

from __future__ import annotations

import asyncio
from typing import Literal

import asyncpg
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.config import GatewaySettings
from servicekit.db.embedded import resolve_database_url

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]  # service or "database" -> serving / not_serving / unreachable


@router.get("/healthz", response_model=Liveness, summary="The gateway process is alive")
async def healthz() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A service or the database is down"}},
    summary="Every service answers its gRPC health check and the database answers",
)
async def readyz(request: Request) -> JSONResponse:
    settings: GatewaySettings = request.app.state.settings
    timeout = settings.readiness_timeout_seconds
    services, database = await asyncio.gather(
        request.app.state.upstreams.health(timeout), _database_status(request.app.state, timeout)
    )
    checks = dict(services)
    if database is not None:
        checks["database"] = database
    ready = all(status == "serving" for status in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _database_status(state, timeout: float) -> str | None:
    settings: GatewaySettings = state.settings
    if not settings.readiness_checks_database:
        return None
    try:
        async with asyncio.timeout(timeout):
            url = await _database_url(state)
            connection = await asyncpg.connect(url, timeout=timeout)
            try:
                await connection.fetchval("select 1")
            finally:
                await connection.close()
    except Exception:
        return "unreachable"
    return "serving"


async def _database_url(state) -> str:
    # Without DATABASE_URL the database is the embedded one the services share; attaching
    # to it (pgserver counts its users) tells us its socket address.
    known: str | None = getattr(state, "database_url", None)
    if known is not None:
        return known
    settings: GatewaySettings = state.settings
    url = settings.service_database_url
    if not url:
        url = await run_in_threadpool(
            resolve_database_url, settings.database_url, settings.pgserver_data_dir
        )
    state.database_url = url
    return url
