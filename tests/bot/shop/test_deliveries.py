"""Grants delivered to the shop's backend through the outbox: exactly once per grant, whatever
the backend does (fails, fails after committing, hangs, refuses), and shown as they stand."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from aiohttp.test_utils import TestClient

from bot.db.models import Delivery
from bot.desk import remedies
from bot.services import SERVICES
from bot.shop import deliveries
from bot.shop.deliveries import BACKOFF_MOST_SECONDS, backoff
from tests.bot.helpers import Agent, claimed, sign_in
from tests.bot.shop.conftest import Backend, shop_client

MAYA = "C1001"  # the backend's demo data: order 71042388 ($64.99, free shipping)


def remedy(kind: str, cents: int | None, order: str = "71042388") -> dict[str, Any]:
    return {"kind": kind, "order_id": order, "amount_cents": cents, "reason": "box was late"}


async def with_maya(
    client: TestClient, username: str = "ana", role: str = "agent"
) -> tuple[Agent, str]:
    agent = await sign_in(client, username, role=role)
    cid, _ = await claimed(client, agent, customer=MAYA)
    return agent, cid


async def delivery(client: TestClient, grant_id: int) -> Delivery:
    async with client.app[SERVICES].sessions() as session:
        found = await session.get(Delivery, grant_id, populate_existing=True)
        assert found is not None
        return found


async def settled(client: TestClient, grant_id: int, timeout: float = 10) -> Delivery:
    """The delivery once it is no longer pending (or still pending at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await delivery(client, grant_id)
        if found.state != "pending" or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


def executed(backend: Backend) -> list[tuple[Any, ...]]:
    return backend.rows("SELECT key, kind, amount_cents, order_id FROM remedies")


def balance(backend: Backend) -> int:
    return int(backend.rows("SELECT credit_balance_cents FROM customers WHERE id = ?", MAYA)[0][0])


async def test_a_credit_reaches_the_shop_once_and_the_desk_sees_it_done(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    before = balance(backend)
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 1500), 201
    )
    assert made["delivery"]["state"] == "pending"  # committed; the shop has not confirmed yet
    done = await settled(client, made["grant_id"])
    assert (done.state, done.attempts, done.reference) == ("done", 1, "SHOP-1")
    assert executed(backend) == [(f"grant-{made['grant_id']}", "credit", 1500, "71042388")]
    assert balance(backend) == before + 1500
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["grants"][0]["delivery"]["state"] == "done"
    assert view["customer"]["credit_balance_cents"] == before + 1500  # read from the shop again
    assert view["customer"]["stale"] is None


async def test_a_shop_failing_twice_gets_the_grant_on_the_third_attempt_once(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")  # the record is copied first
    # the first failure is the grant's read of the latest figures (it goes on with the copy),
    # the next two are deliveries
    await backend.control(fail_next=3)
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 700), 201
    )
    done = await settled(client, made["grant_id"])
    assert (done.state, done.attempts) == ("done", 3)
    assert (await backend.requests())["by_key"][f"grant-{made['grant_id']}"] == 3
    assert len(executed(backend)) == 1


async def test_a_shop_that_commits_then_fails_is_asked_again_and_executes_nothing_twice(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    before = balance(backend)
    await backend.control(apply_then_fail_next=1)
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 900), 201
    )
    done = await settled(client, made["grant_id"])
    assert (done.state, done.attempts) == ("done", 2)
    assert len(executed(backend)) == 1
    assert balance(backend) == before + 900


async def test_a_shop_that_does_not_answer_in_time_is_asked_again_under_the_same_key(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")
    await backend.control(slow_seconds=1.5)  # SHOP_TIMEOUT_SECONDS is 1
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 500), 201
    )
    first = await delivery(client, made["grant_id"])
    for _ in range(100):  # wait for the first attempt to time out
        first = await delivery(client, made["grant_id"])
        if first.attempts:
            break
        await asyncio.sleep(0.05)
    assert (first.state, first.attempts) == ("pending", 1)
    assert first.last_error is not None and "no answer within 1 s" in first.last_error
    await backend.control(slow_seconds=0)
    done = await settled(client, made["grant_id"])
    assert done.state == "done"
    await asyncio.sleep(1)  # the slow first request, still running at the backend, has ended
    assert len(executed(backend)) == 1


async def test_a_grant_is_checked_against_the_shops_latest_figures(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")  # the copy: nothing refunded yet
    backend.rows("UPDATE orders SET refunded_cents = total_cents WHERE id = '71042388'")
    refused = await agent.post(f"/desk/api/conversations/{cid}/grants", remedy("refund", 1000))
    assert refused.status == 409
    assert (await refused.json())["message"] == "only 0 cents of this order are left to refund"


async def test_a_refusal_fails_at_once_and_the_customer_is_not_told_it_was_done(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")  # the copy: nothing refunded yet
    # the shop refunds the order in full elsewhere, and does not answer the grant's read
    backend.rows("UPDATE orders SET refunded_cents = total_cents WHERE id = '71042388'")
    await backend.control(fail_next=1)
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("refund", 1000), 201
    )
    failed = await settled(client, made["grant_id"])
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error == "refused by the shop: only 0 cents of order 71042388 are left"
    assert executed(backend) == []
    async with client.app[SERVICES].sessions() as session:
        slots = await remedies.outcome_slots(session, cid, "resolved")
    assert slots["remedy_summary"] is None


async def test_a_supervisor_sees_what_was_given_up_on_and_retries_or_cancels_it(
    aiohttp_client: Any,
    database_url: str,
    fake_rasa: Any,
    backend: Backend,
) -> None:
    client = await shop_client(
        aiohttp_client, database_url, fake_rasa[1], backend, SHOP_MAX_ATTEMPTS="2"
    )
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")
    await backend.control(fail_next=1000)
    first = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 300), 201
    )
    second = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 200), 201
    )
    for made in (first, second):
        gave_up = await settled(client, made["grant_id"])
        assert (gave_up.state, gave_up.attempts) == ("failed", 2)
        assert gave_up.last_error is not None and "gave up after 2 attempts" in gave_up.last_error
    boss = await sign_in(client, "grace", role="supervisor")
    listed = await boss.json("GET", "/desk/api/deliveries")
    assert {row["grant_id"] for row in listed["deliveries"]} == {
        first["grant_id"],
        second["grant_id"],
    }
    assert all(row["delivery"]["state"] == "failed" for row in listed["deliveries"])
    assert (await agent.post(f"/desk/api/deliveries/{first['grant_id']}/retry")).status == 403
    await backend.control(fail_next=0)
    await boss.json("POST", f"/desk/api/deliveries/{first['grant_id']}/retry")
    await boss.json("POST", f"/desk/api/deliveries/{second['grant_id']}/cancel")
    assert (await settled(client, first["grant_id"])).state == "done"
    assert (await delivery(client, second["grant_id"])).state == "cancelled"
    # what was cancelled gave nothing: only the delivered $3 counts against the agent's $25
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["authority"]["credit"]["per_conversation"] == 2500 - 300
    assert [row[2] for row in executed(backend)] == [300]
    again = await boss.post(f"/desk/api/deliveries/{second['grant_id']}/retry")
    assert again.status == 409  # only a failed delivery is retried
    assert (await boss.json("GET", "/desk/api/deliveries"))["deliveries"] == []


async def test_a_replacement_is_valued_here_and_numbered_by_the_shop(
    client: TestClient, backend: Backend
) -> None:
    agent, cid = await with_maya(client, role="senior")  # authority for two replacements
    await agent.json("GET", f"/desk/api/conversations/{cid}")
    await backend.control(fail_next=1000)  # the first stays on its way
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("replacement", None), 201
    )
    assert made["amount_cents"] == 6499  # the lines' value, from the shop's order
    second = await agent.post(f"/desk/api/conversations/{cid}/grants", remedy("replacement", None))
    assert second.status == 409  # one per order (policy.yml), counting the one on its way
    assert "has a replacement on its way already" in (await second.json())["message"]
    await backend.control(fail_next=0)
    done = await settled(client, made["grant_id"])
    assert done.result is not None and done.result["replacement_order_id"] == "71042388-R1"
    assert backend.rows("SELECT id FROM orders WHERE replaces_order_id = '71042388'") == [
        ("71042388-R1",)
    ]
    await agent.json("GET", f"/desk/api/conversations/{cid}")  # the shop's R1 is copied here
    third = await agent.post(f"/desk/api/conversations/{cid}/grants", remedy("replacement", None))
    assert third.status == 409 and "already replaced" in (await third.json())["message"]


async def test_the_desk_hears_each_change_of_state(client: TestClient, backend: Backend) -> None:
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")
    async with client.ws_connect("/desk/ws", headers={"Cookie": agent.headers()["Cookie"]}) as ws:
        made = await agent.json(
            "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 100), 201
        )
        while True:
            frame = await ws.receive_json(timeout=5)
            if frame.get("type") == "delivery":
                break
    assert frame == {
        "type": "delivery",
        "grant_id": made["grant_id"],
        "state": "done",
        "conversation_id": cid,
    }


async def test_metrics_show_grants_by_state_and_the_outbox_lag(
    aiohttp_client: Any, database_url: str, fake_rasa: Any, backend: Backend
) -> None:
    token = "m" * 40
    client = await shop_client(
        aiohttp_client, database_url, fake_rasa[1], backend, METRICS_TOKEN=token
    )
    agent, cid = await with_maya(client)
    await agent.json("GET", f"/desk/api/conversations/{cid}")
    await backend.control(fail_next=1000)
    made = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 100), 201
    )
    await asyncio.sleep(0.5)
    scraped = await (
        await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    ).text()
    assert 'bot_grants{state="pending"} 1.0' in scraped
    assert 'bot_grants{state="done"} 0.0' in scraped
    lag = next(
        line for line in scraped.splitlines() if line.startswith("bot_grants_outbox_lag_seconds ")
    )
    assert 0.3 < float(lag.split()[1]) < 30
    assert 'bot_grant_deliveries_total{outcome="retry"}' in scraped
    assert (await delivery(client, made["grant_id"])).state == "pending"


def test_backoff_doubles_with_jitter_up_to_its_ceiling() -> None:
    rng = random.Random(7)
    waits = [[backoff(n, rng) for _ in range(200)] for n in range(1, 20)]
    for n, drawn in enumerate(waits, start=1):
        ceiling = min(BACKOFF_MOST_SECONDS, deliveries.BACKOFF_FIRST_SECONDS * 2 ** (n - 1))
        assert all(ceiling / 2 <= w <= ceiling for w in drawn)
        assert max(drawn) - min(drawn) > ceiling / 4  # spread, not all at one instant


async def test_calls_the_shop_cannot_verify_are_refused_by_it_and_nothing_is_executed(
    aiohttp_client: Any, database_url: str, fake_rasa: Any, backend: Backend
) -> None:
    right = await shop_client(aiohttp_client, database_url, fake_rasa[1], backend)
    agent, cid = await with_maya(right)
    await agent.json("GET", f"/desk/api/conversations/{cid}")  # copied with the right secret
    await right.close()  # its worker would deliver what the other one grants
    # the same database, a service whose secret the shop does not share
    wrong = await shop_client(
        aiohttp_client, database_url, fake_rasa[1], backend,
        SHOP_SECRET="z" * 40, SHOP_MAX_ATTEMPTS="2",
    )  # fmt: skip
    impostor = Agent(wrong, agent.cookie, agent.csrf)
    view = await impostor.json("GET", f"/desk/api/conversations/{cid}")
    assert view["customer"]["stale"] == "The shop's systems are not answering"
    made = await impostor.json(
        "POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 400), 201
    )
    failed = await settled(wrong, made["grant_id"])
    assert failed.state == "failed"
    assert (
        failed.last_error == "gave up after 2 attempts: HTTP 401: X-Shop-Signature does not match"
    )
    assert executed(backend) == []
