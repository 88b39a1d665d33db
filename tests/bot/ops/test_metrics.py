"""/metrics as Prometheus scrapes it: off without a token, refused without it, and counting what
the test did (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.services import SERVICES
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for
from tests.bot.helpers import queued, send, start, wait_for, wait_until

TOKEN = "m" * 40
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


async def _client(aiohttp_client: Any, database_url: str, rasa_port: int, **extra: str) -> Any:
    made = await aiohttp_client(create_app(settings_for(database_url, rasa_port, **extra)))
    made.app[SERVICES].now = lambda: OPEN_HOURS
    return made


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, labels): value}."""
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }


async def test_metrics_are_not_served_without_a_token_setting_nor_to_a_wrong_token(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    off = await _client(aiohttp_client, database_url, fake_rasa[1])
    assert (await off.get("/metrics", headers=SCRAPER)).status == 404
    on = await _client(aiohttp_client, database_url, fake_rasa[1], METRICS_TOKEN=TOKEN)
    assert (await on.get("/metrics")).status == 401
    wrong = {"Authorization": "Bearer " + "x" * 40}
    refused = await on.get("/metrics", headers=wrong)
    assert refused.status == 401
    assert "bot_messages" not in await refused.text()


async def test_the_counters_match_what_customers_and_the_bot_did(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    client = await _client(aiohttp_client, database_url, fake_rasa[1], METRICS_TOKEN=TOKEN)
    cid, auth = await start(client)
    for n in range(3):
        await send(client, cid, auth, f"question {n}", f"m{n}")
    await wait_for(client, cid, auth, 6)  # three answered
    await queued(client)  # one more customer, handed over by the bot ("frustration")
    failing, failing_auth = await start(client)
    await send(client, failing, failing_auth, "please fail", "f1")  # Rasa answers 500
    await wait_until(client, failing, failing_auth, lambda body: body["mode"] == "queued")

    seen = await scrape(client)
    assert seen[("bot_messages_total", (("role", "customer"),))] == 5
    # three echoes and the handoff's "A person will take over."; the failure's notice is the
    # service's own (system) message, and each handoff may add an availability notice
    assert seen[("bot_messages_total", (("role", "bot"),))] == 4
    assert seen[("bot_handoffs_total", (("reason", "frustration"),))] == 1
    assert seen[("bot_handoffs_total", (("reason", "bot_unavailable"),))] == 1
    assert seen[("bot_rasa_failures_total", (("kind", "error"),))] == 1
    assert seen[("bot_answer_seconds_count", (("outcome", "answered"),))] == 4
    assert seen[("bot_answer_seconds_count", (("outcome", "handed_over"),))] == 1
    assert seen[("bot_queue_waiting", ())] == 2
    assert 0 <= seen[("bot_queue_longest_wait_seconds", ())] < 60  # waiting since the test began
    assert seen[("bot_sockets_active", (("side", "customer"),))] == 0


async def test_open_websockets_are_counted_while_open(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    client = await _client(aiohttp_client, database_url, fake_rasa[1], METRICS_TOKEN=TOKEN)
    cid, auth = await start(client)
    ws = await client.ws_connect(f"/api/conversations/{cid}/ws")
    await ws.send_json({"type": "hello", "token": auth["Authorization"].removeprefix("Bearer ")})
    await ws.receive_json(timeout=5)  # the hello's answer: it is served now
    assert (await scrape(client))[("bot_sockets_active", (("side", "customer"),))] == 1
    await ws.close()
    await wait_gone(client)


async def wait_gone(client: TestClient) -> None:
    for _ in range(100):
        if (await scrape(client))[("bot_sockets_active", (("side", "customer"),))] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the closed socket is still counted")
