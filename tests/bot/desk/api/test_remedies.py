"""Remedies within authority, approvals above it, the audit of large grants: enforced by the
server whatever a page sends, on SQLite and PostgreSQL, against the demo customer records."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.db.models import Customer, Grant, Order
from bot.services import SERVICES
from tests.bot.helpers import Agent, claimed, count, seed_demo, sign_in

MAYA = "C1001"  # orders 71042388 ($64.99, free shipping) and 71039951 ($44.97 with $6.99 shipping)


def remedy(kind: str, cents: int, order: str = "71042388", reason: str = "late") -> dict[str, Any]:
    return {"kind": kind, "order_id": order, "amount_cents": cents, "reason": reason}


async def maya_with(
    client: TestClient, username: str, role: str = "agent", language: str = "en"
) -> tuple[Agent, str]:
    await seed_demo(client)
    agent = await sign_in(client, username, role=role)
    cid, _ = await claimed(client, agent, customer=MAYA, language=language)
    return agent, cid


async def balance(client: TestClient) -> int:
    async with client.app[SERVICES].sessions() as session:
        customer = await session.get(Customer, MAYA, populate_existing=True)
        assert customer is not None
        return customer.credit_balance_cents


async def test_credit_within_authority_is_applied_and_ledgered(client: TestClient) -> None:
    agent, cid = await maya_with(client, "ana")
    late = remedy("credit", 1500, reason="box arrived two days late")
    body = await agent.json("POST", f"/desk/api/conversations/{cid}/grants", late, 201)
    assert body["applied"] == {"credit_balance_cents": 1500}
    version = client.app[SERVICES].policy.version
    assert (body["flagged_for_audit"], body["policy_version"]) == (False, version)
    assert await balance(client) == 1500
    async with client.app[SERVICES].sessions() as session:
        grant = await session.scalar(select(Grant).filter_by(conversation_id=cid))
    assert grant is not None
    row = (grant.kind, grant.amount_cents, grant.order_id, grant.customer_id, grant.actor_role)
    assert row == ("credit", 1500, "71042388", MAYA, "agent")
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["authority"]["credit"] == {"per_conversation": 1000, "per_day": 13500}
    assert view["customer"]["credit_balance_cents"] == 1500


async def test_grant_above_authority_is_refused_whatever_the_page_sends(client: TestClient) -> None:
    agent, cid = await maya_with(client, "ben")
    await agent.json("POST", f"/desk/api/conversations/{cid}/grants", remedy("credit", 2000), 201)
    over = await agent.post(f"/desk/api/conversations/{cid}/grants", remedy("credit", 501))
    assert over.status == 403
    body = await over.json()
    assert body["error"] == "above_authority" and body["remaining"]["per_conversation"] == 500
    assert await balance(client) == 2000
    assert await count(client, Grant, conversation_id=cid) == 1


async def test_two_grants_at_once_cannot_both_fit_under_the_limit(client: TestClient) -> None:
    agent, cid = await maya_with(client, "cy")
    responses = await asyncio.gather(
        *(
            agent.post(f"/desk/api/conversations/{cid}/grants", remedy("credit", 1500))
            for _ in range(4)
        )
    )
    assert sorted(r.status for r in responses) == [201, 403, 403, 403]
    assert await balance(client) == 1500


async def test_bad_remedies_are_refused_and_change_nothing(client: TestClient) -> None:
    agent, cid = await maya_with(client, "di")
    for body, status in [
        (remedy("cash", 100), 409),
        (remedy("credit", 0), 409),
        (remedy("credit", -500), 409),
        (remedy("credit", 100, reason=" "), 409),
        ({**remedy("credit", 100), "amount_cents": "100"}, 400),
        ({**remedy("credit", 100), "amount_cents": 1.5}, 400),
        (remedy("credit", 100, order="71044720"), 403),  # another customer's order
        (remedy("credit", 100, order="nope"), 403),
        (remedy("refund", 7000, order="71039951"), 409),  # more than the order's $44.97
        (remedy("fee_waiver", 700, order="71039951"), 409),  # more than its $6.99 shipping
        (remedy("fee_waiver", 100), 409),  # no shipping was charged on this one
    ]:
        response = await agent.post(f"/desk/api/conversations/{cid}/grants", body)
        assert response.status == status, (body, await response.text())
    assert await count(client, Grant) == 0
    assert await balance(client) == 0


async def test_refund_fee_waiver_and_replacement_change_the_order_record(
    client: TestClient,
) -> None:
    agent, cid = await maya_with(client, "ed")
    grants = f"/desk/api/conversations/{cid}/grants"
    refund = await agent.json("POST", grants, remedy("refund", 1899, order="71039951"), 201)
    assert refund["applied"] == {"refunded_cents": 1899}
    waived = await agent.json("POST", grants, remedy("fee_waiver", 699, order="71039951"), 201)
    assert waived["applied"] == {"fees_waived_cents": 699}
    replaced = await agent.json("POST", grants, remedy("replacement", 6499), 201)
    new_id = replaced["applied"]["replacement_order_id"]
    assert new_id == "71042388-R1"
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    orders = {o["id"]: o for o in view["customer"]["orders"]}
    assert (orders["71039951"]["refunded_cents"], orders["71039951"]["fees_waived_cents"]) == (
        1899, 699,
    )  # fmt: skip
    assert orders[new_id]["replaces_order_id"] == "71042388"
    assert orders[new_id]["total_cents"] == 0


async def test_grant_at_the_audit_threshold_is_made_and_flagged_for_review(
    client: TestClient,
) -> None:
    senior, cid = await maya_with(client, "flo", role="senior")
    async with client.app[SERVICES].sessions.begin() as session:
        order = await session.get(Order, "71042388")
        assert order is not None
        order.total_cents = 40000  # a large order, so a $250 refund fits in it
    made = await senior.json("POST", f"/desk/api/conversations/{cid}/grants",
                             remedy("refund", 25000), 201)  # fmt: skip
    assert made["flagged_for_audit"] is True
    boss = await sign_in(client, "gus", role="supervisor")
    flagged = (await boss.json("GET", "/desk/api/audit"))["flagged"]
    assert [(g["grant_id"], g["actor"], g["amount_cents"]) for g in flagged] == [
        (made["grant_id"], "Flo", 25000)
    ]
    assert (await boss.json("GET", "/desk/api/stats"))["flagged_grants_last_day"] == 1


async def test_above_authority_goes_to_a_supervisor_who_approves_in_one_step(
    client: TestClient,
) -> None:
    agent, cid = await maya_with(client, "hal")
    asked = await agent.json("POST", f"/desk/api/conversations/{cid}/approvals",
                             remedy("credit", 4000, reason="third late box"), 201)  # fmt: skip
    assert await count(client, Grant) == 0  # nothing given until someone with authority says yes
    boss = await sign_in(client, "ivy", role="supervisor")
    [pending] = (await boss.json("GET", "/desk/api/approvals"))["approvals"]
    assert (pending["id"], pending["requested_by"], pending["amount_cents"]) == (
        asked["approval_id"], "Hal", 4000,
    )  # fmt: skip
    decided = await boss.json(
        "POST", f"/desk/api/approvals/{asked['approval_id']}/decide", {"approve": True}
    )
    assert decided["status"] == "approved" and decided["grant_id"]
    twice = await boss.post(
        f"/desk/api/approvals/{asked['approval_id']}/decide", {"approve": False}
    )
    assert twice.status == 409
    assert await balance(client) == 4000
    async with client.app[SERVICES].sessions() as session:
        grant = await session.get(Grant, decided["grant_id"])
    assert grant is not None and (grant.actor_role, grant.approval_id) == (
        "supervisor", asked["approval_id"],
    )  # fmt: skip
    mine = (await agent.json("GET", "/desk/api/approvals"))["approvals"]
    assert [a["status"] for a in mine] == ["approved"]


async def test_declined_request_gives_nothing(client: TestClient) -> None:
    agent, cid = await maya_with(client, "jan")
    asked = await agent.json("POST", f"/desk/api/conversations/{cid}/approvals",
                             remedy("credit", 4000), 201)  # fmt: skip
    boss = await sign_in(client, "kai", role="supervisor")
    decided = await boss.json(
        "POST", f"/desk/api/approvals/{asked['approval_id']}/decide", {"approve": False}
    )
    assert decided == {"approval_id": asked["approval_id"], "status": "declined"}
    assert await balance(client) == 0


async def test_supervisor_cannot_approve_beyond_their_own_authority(client: TestClient) -> None:
    agent, cid = await maya_with(client, "lin")
    asked = await agent.json("POST", f"/desk/api/conversations/{cid}/approvals",
                             remedy("credit", 60000), 201)  # fmt: skip
    boss = await sign_in(client, "mia", role="supervisor")
    refused = await boss.post(
        f"/desk/api/approvals/{asked['approval_id']}/decide", {"approve": True}
    )
    assert refused.status == 403 and "finance" in (await refused.json())["message"]
    assert await balance(client) == 0
    [still] = (await boss.json("GET", "/desk/api/approvals"))["approvals"]
    assert still["status"] == "pending"  # the refusal rolled back the decision too


async def test_grants_are_append_only_ledger_rows(client: TestClient) -> None:
    agent, cid = await maya_with(client, "ned")
    grants = f"/desk/api/conversations/{cid}/grants"
    for cents in (500, 700):
        await agent.json("POST", grants, remedy("credit", cents), 201)
    async with client.app[SERVICES].sessions() as session:
        total = await session.scalar(select(func.sum(Grant.amount_cents)))
    assert total == 1200 == await balance(client)
    routes = {r.method for r in client.app.router.routes() if "grants" in str(r.resource)}
    assert routes == {"POST"}  # no route edits or deletes a grant


async def replacement_orders(client: TestClient) -> list[str]:
    async with client.app[SERVICES].sessions() as session:
        query = select(Order.id).where(Order.replaces_order_id.is_not(None)).order_by(Order.id)
        return list(await session.scalars(query))


async def make_order_worth(client: TestClient, cents: int) -> None:
    """Order 71042388 with one line worth `cents` (the demo's is $64.99)."""
    async with client.app[SERVICES].sessions.begin() as session:
        order = await session.get(Order, "71042388")
        assert order is not None
        order.items = {"lines": [{"name": "Aquarium, 75 gal", "qty": 1, "price_cents": cents}]}
        order.total_cents = cents


async def test_replacement_amount_named_by_the_request_is_never_trusted(
    client: TestClient,
) -> None:
    agent, cid = await maya_with(client, "ola")
    grants = f"/desk/api/conversations/{cid}/grants"
    for cents in (1, 6498, 6500):  # the probe sent 1 cent for a $64.99 re-shipment
        response = await agent.post(grants, remedy("replacement", cents))
        assert response.status == 409, await response.text()
        assert "6499" in (await response.json())["message"]
    assert (await count(client, Grant), await replacement_orders(client)) == (0, [])
    made = await agent.json("POST", grants, remedy("replacement", 6499), 201)
    assert made["amount_cents"] == 6499
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["authority"]["replacement"]["per_conversation"] == 10000 - 6499


async def test_replacement_is_valued_by_the_server_without_a_figure_from_the_page(
    client: TestClient,
) -> None:
    agent, cid = await maya_with(client, "oz")
    grants = f"/desk/api/conversations/{cid}/grants"
    no_figure = {k: v for k, v in remedy("replacement", 0).items() if k != "amount_cents"}
    missing = await agent.post(grants, {**no_figure, "kind": "credit"})
    assert missing.status == 409  # a credit has no value but the one the agent gives it
    made = await agent.json("POST", grants, no_figure, 201)
    assert (made["amount_cents"], made["applied"]["replacement_order_id"]) == (6499, "71042388-R1")
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["authority"]["replacement"]["per_conversation"] == 10000 - 6499
    async with client.app[SERVICES].sessions() as session:
        grant = await session.scalar(select(Grant).filter_by(conversation_id=cid))
    assert grant is not None and grant.amount_cents == 6499


async def test_replacements_per_order_are_the_policys(client: TestClient) -> None:
    services = client.app[SERVICES]
    services.policy = replace(services.policy, replacements_per_order=2)
    agent, cid = await maya_with(client, "opal", role="supervisor")
    grants = f"/desk/api/conversations/{cid}/grants"
    for _ in range(2):
        await agent.json("POST", grants, remedy("replacement", 6499), 201)
    third = await agent.post(grants, remedy("replacement", 6499))
    assert third.status == 409 and "2 replacements" in (await third.json())["message"]
    assert await replacement_orders(client) == ["71042388-R1", "71042388-R2"]
    services.policy = replace(services.policy, replacements_per_order=0)
    other = {**remedy("replacement", 0, order="71039951"), "amount_cents": None}
    none = await agent.post(grants, other)
    assert none.status == 409 and "no replacements" in (await none.json())["message"]
    assert await count(client, Grant) == 2


async def test_second_replacement_of_an_order_is_refused(client: TestClient) -> None:
    agent, cid = await maya_with(client, "pat", role="senior")  # authority for two, not one
    grants = f"/desk/api/conversations/{cid}/grants"
    await agent.json("POST", grants, remedy("replacement", 6499), 201)
    again = await agent.post(grants, remedy("replacement", 6499))
    assert again.status == 409
    assert "already" in (await again.json())["message"]
    assert await replacement_orders(client) == ["71042388-R1"]
    assert await count(client, Grant) == 1


async def test_two_agents_replacing_one_order_at_once_make_one_replacement(
    client: TestClient,
) -> None:
    # Two conversations of one customer, held by two people: the user lock does not serialise
    # them, so the database must.
    first, one = await maya_with(client, "quin")
    second = await sign_in(client, "rae")
    two, _ = await claimed(client, second, customer=MAYA)
    responses = await asyncio.gather(
        first.post(f"/desk/api/conversations/{one}/grants", remedy("replacement", 6499)),
        second.post(f"/desk/api/conversations/{two}/grants", remedy("replacement", 6499)),
    )
    assert sorted(r.status for r in responses) == [201, 409]
    assert await replacement_orders(client) == ["71042388-R1"]
    assert await count(client, Grant) == 1


async def test_replacement_of_a_replacement_is_refused(client: TestClient) -> None:
    agent, cid = await maya_with(client, "sol", role="senior")
    grants = f"/desk/api/conversations/{cid}/grants"
    await agent.json("POST", grants, remedy("replacement", 6499), 201)
    chained = await agent.post(grants, remedy("replacement", 6499, order="71042388-R1"))
    assert chained.status == 409
    assert "71042388" in (await chained.json())["message"]
    assert await replacement_orders(client) == ["71042388-R1"]


async def test_replacement_above_the_audit_threshold_is_flagged_at_its_real_value(
    client: TestClient,
) -> None:
    senior, cid = await maya_with(client, "tam", role="senior")
    await make_order_worth(client, 26000)
    grants = f"/desk/api/conversations/{cid}/grants"
    cheap = await senior.post(grants, remedy("replacement", 1))
    assert cheap.status == 409
    made = await senior.json("POST", grants, remedy("replacement", 26000), 201)
    assert (made["amount_cents"], made["flagged_for_audit"]) == (26000, True)


async def test_replacement_approval_is_valued_by_the_server(client: TestClient) -> None:
    agent, cid = await maya_with(client, "uma")
    await make_order_worth(client, 26000)  # above an agent's $100 for a replacement
    approvals = f"/desk/api/conversations/{cid}/approvals"
    cheap = await agent.post(approvals, remedy("replacement", 1))
    assert cheap.status == 409
    asked = await agent.json("POST", approvals, remedy("replacement", 26000), 201)
    boss = await sign_in(client, "vic", role="supervisor")
    decided = await boss.json(
        "POST", f"/desk/api/approvals/{asked['approval_id']}/decide", {"approve": True}
    )
    async with client.app[SERVICES].sessions() as session:
        grant = await session.get(Grant, decided["grant_id"])
    assert grant is not None
    assert (grant.amount_cents, grant.flagged_for_audit) == (26000, True)
    assert await replacement_orders(client) == ["71042388-R1"]
    replaced = await agent.post(approvals, remedy("replacement", 26000))
    assert replaced.status == 409  # nothing left to ask for: the order was replaced


async def test_the_bot_is_told_remedies_of_one_kind_as_their_sum(client: TestClient) -> None:
    """Two credits are one credit of $X to the customer, not the same phrase twice."""
    agent, cid = await maya_with(client, "sam", role="senior")
    grants = f"/desk/api/conversations/{cid}/grants"
    for given in (remedy("credit", 1000), remedy("credit", 2000), remedy("refund", 500),
                  remedy("refund", 700), remedy("refund", 300, order="71039951")):  # fmt: skip
        await agent.json("POST", grants, given, 201)
    back = f"/desk/api/conversations/{cid}/return"
    body = await agent.json("POST", back, {"outcome": "credited"})
    assert body["slots"]["remedy_summary"] == (
        "a $30.00 credit to your account, a $12.00 refund on order 71042388 and "
        "a $3.00 refund on order 71039951"
    )


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("vi", "cộng $30.00 vào số dư tài khoản của bạn, hoàn $12.00 cho đơn hàng 71042388 và "
               "miễn $3.00 phí cho đơn hàng 71039951"),
        ("id", "kredit $30.00 ke akun Kakak, refund $12.00 untuk pesanan 71042388 dan "
               "pembebasan biaya sebesar $3.00 untuk pesanan 71039951"),
        ("zh", "向您的账户发放$30.00抵用金、为订单 71042388 退款$12.00以及"
               "免除订单 71039951 的$3.00费用"),
        ("fr", "a $30.00 credit to your account, a $12.00 refund on order 71042388 and "
               "$3.00 of fees waived on order 71039951"),
    ],
)  # fmt: skip
async def test_the_bot_is_told_the_remedies_in_the_conversations_language(
    client: TestClient, language: str, summary: str
) -> None:
    """{remedy_summary} goes into the bot's confirmation in the customer's language."""
    agent, cid = await maya_with(client, "sam", role="senior", language=language)
    grants = f"/desk/api/conversations/{cid}/grants"
    for given in (remedy("credit", 3000), remedy("refund", 1200),
                  remedy("fee_waiver", 300, order="71039951")):  # fmt: skip
        await agent.json("POST", grants, given, 201)
    body = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/return", {"outcome": "credited"}
    )
    assert body["slots"]["remedy_summary"] == summary
