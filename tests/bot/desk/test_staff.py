"""Desk accounts (bot/desk/staff.py): the languages a person speaks with customers, and sign-in
throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from bot.desk.staff import (
    MAX_DELAY,
    StaffError,
    Throttled,
    create_user,
    sign_in,
    throttle_delay,
    unlock,
)
from bot.services import SERVICES
from tests.bot.helpers import PASSWORD, make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ATTACKER, OWNER = "203.0.113.9", "198.51.100.4"


async def _try(client: TestClient, password: str, address: str, at: datetime) -> str:
    async with client.app[SERVICES].sessions.begin() as session:
        try:
            signed_in = await sign_in(session, "sup", password, address, now=at)
        except Throttled:
            return "throttled"
        return "in" if signed_in else "wrong"


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


async def test_guessing_from_one_address_does_not_lock_the_account_for_its_owner_elsewhere(
    client: TestClient,
) -> None:
    await make_user(client, "sup", role="supervisor")
    tries = [await _try(client, "guess", ATTACKER, T0 + timedelta(seconds=n)) for n in range(120)]
    assert tries.count("wrong") == 8  # at 0, 1, 2, 4, 8, 16, 32 and 64 s; the rest waited
    assert await _try(client, PASSWORD, ATTACKER, T0 + timedelta(seconds=120)) == "throttled"
    assert await _try(client, PASSWORD, OWNER, T0 + timedelta(seconds=121)) == "in"
    # the owner's success does not forgive the attacker's guesses
    assert await _try(client, PASSWORD, ATTACKER, T0 + timedelta(seconds=122)) == "throttled"


async def test_failed_sign_ins_from_one_pair_wait_longer_each_time(client: TestClient) -> None:
    await make_user(client, "sup", role="supervisor")
    at = T0
    for _ in range(3):  # the first few typos cost nothing
        assert await _try(client, "typo", ATTACKER, at) == "wrong"
    waits = []
    for _ in range(4):
        wait = throttle_delay(len(waits) + 3)
        assert await _try(client, "typo", ATTACKER, at + wait - timedelta(seconds=1)) == (
            "throttled"
        )
        at += wait
        assert await _try(client, "typo", ATTACKER, at) == "wrong"
        waits.append(wait)
    assert waits == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert throttle_delay(100) == MAX_DELAY
    assert await _try(client, PASSWORD, ATTACKER, at + throttle_delay(7)) == "in"


async def test_unlock_lets_a_throttled_user_sign_in_at_once(client: TestClient) -> None:
    await make_user(client, "sup", role="supervisor")
    for n in range(10):
        await _try(client, "guess", ATTACKER, T0 + timedelta(seconds=n))
    assert await _try(client, PASSWORD, ATTACKER, T0 + timedelta(seconds=11)) == "throttled"
    async with client.app[SERVICES].sessions.begin() as session:
        assert await unlock(session, "sup") == 5  # at 0, 1, 2, 4 and 8 s
    assert await _try(client, PASSWORD, ATTACKER, T0 + timedelta(seconds=11)) == "in"
