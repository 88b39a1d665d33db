"""A customer handed to a person is told when nobody online speaks their language, in it, and
offered an English-speaking agent or a call-back (bot/rasa/turn.py, the availability notice)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bot.desk.presence import touch
from bot.desk.staff import create_user
from bot.services import SERVICES
from tests.bot.helpers import PASSWORD, send, start, wait_for


async def online(client: TestClient, username: str, languages: tuple[str, ...]) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        user = await create_user(
            session, username=username, display_name=username, role="agent",
            password=PASSWORD, languages=languages,
        )  # fmt: skip
        await touch(session, user.id)


async def handed_over(client: TestClient, language: str) -> list[dict[str, object]]:
    cid, auth = await start(client, language=language)
    await send(client, cid, auth, "hand me over", "m1")
    body = await wait_until_queued(client, cid, auth)
    return [m for m in body["messages"] if m["role"] == "system"]


async def wait_until_queued(client: TestClient, cid: str, auth: dict[str, str]) -> dict:
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    return body


async def test_nobody_online_speaks_it_the_customer_is_told_in_their_language(
    client: TestClient,
) -> None:
    await online(client, "ana", ("en",))
    [notice] = await handed_over(client, "vi")
    text = client.app[SERVICES].policy.message("no_speaker_online", "vi")
    assert notice["text"] == text and "tiếng Việt" in text
    assert (notice["callback"], notice["availability"]) == (True, "no_speaker_online")


@pytest.mark.parametrize(("language", "speaker"), [("vi", ("en", "vi")), ("en", ("en",))])
async def test_someone_online_speaks_it_no_notice(
    client: TestClient, language: str, speaker: tuple[str, ...]
) -> None:
    await online(client, "linh", speaker)
    assert await handed_over(client, language) == []
