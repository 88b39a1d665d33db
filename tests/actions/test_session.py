from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart, language_from, supported_languages


@pytest.mark.parametrize(
    ("metadata", "language"),
    [
        ({"language": "en"}, "en"),
        ({"language": "en-GB"}, "en"),
        ({"language": "xx"}, "en"),
        ({}, "en"),
        (None, "en"),
        ({"language": 5}, "en"),
    ],
)
def test_language_from_metadata(metadata: object, language: str) -> None:
    assert language_from(metadata) == language


async def test_session_start_carries_order_but_not_the_old_handoff() -> None:
    tracker = Tracker(
        "c-1",
        {
            "order_id": "71042388",
            "handoff_reason": "frustration",
            "gate": "answer",
            "session_started_metadata": {"language": "en"},
            "language": "en",
        },
        {},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, {})
    assert [e["event"] for e in events] == ["session_started", "slot", "slot", "action"]
    assert events[1]["name"] == "order_id" and events[1]["value"] == "71042388"
    assert events[2]["name"] == "language" and events[2]["value"] == "en"


def test_supported_languages_come_from_the_domain() -> None:
    domain = {"slots": {"language": {"type": "categorical", "values": ["en", "es"]}}}
    assert supported_languages(domain) == ("en", "es")
    assert language_from({"language": "es-MX"}, supported_languages(domain)) == "es"
    assert language_from({"language": "es"}) == "en"  # not supported without the domain saying so
