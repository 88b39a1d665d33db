"""Customer records read through to the shop's backend, copied here, and shown marked stale
(never as current) when it does not answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient

from bot.db.models import utcnow
from tests.bot.helpers import sign_in
from tests.bot.shop.conftest import Backend

MAYA = "C1001"


async def test_the_desk_reads_the_shops_record_and_says_how_fresh_it_is(
    client: TestClient, backend: Backend
) -> None:
    agent = await sign_in(client, "ana")
    record = await agent.json("GET", f"/desk/api/customers/{MAYA}")
    assert (record["name"], record["stale"]) == ("Maya Thompson", None)
    assert utcnow() - datetime.fromisoformat(record["as_of"]) < timedelta(seconds=30)
    assert [o["id"] for o in record["orders"]] == ["71042388", "71039951"]
    backend.rows("UPDATE customers SET credit_balance_cents = 4200 WHERE id = ?", MAYA)
    assert (await agent.json("GET", f"/desk/api/customers/{MAYA}"))["credit_balance_cents"] == 4200


async def test_when_the_shop_does_not_answer_the_copy_is_shown_as_stale(
    client: TestClient, backend: Backend
) -> None:
    agent = await sign_in(client, "ana")
    fresh = await agent.json("GET", f"/desk/api/customers/{MAYA}")
    backend.rows("UPDATE customers SET credit_balance_cents = 4200 WHERE id = ?", MAYA)
    await backend.control(fail_next=1000)
    stale = await agent.json("GET", f"/desk/api/customers/{MAYA}")
    assert stale["credit_balance_cents"] == fresh["credit_balance_cents"]  # the copy's figure
    assert stale["as_of"] == fresh["as_of"]  # ... and when it was read, not now
    assert stale["stale"].startswith("The shop's systems are not answering")
    never_read = await agent.json("GET", "/desk/api/customers/C1002")
    assert set(never_read) == {"id", "stale"}  # no figures at all rather than made-up ones


async def test_a_slow_shop_is_not_waited_for_past_the_timeout(
    client: TestClient, backend: Backend
) -> None:
    agent = await sign_in(client, "ana")
    await agent.json("GET", f"/desk/api/customers/{MAYA}")
    await backend.control(slow_seconds=3)  # SHOP_TIMEOUT_SECONDS is 1
    started = utcnow()
    stale = await agent.json("GET", f"/desk/api/customers/{MAYA}")
    assert utcnow() - started < timedelta(seconds=2.5)
    assert stale["stale"] == "The shop's systems are not answering"


async def test_unknown_customers_and_searches_go_to_the_shop(
    client: TestClient, backend: Backend
) -> None:
    agent = await sign_in(client, "ana")
    assert (await agent.get("/desk/api/customers/C9999")).status == 404
    found = await agent.json("GET", "/desk/api/customers?q=okafor")
    assert found == {
        "customers": [
            {
                "id": "C1002",
                "name": "Daniel Okafor",
                "email": "d.okafor@example.com",
                "phone": "+1 512 555 0187",
            }
        ]
    }
    await backend.control(fail_next=1)
    down = await agent.get("/desk/api/customers?q=okafor")
    assert down.status == 503
    assert (await down.json())["error"] == "shop_unavailable"


async def test_readyz_reports_the_shop_without_making_the_service_unready(
    client: TestClient, backend: Backend
) -> None:
    ready = await client.get("/readyz")
    assert (ready.status, (await ready.json())["shop"]) == (200, "ok")
    await backend.control(fail_next=1)
    down = await client.get("/readyz")
    assert (down.status, (await down.json())["shop"]) == (200, "unavailable")
