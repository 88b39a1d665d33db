from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handback import ActionHandedBack


def tracker(slots: dict[str, Any]) -> Tracker:
    return Tracker("c-1", slots, {}, [], False, None, {}, "action_listen")


@pytest.mark.parametrize(
    ("slots", "response", "extra"),
    [
        (
            {"handoff_outcome": "credited", "remedy_summary": "a $15.00 credit to your account"},
            "utter_handback_remedy",
            {"remedy_summary": "a $15.00 credit to your account"},
        ),
        ({"handoff_outcome": "resolved", "remedy_summary": None}, "utter_handback", {}),
        ({"handoff_outcome": "resolved", "remedy_summary": "  "}, "utter_handback", {}),
        ({}, "utter_handback", {}),
    ],
)
async def test_handback_confirms_the_remedy_only_when_one_was_given(
    slots: dict[str, Any], response: str, extra: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandedBack().run(dispatcher, tracker(slots), {})
    assert [m["response"] for m in dispatcher.messages] == [response]
    assert {k: dispatcher.messages[0][k] for k in extra} == extra
    assert [(e["event"], e.get("name")) for e in events] == [
        ("slot", "remedy_summary"),
        ("action", "action_listen"),
    ]
    assert events[0]["value"] is None
