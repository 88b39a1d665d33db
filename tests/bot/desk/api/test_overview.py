"""The two reads the desk pages add: every open conversation (supervisors) and the menus."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from actions.handoff.policy import SIGNALS
from tests.bot.helpers import claimed, queued, seed_demo, sign_in


async def test_supervisor_sees_every_open_conversation_with_who_holds_it(
    client: TestClient,
) -> None:
    await seed_demo(client)
    agent = await sign_in(client, "ann")
    held, _ = await claimed(client, agent, customer="C1001")
    waiting, _ = await queued(client)
    supervisor = await sign_in(client, "sue", role="supervisor")
    body = await supervisor.json("GET", "/desk/api/open")
    rows = {row["conversation_id"]: row for row in body["open"]}
    assert set(rows) == {held, waiting}
    assert (rows[held]["status"], rows[held]["agent"], rows[held]["customer"]) == (
        "assigned", "Ann", "Maya Thompson",
    )  # fmt: skip
    assert (rows[waiting]["status"], rows[waiting]["agent"]) == ("waiting", None)
    assert rows[held]["reason"] == "frustration" and rows[held]["summary"] == "test"


async def test_agents_may_not_list_every_open_conversation(client: TestClient) -> None:
    agent = await sign_in(client, "bo")
    response = await agent.get("/desk/api/open")
    assert response.status == 403


async def test_desk_config_offers_the_policy_menus(client: TestClient) -> None:
    agent = await sign_in(client, "cy")
    body = await agent.json("GET", "/desk/api/desk-config")
    assert "resolved" in body["wrap_ups"] and "credited" in body["wrap_ups"]
    assert body["teams"] == ["general", "pharmacy", "billing"]
    assert body["remedies"] == ["credit", "refund", "fee_waiver", "replacement"]
    assert body["audit_threshold_cents"] == 25000
    # every signal the policy may name has the words agents see for it
    assert body["signal_labels"]["threat_to_leave"] == "Threatens to leave"
    assert set(body["signal_labels"]) == set(SIGNALS)
