"""Which broker a strategy trades through: the paper exchange, or the user's Alpaca
account with the keys decrypted from ``broker_credentials`` (never logged).

Alpaca's live endpoint only for a strategy marked live on a deployment that enables live
trading (``EXECUTOR_ALPACA_LIVE_ENABLED``); activation has already refused live strategies
of users whose profile is in paper mode. Everything else uses the paper endpoint.
"""

from __future__ import annotations

import uuid

from executor_service.brokers.alpaca import AlpacaBroker
from executor_service.brokers.base import Broker, BrokerError
from executor_service.brokers.paper import PaperExchange
from executor_service.credentials import CredentialCipher
from executor_service.reports import CredentialStore
from executor_service.store import StrategyRow


class BrokerNotConfigured(BrokerError):
    """The strategy's broker cannot be reached: no keys stored, or no key to decrypt them."""


class BrokerDirectory:
    def __init__(
        self,
        exchange: PaperExchange,
        credentials: CredentialStore,
        cipher: CredentialCipher,
        *,
        live_enabled: bool = False,
        alpaca_url_override: str | None = None,
    ):
        self._exchange = exchange
        self._credentials = credentials
        self._cipher = cipher
        self._live_enabled = live_enabled
        self._url_override = alpaca_url_override
        self._alpaca: dict[tuple[uuid.UUID, bool], AlpacaBroker] = {}

    async def for_strategy(self, row: StrategyRow) -> Broker:
        if row.broker == "paper":
            return self._exchange.account(row.user_id)
        live = row.live and self._live_enabled
        cached = self._alpaca.get((row.user_id, live))
        if cached is not None:
            return cached
        broker = AlpacaBroker(
            await self.alpaca_keys(row.user_id), live=live, url_override=self._url_override
        )
        self._alpaca[(row.user_id, live)] = broker
        return broker

    async def alpaca_keys(self, user_id: uuid.UUID):
        """The user's decrypted Alpaca keys; BrokerNotConfigured when there are none."""
        if not self._cipher.enabled:
            raise BrokerNotConfigured("no credentials key is configured (EXECUTOR_CREDENTIALS_KEY)")
        stored = await self._credentials.load(user_id, "alpaca")
        if stored is None:
            raise BrokerNotConfigured("no Alpaca credentials are stored for this user")
        return self._cipher.decrypt(*stored)
