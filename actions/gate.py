"""action_gate decides what happens to each customer message; action_handoff hands over.

The gate sets the `gate` slot and data/rules/ say what follows (the usual answer, a clarifying
question, or the handoff message then action_handoff). Both actions recompute the same decision from
the tracker, so the brief always explains exactly what the gate saw.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff.brief import build_brief
from actions.handoff.decision import Decision, decide
from actions.handoff.policy import current_policy
from actions.handoff.turns import handed_over, turns_from_events

HANDOFF_GATES = {
    "handoff_explicit_request": "explicit_request",
    "handoff_frustration": "frustration",
    "handoff_urgent": "frustration",
    "handoff_out_of_policy": "out_of_policy",
    "handoff_bereavement": "out_of_policy",
    "handoff_pet_health": "out_of_policy",
    "handoff_nlu_failure": "nlu_failure",
}


def _decision(tracker: Tracker) -> tuple[list[Any], Decision]:
    turns = turns_from_events(tracker.events)
    return turns, decide(turns, current_policy())


class ActionGate(Action):
    def name(self) -> str:
        return "action_gate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if handed_over(tracker.events):
            return [SlotSet("gate", "already_handed_off")]
        _, decision = _decision(tracker)
        return [SlotSet("gate", decision.gate)]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if handed_over(tracker.events):
            return []  # already handed over: one conversation, one handoff
        policy = current_policy()
        turns, decision = _decision(tracker)
        if not decision.hands_off:
            # Reached only through a rule on the gate slot, so the gate decided to hand over; keep
            # its reason rather than leave the customer with a promise and no person.
            reason = HANDOFF_GATES.get(str(tracker.get_slot("gate")), "explicit_request")
            decision = Decision(
                gate=str(tracker.get_slot("gate")),
                reason=reason,
                signals=decision.signals,
                score=decision.score,
            )
        brief = build_brief(turns, decision, tracker.current_slot_values(), policy)
        dispatcher.utter_message(json_message={"handoff": brief})
        return [SlotSet("handoff_reason", decision.reason), ConversationPaused()]
