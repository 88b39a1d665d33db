from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.gate import ActionGate, ActionHandoff
from tests.actions.events import answered, user

SLOTS = {"language": "en", "gate": None, "handoff_reason": None, "order_id": None, "amount": None}


def tracker(events: list[dict[str, Any]], **slots: Any) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id="c-1",
        slots=SLOTS | slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(
    action: Any, events: list[dict[str, Any]], **slots: Any
) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    result = await action.run(dispatcher, tracker(events, **slots), {})
    return result, dispatcher


@pytest.mark.parametrize(
    ("events", "gate"),
    [
        ([user("how much is shipping", "faq/shipping_cost")], "answer"),
        ([user("zzzz", "nlu_fallback", confidence=0.4)], "clarify"),
        ([user("get me a human", "request_human")], "handoff_explicit_request"),
        ([user("my cat died, cancel her autoship", "bereavement")], "handoff_bereavement"),
        ([user("the treats made my dog ill", "pet_unwell")], "handoff_pet_health"),
        ([user("someone hacked my account", "account_security")], "handoff_out_of_policy"),
    ],
)
async def test_gate_sets_exactly_its_decision(events: list[dict], gate: str) -> None:
    result, dispatcher = await run(ActionGate(), events)
    assert result == [{"event": "slot", "timestamp": None, "name": "gate", "value": gate}]
    assert dispatcher.messages == []  # the rules, not the gate, say what the customer hears


@pytest.mark.parametrize(
    ("after", "gate"),
    [
        ([], "already_handed_off"),
        # a restart or a new session un-pauses Rasa, but the person still owns the conversation
        ([{"event": "restart"}], "already_handed_off"),
        ([{"event": "session_started"}], "already_handed_off"),
        # only a person handing it back ends the handoff
        ([{"event": "resume"}], "answer"),
    ],
)
async def test_only_a_resume_ends_a_handoff(after: list[dict], gate: str) -> None:
    events = [
        user("agent please", "request_human"),
        {"event": "pause"},
        *after,
        user("how much is shipping", "faq/shipping_cost"),
    ]
    result, _ = await run(ActionGate(), events)
    assert result == [{"event": "slot", "timestamp": None, "name": "gate", "value": gate}]


async def test_handoff_sends_brief_and_pauses() -> None:
    events = [
        *answered("where is 71042388", "faq/order_status", entities={"order_id": "71042388"}),
        user("that didn't help, WHERE IS IT???", "feedback_negative"),
    ]
    result, dispatcher = await run(ActionHandoff(), events, gate="handoff_frustration")
    assert result == [
        {"event": "slot", "timestamp": None, "name": "handoff_reason", "value": "frustration"},
        {"event": "pause", "timestamp": None},
    ]
    [message] = dispatcher.messages
    brief = message["custom"]["handoff"]
    assert brief["reason"] == "frustration"
    assert brief["entities"] == {"order_id": ["71042388"]}


async def test_handoff_twice_hands_off_once() -> None:
    events = [user("agent", "request_human")]
    first, dispatcher = await run(ActionHandoff(), events, gate="handoff_explicit_request")
    assert [e["event"] for e in first] == ["slot", "pause"]
    second, dispatcher = await run(
        ActionHandoff(), [*events, *first, {"event": "restart"}], gate="handoff_explicit_request"
    )
    assert second == []
    assert dispatcher.messages == []
