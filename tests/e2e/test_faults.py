"""The real Rasa server with its action server down: the customer is told and handed to a person
(reason bot_unavailable), not left waiting for an answer that never comes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.settings import Settings
from tests.e2e.conftest import running, stack_environment
from tests.e2e.test_service import next_of, start_conversation

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def without_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    var: Path = tmp_path_factory.mktemp("no-actions")
    # nothing listens on ACTION_PORT
    with running(var, stack_environment(var), without=("actions",)) as settings:
        yield settings


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
