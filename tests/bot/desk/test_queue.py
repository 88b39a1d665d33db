"""Opening a handoff (bot/desk/queue.py open_handoff): the conversation takes the language the
customer writes in, from the brief."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bot.db.models import Conversation
from bot.desk.queue import open_handoff
from bot.services import SERVICES
from tests.bot.helpers import start


async def handoff(
    client: TestClient, brief_language: object
) -> tuple[str, list[tuple[str, dict[str, object]]]]:
    """The conversation's language after the handoff, and the frames the handoff sent."""
    cid, _ = await start(client)  # the page says en
    services = client.app[SERVICES]
    async with services.work() as work:
        brief = {"reason": "explicit_request", "language": brief_language}
        assert await open_handoff(work, cid, brief, actor="bot", policy_version=None)
    async with services.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        return conversation.language, work.frames


async def test_the_language_the_customer_writes_in_becomes_the_conversations(
    client: TestClient,
) -> None:
    language, frames = await handoff(client, "vi")
    assert language == "vi"
    # and the customer's widget is told with the frame that says a person is coming
    [(_, frame)] = [f for f in frames if f[1].get("type") == "mode"]
    assert (frame["mode"], frame["language"]) == ("queued", "vi")


@pytest.mark.parametrize("brief_language", [None, "", "vietnamese", "VI", 7, ["vi"]])
async def test_a_brief_without_a_language_code_keeps_the_pages(
    client: TestClient, brief_language: object
) -> None:
    language, frames = await handoff(client, brief_language)
    assert language == "en"
    assert all("language" not in frame for _, frame in frames)
