"""The real Rasa server with its action server down: the customer is told and handed to a person
(reason bot_unavailable), not left waiting for an answer that never comes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.ops import launcher
from bot.settings import Settings
from tests.e2e.conftest import running, stack_environment
from tests.e2e.test_lifecycle import World, answered_as_fresh, resolved, returned
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


@pytest.fixture
def actions_down_then_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, Callable[[], None]]]:
    """A stack whose action server starts only when the test calls the second item."""
    var: Path = tmp_path_factory.mktemp("actions-later")
    env = stack_environment(var)
    with running(var, env, without=("actions",)) as settings:
        later = [
            s for s in launcher.services(settings, launcher.model_path()) if s.name == "actions"
        ]
        try:
            yield (
                settings,
                lambda: launcher.start(later, settings, env_overrides=env, logs=var / "log"),
            )
        finally:
            launcher.stop(later)


async def test_after_a_bot_unavailable_handoff_the_bot_answers_once_it_is_back(
    actions_down_then_back: tuple[Settings, Callable[[], None]],
) -> None:
    """Recovery after bot_unavailable, returned by the agent and resolved then written to again:
    Rasa's tracker was never paused there, and still the next question gets one right answer."""
    settings, start_actions = actions_down_then_back
    async with aiohttp.ClientSession() as http:
        world = World(settings, http, f"http://127.0.0.1:{settings.port}")
        returned_one, resolved_one = await world.customer(), await world.customer()
        for customer in (returned_one, resolved_one):
            await customer.say("how much is shipping?")
            await customer.until(lambda body: body["mode"] == "queued")
        start_actions()
        agent = await world.desk()
        await agent.claim(returned_one.cid)
        await returned(agent, returned_one)
        await answered_as_fresh(returned_one)
        await agent.claim(resolved_one.cid)
        await resolved(agent, resolved_one)
        await answered_as_fresh(resolved_one)
        await world.close()
