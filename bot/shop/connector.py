"""SHOP_CONNECTOR's choice, as the desk and the remedies use it.

- builtin: the shop is this service's own tables (the demo); a grant changes them in its own
  transaction, so it is done when it is committed.
- http: the shop's backend (bot/shop/contract.py). Records are read through to it
  (bot/shop/records.py) and a grant is delivered to it after the commit (bot/shop/deliveries.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.services import Services
from bot.shop.deliveries import Deliveries
from bot.shop.http import HttpShop
from bot.shop.records import ShopRecords


@dataclass
class Shop:
    records: ShopRecords
    deliveries: Deliveries | None = None  # None: the built-in shop, done in the transaction

    @property
    def applies_in_transaction(self) -> bool:
        return self.deliveries is None

    async def reachable(self) -> bool | None:
        """Whether the shop's backend answers; None for the built-in shop (the database)."""
        return None if self.records.shop is None else await self.records.shop.reachable()

    def granted(self) -> None:
        """A grant was committed: deliver it now."""
        if self.deliveries is not None:
            self.deliveries.wake()


@contextlib.asynccontextmanager
async def open_shop(services: Services) -> AsyncIterator[Shop]:
    settings = services.settings
    if settings.shop_connector == "builtin":
        yield Shop(ShopRecords(services.sessions, None))
        return
    assert settings.shop_url and settings.shop_secret  # load_settings requires them for http
    async with aiohttp.ClientSession() as http:
        client = HttpShop(
            http, settings.shop_url, settings.shop_secret, settings.shop_timeout_seconds
        )
        deliveries = Deliveries(services, client)
        deliveries.start()
        try:
            yield Shop(ShopRecords(services.sessions, client), deliveries)
        finally:
            await deliveries.stop()


SHOP = web.AppKey("shop", Shop)
