from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from actions.handoff.policy import PolicyError
from bot.app import create_app
from bot.settings import ROOT, Settings, load_settings


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_in(tmp_path: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "RASA_JWT_SECRET": "x" * 40,
            "BOT_SECRET": "b" * 40,
            "CUSTOMER_IDENTITY_SECRET": "c" * 40,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
            "RASA_PORT": str(unused_port()),
            **extra,
        }
    )


async def test_readyz_says_when_rasa_is_unavailable_and_healthz_that_the_service_lives(
    aiohttp_client, tmp_path
) -> None:
    settings = settings_in(tmp_path)
    client: TestClient = await aiohttp_client(create_app(settings))
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["rasa"] == "unavailable"
    alive = await client.get("/healthz")
    assert (alive.status, await alive.json()) == (200, {"service": "ok"})


async def test_readyz_says_when_the_action_server_is_down(client: TestClient, fake_rasa) -> None:
    """While the launcher restarts a crashed action server, the service says so."""
    assert await (await client.get("/readyz")).json() == {
        "service": "ok", "database": "ok", "rasa": "ok", "actions": "ok",
    }  # fmt: skip
    fake_rasa[0].actions_down = True
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["actions"] == "unavailable"
    assert (await client.get("/healthz")).status == 200


async def test_start_up_fails_clearly_on_a_bad_policy_file(tmp_path) -> None:
    data = yaml.safe_load((ROOT / "policy.yml").read_text())
    data["desk"]["hours"]["timezone"] = "Mars/Olympus"
    policy = tmp_path / "policy.yml"
    policy.write_text(yaml.safe_dump(data))
    settings = settings_in(tmp_path, POLICY_FILE=str(policy))
    runner = web.AppRunner(create_app(settings))
    with pytest.raises(
        PolicyError, match=rf"{re.escape(str(policy))}: 'desk.hours.timezone': expected an IANA"
    ):
        await runner.setup()  # the start-up (cleanup_ctx) that web.run_app runs first
    await runner.cleanup()
