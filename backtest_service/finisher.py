"""After a run: the risk score, the verification record, the user's notification.

The worker calls ``score`` before storing a result (so the score is stored with it) and
``after_completed`` / ``after_failed`` once the result is stored. ``sweep`` runs with the
worker's housekeeping: it re-sends notifications nobody confirmed and schedules
verification runs nobody scheduled.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from backtest_service import store
from backtest_service.jobs import ClaimedJob, RiskAssessment
from backtest_service.worker import JobResult


class ServiceFinisher:
    """Scoring by the risk service, verification records, user notifications."""

    def __init__(
        self,
        pool,
        risk,
        notifications,
        *,
        config_to_proto,
        marketplace_sweep,
        notify_retry_after_seconds: float,
    ):
        self._pool = pool
        self._notify_retry_after = notify_retry_after_seconds
        self._risk = risk
        self._notifications = notifications
        self._config_to_proto = config_to_proto
        self._marketplace_sweep = marketplace_sweep

    async def score(self, job: ClaimedJob, result: JobResult) -> RiskAssessment:
        return await self._risk.score(self._config_to_proto(job.config), result.metrics)

    async def after_completed(self, job: ClaimedJob, result: JobResult, risk: RiskAssessment):
        if job.kind == "verification":
            await store.record_verification(
                self._pool,
                job.id,
                metrics=result.metrics,
                return_pct=_decimal_or_none(result.metrics.get("total_return_pct")),
                risk_score=risk.score,
                risk_score_note=risk.note,
            )
            return
        await self._notify(job.id)

    async def after_failed(self, job_id: uuid.UUID, kind: str, error: str) -> None:
        if kind == "verification":
            await store.record_verification_failure(self._pool, job_id, error)
            return
        await self._notify(job_id)

    async def sweep(self) -> None:
        """Re-send unconfirmed notifications; schedule verifications nobody scheduled."""
        for row in await store.finished_unnotified(
            self._pool, older_than_seconds=self._notify_retry_after
        ):
            await self._send(row)
        await self._marketplace_sweep()

    async def _notify(self, job_id: uuid.UUID) -> None:
        row = await store.get_backtest_as_service(self._pool, job_id)
        if row is not None:
            await self._send(row)

    async def _send(self, row) -> None:
        delivered = await self._notifications.backtest_finished(
            backtest_id=row["id"],
            user_id=row["user_id"],
            strategy_id=row["strategy_id"],
            strategy_name=(row["config"] or {}).get("name") or row["symbol"],
            status=row["status"],
            metrics=row["metrics"],
            error=row["error"],
        )
        if delivered:
            await store.mark_notified(self._pool, row["id"])


def _decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None
