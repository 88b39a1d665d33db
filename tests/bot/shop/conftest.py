"""The service with SHOP_CONNECTOR=http, against the reference shop backend over real HTTP
(tests/shop/backend.py, its own SQLite file), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.services import SERVICES
from bot.shop import deliveries
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for
from tests.shop.backend import create_app as create_backend

SHOP_SECRET = "k" * 40


@dataclass
class Backend:
    url: str
    db: Path

    async def control(self, **faults: Any) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/_control", json=faults) as response,
        ):
            assert response.status == 200, await response.text()

    async def requests(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/_control/requests") as response,
        ):
            body: dict[str, Any] = await response.json()
            return body

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """The backend's own database, read directly."""
        with sqlite3.connect(self.db) as connection:
            return connection.execute(query, args).fetchall()


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[Backend]:
    db = tmp_path / "shop.db"
    server = TestServer(create_backend(db, SHOP_SECRET), host="127.0.0.1")
    await server.start_server()
    yield Backend(str(server.make_url("")).rstrip("/"), db)
    await server.close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in tens of milliseconds, not seconds: the same doubling and jitter."""
    monkeypatch.setattr(deliveries, "BACKOFF_FIRST_SECONDS", 0.02)
    monkeypatch.setattr(deliveries, "POLL_SECONDS", 0.05)


async def shop_client(
    aiohttp_client: Any, database_url: str, rasa_port: int, backend: Backend, **extra: str
) -> TestClient:
    shop = {
        "SHOP_CONNECTOR": "http",
        "SHOP_URL": backend.url,
        "SHOP_SECRET": SHOP_SECRET,
        "SHOP_TIMEOUT_SECONDS": "1",
    }
    settings = settings_for(database_url, rasa_port, **(shop | extra))
    client: TestClient = await aiohttp_client(create_app(settings))
    client.app[SERVICES].now = lambda: OPEN_HOURS
    return client


@pytest.fixture
async def client(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int], backend: Backend
) -> TestClient:
    return await shop_client(aiohttp_client, database_url, fake_rasa[1], backend)
