"""The real Rasa server with its action server down: the customer is told and handed to a person
(reason bot_unavailable), not left waiting for an answer that never comes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot import launcher
from bot.settings import Settings, load_settings
from tests.e2e.conftest import free_port
from tests.e2e.test_service import next_of, start_conversation

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def without_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    var: Path = tmp_path_factory.mktemp("no-actions")
    env = {
        "BOT_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),  # nothing listens there
        "RASA_JWT_SECRET": secrets.token_urlsafe(32),
        "BOT_SECRET": secrets.token_urlsafe(32),
        "CUSTOMER_IDENTITY_SECRET": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var}/bot.db",
        "RASA_TRACKER_STORE_URL": f"sqlite:///{var}/tracker.db",
    }
    settings = load_settings(env)
    running = [s for s in launcher.services(settings, launcher.model_path()) if s.name != "actions"]
    try:
        launcher.start(running, settings, timeout=180, env_overrides=env, logs=var / "log")
        yield settings
    finally:
        launcher.stop(running)


async def test_action_server_down_hands_the_customer_to_a_person(without_actions: Settings) -> None:
    started = start_conversation(without_actions)
    url = (
        f"http://127.0.0.1:{without_actions.port}/api/conversations/{started['conversation_id']}/ws"
    )
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "token": started["token"]})
        await next_of(ws, type="mode")
        await ws.send_json(
            {"type": "message", "client_msg_id": "a1", "text": "how much is shipping?"}
        )
        notice = await next_of(ws, type="message", role="system")  # not a bot going in circles
        assert "passing our conversation to a person" in notice["text"]
        mode = await next_of(ws, type="mode")
        assert (mode["mode"], mode["reason"]) == ("queued", "bot_unavailable")
