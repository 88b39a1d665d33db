from __future__ import annotations

import time

import pytest
from aiohttp.test_utils import TestClient

from bot.channel import identity
from tests.bot.helpers import IDENTITY_SECRET, start

SECRET = "k" * 40


def test_a_signed_identity_names_its_customer() -> None:
    assert identity.verify(SECRET, identity.sign(SECRET, "C1001")) == "C1001"


@pytest.mark.parametrize(
    "forged",
    ["C1001", "C1001.9999999999.", "C1002" + identity.sign(SECRET, "C1001")[5:], "../x.1.y", ""],
)
def test_forged_or_malformed_identities_are_refused(forged: str) -> None:
    with pytest.raises(identity.InvalidIdentity):
        identity.verify(SECRET, forged)


def test_expired_identity_and_another_secret_are_refused() -> None:
    old = identity.sign(SECRET, "C1001", now=time.time() - identity.LIFETIME_SECONDS - 5)
    with pytest.raises(identity.InvalidIdentity, match="expired"):
        identity.verify(SECRET, old)
    with pytest.raises(identity.InvalidIdentity, match="not signed by the shop"):
        identity.verify("z" * 40, identity.sign(SECRET, "C1001"))


async def test_a_browser_cannot_claim_to_be_a_customer(client: TestClient) -> None:
    unsigned = await client.post("/api/conversations", json={"customer_id": "C1001"})
    assert unsigned.status == 400 and (await unsigned.json())["error"] == "unsigned_customer"
    forged = await client.post(
        "/api/conversations", json={"customer": identity.sign("other" * 8, "C1001")}
    )
    assert forged.status == 400 and (await forged.json())["error"] == "invalid_customer"
    cid, _ = await start(client, customer="C1001")  # signed with the shop's secret: accepted
    assert cid and IDENTITY_SECRET
