"""The shop's own backend over HTTP (SHOP_CONNECTOR=http): signed calls, with a timeout, that
say whether a failure is worth retrying (bot/shop/contract.py is the contract)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from bot.shop import contract


class ShopUnavailable(Exception):
    """No answer in time, no connection, or an answer that means "later" (5xx, 429, or one this
    service cannot read): try again."""


class ShopRefused(Exception):
    """The shop said no for good (409, 422): retrying would get the same answer."""


@dataclass
class HttpShop:
    http: aiohttp.ClientSession
    base_url: str
    secret: str
    timeout: float
    clock: Callable[[], float] = field(default=time.time)

    async def _call(
        self, method: str, target: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, Any]:
        url = URL(self.base_url + target, encoded=True)
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        signed = contract.signed_headers(self.secret, self.clock(), method, url.raw_path_qs, raw)
        if body is not None:
            signed["Content-Type"] = "application/json"
        try:
            async with self.http.request(
                method,
                url,
                data=raw or None,
                headers=signed | headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status, text = response.status, await response.text()
        except TimeoutError:
            raise ShopUnavailable(f"no answer within {self.timeout:.0f} s") from None
        except aiohttp.ClientError as error:
            raise ShopUnavailable(f"{type(error).__name__}: {error}") from None
        try:
            answer = json.loads(text) if text else None
        except ValueError:
            answer = None
        return status, answer

    async def customer(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's record as the shop has it, or None when the shop does not know them."""
        status, answer = await self._call("GET", f"/customers/{quote(customer_id, safe='')}")
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict) or answer.get("id") != customer_id:
            raise ShopUnavailable(f"the shop answered HTTP {status} to a customer record")
        return answer

    async def search(self, query: str) -> list[dict[str, Any]]:
        status, answer = await self._call("GET", "/customers?" + urlencode({"q": query}))
        found = answer.get("customers") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(found, list):
            raise ShopUnavailable(f"the shop answered HTTP {status} to a customer search")
        return [c for c in found if isinstance(c, dict) and isinstance(c.get("id"), str)]

    async def reachable(self) -> bool:
        """Whether the shop answers a signed call (an empty search: it finds nobody)."""
        try:
            await self.search("")
        except ShopUnavailable:
            return False
        return True

    async def execute(self, remedy: dict[str, Any]) -> dict[str, Any]:
        """Have the shop execute a remedy (contract.remedy_body); its confirmation."""
        key = remedy["id"]
        status, answer = await self._call(
            "POST", "/remedies", remedy, **{contract.IDEMPOTENCY_KEY: key}
        )
        if status in (200, 201) and isinstance(answer, dict) and answer.get("status") == "done":
            return answer
        why = answer.get("message") if isinstance(answer, dict) else None
        if status in contract.REFUSED:
            raise ShopRefused(why or f"HTTP {status}")
        raise ShopUnavailable(f"HTTP {status}" + (f": {why}" if why else ""))
