"""The remedies' dispatch: every remedy kind has its apply function, and nothing else does."""

from __future__ import annotations

from typing import Any

import pytest

from actions.handoff.policy import REMEDIES, load_policy
from bot.db.models import Order, utcnow
from bot.desk import remedies
from bot.errors import Conflict
from bot.settings import ROOT

POLICY = load_policy(ROOT / "policy.yml")


def test_every_remedy_kind_has_exactly_one_apply_function() -> None:
    assert set(remedies.APPLY) == set(REMEDIES)


async def test_unknown_remedy_kind_is_refused_not_shipped_as_a_replacement() -> None:
    order = Order(id="71042388", customer_id="C1001", items={"lines": []}, total_cents=100)
    unknown = remedies.Priced("gift_card", order.id, 500, "sorry")
    session: Any = None  # refused before the database is touched
    with pytest.raises(Conflict, match="no remedy 'gift_card'"):
        await remedies._apply(session, order, unknown, POLICY, utcnow())
