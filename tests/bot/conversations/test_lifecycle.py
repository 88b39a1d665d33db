"""Every path through a conversation's life, explored: the model in lifecycle_machine.py against
the real service and database (SQLite and PostgreSQL) with the scripted Rasa.

Bounded here (seeded, so a failure replays); `make explore` runs the same machine for longer with
a random seed it prints. The graph itself (bot/conversations/lifecycle.py) is checked directly
below.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.conversations.lifecycle import TRANSITIONS, IllegalMove, Work, move
from bot.db.models import Mode, utcnow
from bot.services import SERVICES
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for
from tests.bot.conversations.lifecycle_machine import Harness, explore, settle_in_process
from tests.bot.processes import NO_RATE_LIMITS

# `make explore` sets these (and a seed); `make test` explores a bounded, fixed sample.
EXAMPLES = int(os.environ.get("LIFECYCLE_EXAMPLES", "20"))
STEPS = int(os.environ.get("LIFECYCLE_STEPS", "40"))
EXPLORING = "LIFECYCLE_EXAMPLES" in os.environ


def test_every_path_through_a_conversations_life_keeps_the_invariants(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    fake = FakeRasa()
    rasa = TestServer(fake.app(), host="127.0.0.1")
    loop.run_until_complete(rasa.start_server())
    service = TestServer(
        create_app(settings_for(database_url, int(rasa.port or 0), **NO_RATE_LIMITS)),
        host="127.0.0.1",
    )
    loop.run_until_complete(service.start_server())
    service.app[SERVICES].now = lambda: OPEN_HOURS
    harness = Harness(
        base=str(service.make_url("")).rstrip("/"),
        database_url=database_url,
        faq=[(q, f"echo: {q}") for q in ("how much is shipping", "do you ship to Alaska")],
        handoff_text="hand me over",
        fail_text="please fail",
        settle=settle_in_process(service.app),
        confirms=lambda text: text.startswith("confirmed: resolved"),
    )
    try:
        explore(harness, loop, EXAMPLES, STEPS, seeded=not EXPLORING)
    finally:
        loop.run_until_complete(service.close())
        loop.run_until_complete(rasa.close())
        loop.close()


def test_the_graph_reaches_every_mode_and_leads_back_to_the_bot() -> None:
    modes = {to for _, to in TRANSITIONS}
    assert modes == set(Mode)
    # from every mode there is a way back to the bot
    back = {Mode.BOT}
    while True:
        more = {start for start, to in TRANSITIONS if to in back and start is not None} - back
        if not more:
            break
        back |= more
    assert back == set(Mode)


async def test_a_move_the_graph_does_not_allow_is_refused_before_touching_the_database() -> None:
    with pytest.raises(IllegalMove):
        await move(
            Work(session=None, now=utcnow()), "any", Mode.BOT, Mode.ASSIGNED, "claimed", "ana"
        )  # type: ignore[arg-type]
