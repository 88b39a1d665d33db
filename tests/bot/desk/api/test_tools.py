"""What agents have one click away, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.services import SERVICES
from tests.bot.helpers import claimed, queued, seed_demo, sign_in


async def test_canned_replies_come_from_the_policy_file(client: TestClient) -> None:
    agent = await sign_in(client, "ada")
    replies = (await agent.json("GET", "/desk/api/canned-replies"))["replies"]
    policy = client.app[SERVICES].policy
    assert [r["id"] for r in replies] == [r.id for r in policy.desk.canned_replies]
    assert all(r["title"] and r["text"] for r in replies)


async def test_faq_search_finds_the_bots_own_answer(client: TestClient) -> None:
    agent = await sign_in(client, "bo")
    found = (await agent.json("GET", "/desk/api/faq?q=cancel+my+autoship"))["answers"]
    assert found[0]["topic"] == "autoship_cancel"
    assert found[0]["text"].startswith("You can cancel")
    assert (await agent.json("GET", "/desk/api/faq?q=zzzz"))["answers"] == []


async def test_customer_lookup_by_email_name_phone_or_order_and_link(client: TestClient) -> None:
    await seed_demo(client)
    agent = await sign_in(client, "cy")
    for query in ("maya.t@example", "thompson", "614 555", "71042388", "C1001"):
        found = (await agent.json("GET", f"/desk/api/customers?q={query}"))["customers"]
        assert [c["id"] for c in found] == ["C1001"], query
    assert (await agent.json("GET", "/desk/api/customers?q=ma"))["customers"] == []  # too short
    cid, _ = await claimed(client, agent)  # an anonymous visitor
    assert (await agent.json("GET", f"/desk/api/conversations/{cid}"))["customer"] is None
    missing = await agent.post(f"/desk/api/conversations/{cid}/customer", {"customer_id": "C9"})
    assert missing.status == 409
    await agent.json("POST", f"/desk/api/conversations/{cid}/customer", {"customer_id": "C1001"})
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["customer"]["name"] == "Maya Thompson"
    assert [e["kind"] for e in view["events"]][-1] == "customer_linked"


async def test_designer_sees_no_customer_records(client: TestClient) -> None:
    await seed_demo(client)
    agent = await sign_in(client, "eli")
    designer = await sign_in(client, "dan", role="designer")
    cid, _ = await claimed(client, agent, customer="C1001")
    for path in (
        "/desk/api/customers?q=thompson",
        "/desk/api/customers?q=71042388",
        "/desk/api/customers/C1001",
        f"/desk/api/conversations/{cid}",
    ):
        response = await designer.get(path)
        assert response.status == 403, path
        assert "Thompson" not in await response.text()
    linked = await designer.post(f"/desk/api/conversations/{cid}/customer", {"customer_id": "C1"})
    assert linked.status == 403
    assert (await agent.json("GET", "/desk/api/customers/C1001"))["name"] == "Maya Thompson"


async def test_colleagues_list_who_is_online_and_the_teams(client: TestClient) -> None:
    agent = await sign_in(client, "dee")
    await sign_in(client, "pia", team="pharmacy")
    await sign_in(client, "des", role="designer")
    async with client.ws_connect("/desk/ws", headers={"Cookie": agent.headers()["Cookie"]}) as ws:
        await ws.receive_json(timeout=5)  # presence recorded, queue change announced
        body = await agent.json("GET", "/desk/api/colleagues")
    people = {u["username"]: u for u in body["users"]}
    assert set(people) == {"dee", "pia"}  # designers take no conversations
    assert people["dee"]["online"] and not people["pia"]["online"]
    assert people["pia"]["team"] == "pharmacy"
    assert body["teams"] == ["general", "pharmacy", "billing"]


async def test_supervisor_sees_live_figures(client: TestClient) -> None:
    boss = await sign_in(client, "eva", role="supervisor")
    await queued(client)
    await queued(client, "please fail")
    stats = await boss.json("GET", "/desk/api/stats")
    assert (stats["waiting"], stats["assigned"]) == (2, 0)
    assert stats["handoffs_last_hour"] == {"frustration": 1, "bot_unavailable": 1}
    assert stats["longest_wait_seconds"] >= 0 and stats["pending_approvals"] == 0
