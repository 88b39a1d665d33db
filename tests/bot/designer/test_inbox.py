"""What the inbox finds, from tracker events (plain data) and from the service's handoffs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actions.handoff.decision import decide
from actions.handoff.policy import ROOT, load_policy
from actions.handoff.turns import turns_from_events
from bot.designer.inbox import CAUSES, Known, from_tracker_events, without_personal_data
from bot.designer.nlu_files import Project
from tests.bot.helpers import claimed, queued, seed_demo, sign_in

# the thresholds pinned, so the explanations below read the same whatever policy.yml ships
POLICY = replace(
    load_policy(ROOT / "policy.yml"),
    min_intent_confidence=0.3,
    min_faq_confidence=0.375,
    confident_faq=0.6,
)


def user(text: str, intent: str, confidence: float, topic: str | None = None) -> str:
    parse: dict[str, Any] = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence},
                           {"name": "out_of_scope", "confidence": 0.1}],
    }  # fmt: skip
    if topic:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": topic, "confidence": confidence}}
        }
    return json.dumps({"event": "user", "text": text, "parse_data": parse})


def slot(name: str, value: str) -> str:
    return json.dumps({"event": "slot", "name": name, "value": value})


def faq_user(text: str, intent: float, topic: str, topic_confidence: float) -> str:
    """An FAQ message whose intent and topic (the response selector's) were scored apart."""
    parse = {
        "intent": {"name": "faq", "confidence": intent},
        "intent_ranking": [{"name": "faq", "confidence": intent}],
        "response_selector": {
            "faq": {"response": {"intent_response_key": topic, "confidence": topic_confidence}}
        },
    }
    return json.dumps({"event": "user", "text": text, "parse_data": parse})


@pytest.mark.parametrize(
    ("event", "reason", "why"),
    [
        # the ranking says faq 97%: the topic is what the gate was unsure of
        (
            faq_user("change my delivery address", 0.97, "faq/delivery_time", 0.45),
            "low_confidence",
            "The bot answered, 97% sure it is an FAQ question but only 45% sure of the topic "
            "(faq/delivery_time); it counts as sure at 60% or more of both.",
        ),
        (
            faq_user("change my delivery address", 0.97, "faq/delivery_time", 0.2),
            "not_understood",
            "The bot was 97% sure it is an FAQ question but only 20% sure of the topic "
            "(faq/delivery_time): below 38% it asks again instead of answering.",
        ),
        (
            faq_user("where is my order but the", 0.97, "faq/order_status", 0.95),
            "not_understood",
            "It stops mid-phrase, so the bot asked again whatever the scores.",
        ),
        (
            user("do you sell aquariums", "nlu_fallback", 0.3),
            "not_understood",
            "Two intents scored too close to tell apart, so the bot asked again.",
        ),
        (
            user("asdf qwer", "nlu_fallback", 0.0),
            "not_understood",
            "No intent reached the bot's threshold of 30% (or too few of its words were seen "
            "in training), so the bot asked again.",
        ),
    ],
)
def test_a_reason_the_confidence_shown_seems_to_contradict_is_explained(
    event: str, reason: str, why: str
) -> None:
    [item] = from_tracker_events([("c1", "user", 1.0, event)], POLICY)
    assert (item.reasons, item.why) == ([reason], why)
    assert item.cause in CAUSES


def test_a_group_says_what_made_the_bot_unsure_of_most_of_its_messages() -> None:
    from bot.designer.loop import grouped

    rows = [
        (f"c{i}", "user", 1.0, faq_user(text, 0.97, "faq/gift_wrap", topic))
        for i, (text, topic) in enumerate(
            [("is gift wrapping free", 0.45), ("is the gift wrapping free", 0.5)]
        )
    ]
    [group] = grouped(from_tracker_events(rows, POLICY))
    assert group["why"] == {"cause": "topic_unsure", "text": CAUSES["topic_unsure"], "messages": 2}


def test_a_sure_answer_needs_no_explaining_and_a_clarify_names_what_the_bot_read() -> None:
    rows = [
        ("c1", "user", 1.0, faq_user("where is my box", 0.95, "faq/order_status", 0.9)),
        ("c1", "user", 2.0, user("that didn't help", "feedback_negative", 0.9)),
        ("c2", "user", 1.0, user("I want my money back maybe", "request_refund", 0.4)),
        ("c2", "slot", 1.1, slot("gate", "clarify")),
    ]
    items = {i.text: i for i in from_tracker_events(rows, POLICY)}
    assert items["where is my box"].why is None
    assert items["I want my money back maybe"].why == (
        "The bot asked again: it read it as request_refund (40%), which it does not answer itself."
    )


def test_the_inbox_explains_why_each_message_is_there() -> None:
    rows = [
        ("c1", "user", 1.0, user("do you sell aquariums", "nlu_fallback", 0.2)),
        ("c1", "slot", 1.1, slot("gate", "clarify")),
        ("c1", "user", 2.0, user("where is my box", "faq", 0.9, "faq/order_status")),
        ("c1", "user", 3.0, user("that didn't help", "feedback_negative", 0.9)),
        ("c2", "user", 1.5, user("whats the weather", "out_of_scope", 0.8)),
        ("c2", "user", 1.6, user("refund timing on paypal?", "faq", 0.5, "faq/refund_timing")),
        ("c2", "user", 1.7, user("thanks", "thank", 0.99)),
        ("c3", "user", 1.8, user("hmm", "faq", 0.25, "faq/order_status")),
        ("c3", "slot", 1.9, slot("gate", "clarify")),
    ]
    items = {i.text: i for i in from_tracker_events(rows, POLICY)}
    assert items["do you sell aquariums"].reasons == ["not_understood"]
    assert items["where is my box"].reasons == ["called_unhelpful"]
    assert items["whats the weather"].reasons == ["out_of_scope"]
    assert items["refund timing on paypal?"].reasons == ["low_confidence"]
    assert items["refund timing on paypal?"].intent == "faq/refund_timing"
    assert items["hmm"].reasons == ["not_understood"]
    assert set(items) == {"do you sell aquariums", "where is my box", "whats the weather",
                          "refund timing on paypal?", "hmm"}  # fmt: skip
    assert items["whats the weather"].ranking == [("out_of_scope", 0.8), ("out_of_scope", 0.1)]


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "topic", "topic_confidence", "misunderstood"),
    [
        # cut off on an unfinished word, however confident the classifier
        ("same as last time but the", "faq", 0.8, "faq/order_status", 0.8, True),
        ("hi there and", "greet", 0.95, None, None, True),
        # an FAQ answer whose topic is below min_faq_confidence (0.375), the intent sure of itself
        ("where is my order at", "faq", 0.9, "faq/order_status", 0.35, True),
        ("do you sell aquariums", "nlu_fallback", 0.2, None, None, True),
        ("where is my order at", "faq", 0.9, "faq/order_status", 0.9, False),
        ("thanks a lot", "thank", 0.99, None, None, False),
    ],
)
def test_the_inbox_and_the_gate_agree_on_what_was_misunderstood(
    text: str,
    intent: str,
    confidence: float,
    topic: str | None,
    topic_confidence: float | None,
    misunderstood: bool,
) -> None:
    parse: dict[str, Any] = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if topic:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": topic, "confidence": topic_confidence}}
        }
    event = {"event": "user", "text": text, "parse_data": parse}
    items = from_tracker_events([("c1", "user", 1.0, json.dumps(event))], POLICY)
    # the gate (actions/gate.py) decides on the turns it reads from the same tracker events
    gate = decide(turns_from_events([event]), POLICY)
    assert any("not_understood" in i.reasons for i in items) is misunderstood
    assert (gate.consecutive_misunderstood == 1) is misunderstood
    if misunderstood:
        assert gate.gate == "clarify"  # asks again


async def test_handoffs_for_frustration_and_could_have_answered_bring_their_messages(
    client: TestClient,
) -> None:
    designer = await sign_in(client, "dee", role="designer")
    frustrated, _ = await queued(client)  # the fake bot hands over for frustration
    agent = await sign_in(client, "al")
    answerable, _ = await claimed(client, agent, "please fail")  # bot_unavailable
    await agent.json("POST", f"/desk/api/conversations/{answerable}/resolve",
                     {"wrap_up": "bot_could_have_answered"})  # fmt: skip
    body = await designer.json("GET", "/desk/api/designer/inbox")
    found = {(i["conversation_id"], i["text"]): i["reasons"] for i in body["items"]}
    assert found == {
        (frustrated, "hand me over"): ["handoff_frustration"],
        (answerable, "please fail"): ["bot_could_have_answered"],
    }
    assert "bot_could_have_answered" in body["reasons"]


MAYA = Known("Maya Thompson", "maya.t@example.com", "+1 614 555 0141")


@pytest.mark.parametrize(
    ("text", "known", "shown"),
    [
        ("email me at j.doe+pets@mail.example.org", None, "email me at name@example.com"),
        ("call (555) 010-0199 after 5", None, "call 555-0100 after 5"),
        ("my card 4111 1111 1111 1111 was charged twice", None,
         "my card 555-0100 was charged twice"),
        ("where is order 71042388", None, "where is order 71042388"),  # the bot must read these
        ("this is Maya Thompson, MAYA.T@EXAMPLE.COM", MAYA, "this is Alex, name@example.com"),
        ("maya here, ring +1 614 555 0141", MAYA, "Alex here, ring 555-0100"),
        ("ms thompson's box is late", MAYA, "ms Alex's box is late"),
        ("my dog is a mayan temple dog", MAYA, "my dog is a mayan temple dog"),  # whole words
    ],
)  # fmt: skip
def test_the_inbox_shows_messages_without_personal_data(
    text: str, known: Known | None, shown: str
) -> None:
    assert without_personal_data(text, known) == shown


async def test_designer_inbox_shows_no_customers_details(
    designer_client: TestClient, project: Path
) -> None:
    client = designer_client
    await seed_demo(client)
    designer = await sign_in(client, "dee", role="designer")
    said = "hand me over: Maya Thompson, maya.t@example.com, 614-555-0141, order 71042388"
    cid, _ = await queued(client, said, customer="C1001")
    body = await designer.json("GET", "/desk/api/designer/inbox")
    [item] = [i for i in body["items"] if i["conversation_id"] == cid]
    assert item["text"] == "hand me over: Alex, name@example.com, 555-0100, order 71042388"
    [group] = (await designer.json("GET", "/desk/api/designer/groups"))["groups"]
    assert [i["text"] for i in group["items"]] == [item["text"]]
    # labelled, it is what the designer saw that becomes training data; the key still finds it
    wanted = {"kind": "intent", "intent": "request_human",
              "items": [{"key": item["key"], "text": item["text"]}]}  # fmt: skip
    label = await designer.json("POST", "/desk/api/designer/labels", wanted, 201)
    assert label["training"] + label["heldout"] == [item["text"]]
    for path in [*Project(project).nlu_files(), Project(project).heldout]:
        written = path.read_text("utf-8")
        assert "Thompson" not in written and "maya.t@" not in written and "0141" not in written
    assert (await designer.json("GET", "/desk/api/designer/inbox"))["items"] == []


def test_each_message_shows_the_language_it_is_written_in() -> None:
    said = json.loads(user("phi ship ra sao vay shop", "nlu_fallback", 0.2))
    said["parse_data"]["entities"] = [{"entity": "language", "value": "vi"}]
    rows = [
        ("c1", "slot", 0.5, slot("language", "en")),  # the page's
        ("c1", "user", 1.0, json.dumps(said)),
        ("c1", "user", 2.0, user("ok??", "nlu_fallback", 0.2)),  # too short to tell: still vi
        ("c2", "user", 1.5, user("do you sell aquariums", "nlu_fallback", 0.2)),
    ]
    items = {i.text: i for i in from_tracker_events(rows, POLICY)}
    assert items["phi ship ra sao vay shop"].language == "vi"
    assert items["ok??"].language == "vi"
    assert items["do you sell aquariums"].language == "en"
