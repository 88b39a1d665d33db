"""The reference shop backend keeps the contract of bot/shop/contract.py: signed requests only,
the demo records, each remedy executed once per Idempotency-Key, and the faults tests inject."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from yarl import URL

from bot.shop.contract import IDEMPOTENCY_KEY, remedy_body, signed_headers
from tests.shop.backend import create_app, main

SECRET = "k" * 40


@pytest.fixture
async def shop(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(tmp_path / "shop.db", SECRET))
    return client


async def call(
    shop: TestClient,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    secret: str = SECRET,
    age: float = 0,
) -> ClientResponse:
    """The request as bot/shop/http.py sends it: signed over the path and query as they go on the
    wire (already encoded) and the exact body bytes."""
    data = b"" if body is None else json.dumps(body).encode()
    url = URL(path, encoded=True)
    headers = signed_headers(secret, time.time() - age, method, url.raw_path_qs, data)
    if body is not None:
        headers |= {"Content-Type": "application/json", IDEMPOTENCY_KEY: str(body.get("id"))}
    return await shop.request(method, url, data=data, headers=headers)


def grant(grant_id: int, kind: str, order_id: str, amount: int, customer: str = "C1001") -> Any:
    return remedy_body(
        grant_id, kind, customer, order_id, amount, "late", "conv-1", "agent", "2026-11-20T15:00Z"
    )


async def balance(shop: TestClient, customer: str = "C1001") -> int:
    return int(
        (await (await call(shop, "GET", f"/customers/{customer}")).json())["credit_balance_cents"]
    )


async def test_a_signed_get_answers_the_demo_record(shop: TestClient) -> None:
    response = await call(shop, "GET", "/customers/C1001")
    assert response.status == 200
    assert await response.json() == {
        "id": "C1001",
        "name": "Maya Thompson",
        "email": "maya.t@example.com",
        "phone": "+1 614 555 0141",
        "member_since": "2019-03-01",
        "pets": "Biscuit (Labrador)",
        "credit_balance_cents": 0,
        "orders": [
            {
                "id": "71042388",
                "placed_at": "2026-11-17",
                "status": "Shipped",
                "lines": [
                    {"name": "Salmon & Rice Dry Dog Food, 30 lb", "qty": 1, "price_cents": 6499}
                ],
                "total_cents": 6499,
                "shipping_cents": 0,
                "refunded_cents": 0,
                "fees_waived_cents": 0,
                "replaces_order_id": None,
            },
            {
                "id": "71039951",
                "placed_at": "2026-10-17",
                "status": "Delivered",
                "lines": [{"name": "Dental Chews, 30 count", "qty": 2, "price_cents": 1899}],
                "total_cents": 2 * 1899 + 699,
                "shipping_cents": 699,
                "refunded_cents": 0,
                "fees_waived_cents": 0,
                "replaces_order_id": None,
            },
        ],
        "autoships": [
            {
                "id": 1,
                "product": "Salmon & Rice Dry Dog Food, 30 lb",
                "every_weeks": 4,
                "next_delivery": "2026-11-25",
                "status": "active",
                "price_cents": 6174,
            }
        ],
    }
    unknown = await call(shop, "GET", "/customers/C9999")
    assert unknown.status == 404
    assert (await unknown.json())["error"] == "not_found"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("maya", ["C1001"]),
        ("MAYA.T@", ["C1001"]),
        ("d.okafor%40example", ["C1002"]),
        ("555%200112", ["C1004"]),
        ("555+0112", ["C1004"]),  # urlencode's space
        ("C1003", ["C1003"]),
        ("71044720", ["C1002"]),
        ("example.com", ["C1001", "C1002", "C1003", "C1004", "C1005"]),
        ("%25", []),  # a literal %, not a wildcard
        ("", []),
    ],
)
async def test_search(shop: TestClient, query: str, found: list[str]) -> None:
    response = await call(shop, "GET", f"/customers?q={query}")
    assert response.status == 200
    assert [c["id"] for c in (await response.json())["customers"]] == found


async def test_refuses_what_is_not_signed_by_the_secret_and_fresh(shop: TestClient) -> None:
    unsigned = await shop.get("/customers/C1001")
    wrong = await call(shop, "GET", "/customers/C1001", secret="x" * 40)
    stale = await call(shop, "GET", "/customers/C1001", age=400)
    other_path = await shop.get("/customers/C1002", headers=signed_headers(
        SECRET, time.time(), "GET", "/customers/C1001", b""
    ))  # fmt: skip
    for response in (unsigned, wrong, stale, other_path):
        assert response.status == 401
        assert (await response.json())["error"] == "bad_signature"
    assert "more than 300 s" in (await stale.json())["message"]
    body = json.dumps(grant(1, "credit", "71042388", 500)).encode()
    headers = signed_headers(SECRET, time.time(), "POST", "/remedies", body)
    tampered = await shop.post("/remedies", data=body.replace(b"500", b"900"), headers=headers)
    assert tampered.status == 401
    assert await balance(shop) == 0


async def test_a_credit_executes_once_per_key(shop: TestClient) -> None:
    first = await call(shop, "POST", "/remedies", grant(7, "credit", "71042388", 500))
    assert first.status == 201
    done = await first.json()
    assert done == {"id": "grant-7", "status": "done", "reference": "SHOP-1"}
    again = await call(shop, "POST", "/remedies", grant(7, "credit", "71042388", 500))
    assert again.status == 200
    assert await again.json() == done
    assert await balance(shop) == 500
    other = await call(shop, "POST", "/remedies", grant(7, "credit", "71042388", 900))
    assert other.status == 422
    assert (await other.json())["error"] == "key_reused"
    assert await balance(shop) == 500
    remedies = (await (await shop.get("/_control/remedies")).json())["remedies"]
    assert [(r["key"], r["kind"], r["amount_cents"], r["reference"]) for r in remedies] == [
        ("grant-7", "credit", 500, "SHOP-1")
    ]


async def test_refunds_and_fee_waivers_stop_at_what_was_paid(shop: TestClient) -> None:
    # 71039951: 2 x 1899 + 699 shipping = 4497
    assert (
        await call(shop, "POST", "/remedies", grant(1, "refund", "71039951", 4000))
    ).status == 201
    over = await call(shop, "POST", "/remedies", grant(2, "refund", "71039951", 498))
    assert over.status == 409
    assert "only 497 cents" in (await over.json())["message"]
    assert (
        await call(shop, "POST", "/remedies", grant(3, "refund", "71039951", 497))
    ).status == 201
    assert (
        await call(shop, "POST", "/remedies", grant(4, "fee_waiver", "71039951", 699))
    ).status == 201
    assert (
        await call(shop, "POST", "/remedies", grant(5, "fee_waiver", "71039951", 1))
    ).status == 409
    no_fee = await call(shop, "POST", "/remedies", grant(6, "fee_waiver", "71042388", 100))
    assert no_fee.status == 409
    order = (await (await call(shop, "GET", "/customers/C1001")).json())["orders"][1]
    assert (order["refunded_cents"], order["fees_waived_cents"]) == (4497, 699)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (grant(1, "credit", "71044720", 500), 409),  # C1002's order
        (grant(1, "credit", "00000000", 500), 409),
        (grant(1, "discount", "71042388", 500), 422),
        (grant(1, "credit", "71042388", 0), 422),
        (grant(1, "credit", "71042388", -5), 422),
        ({**grant(1, "credit", "71042388", 500), "amount_cents": "500"}, 422),
        ({**grant(1, "credit", "71042388", 500), "amount_cents": True}, 422),
        ({**grant(1, "credit", "71042388", 500), "reason": None}, 422),
        ({"id": "grant-1"}, 422),
    ],
)
async def test_refuses_for_good(shop: TestClient, body: dict[str, Any], status: int) -> None:
    response = await call(shop, "POST", "/remedies", body)
    assert response.status == status
    assert set(await response.json()) == {"error", "message"}
    assert await balance(shop) == 0


async def test_the_key_must_be_the_bodys_id(shop: TestClient) -> None:
    data = json.dumps(grant(1, "credit", "71042388", 500)).encode()
    for key in ("grant-2", None):
        headers = signed_headers(SECRET, time.time(), "POST", "/remedies", data)
        if key:
            headers[IDEMPOTENCY_KEY] = key
        assert (await shop.post("/remedies", data=data, headers=headers)).status == 422
    headers = signed_headers(SECRET, time.time(), "POST", "/remedies", b"{nope")
    assert (await shop.post("/remedies", data=b"{nope", headers=headers)).status == 422


async def test_replacements(shop: TestClient) -> None:
    first = await call(shop, "POST", "/remedies", grant(1, "replacement", "71042388", 6499))
    assert first.status == 201
    assert (await first.json())["replacement_order_id"] == "71042388-R1"
    again = await call(shop, "POST", "/remedies", grant(1, "replacement", "71042388", 6499))
    assert (again.status, await again.json()) == (200, await first.json())
    # the backend allows several replacements of one order (the policy's limit is the service's)
    second = await call(shop, "POST", "/remedies", grant(2, "replacement", "71042388", 6499))
    assert (await second.json())["replacement_order_id"] == "71042388-R2"
    of_a_replacement = await call(
        shop, "POST", "/remedies", grant(3, "replacement", "71042388-R1", 0)
    )
    assert of_a_replacement.status == 409
    assert (await of_a_replacement.json())["error"] == "not_replaceable"
    orders = (await (await call(shop, "GET", "/customers/C1001")).json())["orders"]
    replacement = next(o for o in orders if o["id"] == "71042388-R1")
    original = next(o for o in orders if o["id"] == "71042388")
    assert replacement["lines"] == original["lines"]
    assert replacement["status"] == "Replacement: preparing to ship"
    assert (replacement["total_cents"], replacement["shipping_cents"]) == (0, 0)
    assert replacement["replaces_order_id"] == "71042388"
    # a credit on a replacement order is fine: only replacing one again is refused
    assert (
        await call(shop, "POST", "/remedies", grant(4, "credit", "71042388-R1", 100))
    ).status == 201


async def test_fail_next(shop: TestClient) -> None:
    changed = await shop.post("/_control", json={"fail_next": 2, "fail_status": 502})
    assert (await changed.json())["fail_next"] == 2
    body = grant(1, "credit", "71042388", 500)
    statuses = [(await call(shop, "POST", "/remedies", body)).status for _ in range(3)]
    assert statuses == [502, 502, 201]
    assert await balance(shop) == 500
    seen = await (await shop.get("/_control/requests")).json()
    assert seen == {"count": 4, "by_key": {"grant-1": 3}}


async def test_apply_then_fail_next_commits_and_the_retry_executes_nothing(
    shop: TestClient,
) -> None:
    await shop.post("/_control", json={"apply_then_fail_next": 1})
    body = grant(1, "credit", "71042388", 500)
    crashed = await call(shop, "POST", "/remedies", body)
    assert crashed.status == 503
    assert await balance(shop) == 500  # committed before the crash
    retry = await call(shop, "POST", "/remedies", body)
    assert (retry.status, await retry.json()) == (
        200,
        {"id": "grant-1", "status": "done", "reference": "SHOP-1"},
    )
    assert await balance(shop) == 500
    assert len((await (await shop.get("/_control/remedies")).json())["remedies"]) == 1


async def test_error_rate_is_seeded_and_slowness_applies(shop: TestClient) -> None:
    async def run() -> list[int]:
        await shop.post("/_control", json={"error_rate": 0.5, "seed": 42, "slow_seconds": 0.01})
        return [(await call(shop, "GET", "/customers/C1001")).status for _ in range(20)]

    started = time.monotonic()
    first = await run()
    # the answered ones come late (after the work); the injected failures at once
    assert time.monotonic() - started >= 0.01 * first.count(200)
    assert set(first) == {200, 503}
    assert await run() == first
    refused = await shop.post("/_control", json={"error_rate": 2})
    assert refused.status == 422
    assert (await shop.post("/_control", json={"nonsense": 1})).status == 422


def test_the_cli_wants_a_long_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHORT_SECRET", "too short")
    with pytest.raises(SystemExit, match=r"SHORT_SECRET must hold .* at least 32 characters"):
        main(["--db", str(tmp_path / "shop.db"), "--secret-env", "SHORT_SECRET"])
