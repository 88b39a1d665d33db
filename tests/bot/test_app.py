from __future__ import annotations

import socket

from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.settings import load_settings


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_healthz_says_when_rasa_is_unavailable(aiohttp_client, tmp_path) -> None:
    settings = load_settings(
        {
            "RASA_JWT_SECRET": "x" * 40,
            "BOT_SECRET": "b" * 40,
            "CUSTOMER_IDENTITY_SECRET": "c" * 40,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
            "RASA_PORT": str(unused_port()),
        }
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    response = await client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"service": "ok", "rasa": "unavailable"}
