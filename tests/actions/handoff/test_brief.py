from __future__ import annotations

import json

from actions.handoff.brief import build_brief, label
from actions.handoff.decision import decide
from actions.handoff.policy import ROOT, load_policy
from actions.handoff.turns import turns_from_events
from tests.actions.events import answered, user

POLICY = load_policy(ROOT / "policy.yml")


def brief_for(events: list[dict], slots: dict | None = None) -> dict:
    turns = turns_from_events(events)
    return build_brief(turns, decide(turns, POLICY), slots or {"language": "en"}, POLICY)


def test_frustration_brief_explains_why_and_what_was_tried() -> None:
    events = [
        *answered("where is order 71042388", "faq/order_status", entities={"order_id": "71042388"}),
        *answered("tracking says delivered but it isn't here", "faq/missing_package"),
        user(
            "I already looked everywhere and my dog has no food left tonight!!!",
            "faq/missing_package",
        ),
    ]
    brief = brief_for(events)
    assert brief["version"] == 1
    assert brief["policy_version"] == POLICY.version
    assert (brief["reason"], brief["rule"], brief["priority"]) == ("frustration", None, "high")
    assert brief["frustration_score"] >= brief["threshold"] == 4
    assert {(s["name"], s["turn"]) for s in brief["signals"]} == {
        ("negative_feedback", 3),  # "I already looked everywhere", after two answers
        ("urgency", 3),
        ("shouting", 3),
    }
    assert [i["name"] for i in brief["intents"]] == [
        "faq/order_status",
        "faq/missing_package",
        "faq/missing_package",
    ]
    assert brief["answered"] == [
        {"turn": 1, "response": "utter_faq/order_status"},
        {"turn": 2, "response": "utter_faq/missing_package"},
    ]
    assert brief["entities"] == {"order_id": ["71042388"]}
    summary = brief["summary"]
    assert "Bot already answered: order status, missing package" in summary
    assert "Order 71042388" in summary
    assert "no food left tonight" in summary
    steps = brief["suggested_next_steps"]
    assert "Offer the fastest option now (express re-delivery or a same-day alternative)." in steps
    assert any("order 71042388" in step for step in steps)
    json.dumps(brief)  # the payload must travel as JSON


def test_out_of_policy_brief_names_the_rule_and_fills_the_amount() -> None:
    brief = brief_for(
        [
            user(
                "refund me the $42.50 for order 71555555",
                "request_refund",
                entities={"amount": "$42.50", "order_id": "71555555"},
            )
        ]
    )
    assert (brief["reason"], brief["rule"], brief["priority"]) == (
        "out_of_policy",
        "refund",
        "normal",
    )
    assert (
        "Handed over by policy: Refunds move money; an agent grants them within their "
        "authority. Last message:"
    ) in brief["summary"]
    assert "Amount mentioned: $42.50" in brief["summary"]
    assert brief["suggested_next_steps"][0].startswith("Check order 71555555")


def test_unknown_order_number_reads_naturally() -> None:
    brief = brief_for([user("i want a refund", "request_refund")])
    assert "{order_id}" not in " ".join(brief["suggested_next_steps"])
    assert brief["suggested_next_steps"][0].startswith("Check the order")


def test_shorthand_is_flagged_and_its_entities_are_not_trusted() -> None:
    brief = brief_for(
        [
            user(
                '/request_human{"order_id":"79999999"}',
                "request_human",
                confidence=1.0,
                entities={"order_id": "79999999"},
            )
        ]
    )
    assert brief["shorthand_used"] is True
    assert brief["entities"] == {}
    assert brief["slots"] == {"language": "en"}
    assert brief["priority"] == "normal"


def test_summary_leaves_out_small_talk() -> None:
    brief = brief_for(
        [
            *answered("hi", "greet"),
            *answered("do you ship to alaska", "faq/delivery_areas"),
            user("get me a person", "request_human"),
        ]
    )
    assert brief["summary"].startswith(
        "Customer wrote 3 messages about: delivery areas, talking to a person."
    )


def test_every_order_number_the_customer_gave_is_kept() -> None:
    brief = brief_for(
        [
            *answered("where is 71042388", "faq/order_status", entities={"order_id": "71042388"}),
            user("and 71042399, agent please", "request_human", entities={"order_id": "71042399"}),
        ]
    )
    assert brief["entities"] == {"order_id": ["71042388", "71042399"]}
    assert "Orders 71042388, 71042399" in brief["summary"]


def test_topic_codes_read_as_words_with_their_apostrophes() -> None:
    assert label("faq/pet_wont_eat") == "pet won't eat"
    assert label("faq/order_status") == "order status"
