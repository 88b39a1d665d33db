"""Desk accounts (bot/desk/staff.py): the languages a person speaks with customers."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bot.desk.staff import StaffError, create_user
from bot.services import SERVICES
from tests.bot.helpers import PASSWORD


async def test_a_desk_user_speaks_the_languages_given_english_when_none_are(
    client: TestClient,
) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        linh = await create_user(
            session, username="linh", display_name="Linh", role="agent", password=PASSWORD,
            languages=("vi", "en", "vi"),
        )  # fmt: skip
        ana = await create_user(
            session, username="ana2", display_name="Ana", role="agent", password=PASSWORD
        )
        assert (linh.spoken, ana.spoken) == (("vi", "en"), ("en",))


@pytest.mark.parametrize("languages", [("fr",), (), ("en", "VI")])
async def test_languages_the_bot_does_not_serve_are_refused(
    client: TestClient, languages: tuple[str, ...]
) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        with pytest.raises(StaffError, match="languages must be one or more of en, vi, id, zh"):
            await create_user(
                session, username="x", display_name="X", role="agent", password=PASSWORD,
                languages=languages,
            )  # fmt: skip
