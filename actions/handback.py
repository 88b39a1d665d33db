"""action_handed_back: the bot service runs it when a person hands the conversation back.

The service sets `handoff_outcome` (the wrap-up code) and `remedy_summary` (what was given, in
words) first, so the bot can confirm in writing what the person did, then carry on.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionHandedBack(Action):
    def name(self) -> str:
        return "action_handed_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        summary = tracker.get_slot("remedy_summary")
        if isinstance(summary, str) and summary.strip():
            dispatcher.utter_message(response="utter_handback_remedy", remedy_summary=summary)
        else:
            dispatcher.utter_message(response="utter_handback")
        # Said once: a later handback must not repeat an old remedy. The service runs this action
        # directly, not after a customer message, so the bot listens next, as after any answer
        # (rules expect a customer message to follow action_listen).
        return [SlotSet("remedy_summary", None), ActionExecuted("action_listen")]
