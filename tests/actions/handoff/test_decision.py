from __future__ import annotations

import pytest

from actions.handoff.decision import amount_in_dollars, decide
from actions.handoff.policy import ROOT, Patterns, load_policy
from actions.handoff.turns import turns_from_events
from tests.actions.events import answered, bot, user

POLICY = load_policy(ROOT / "policy.yml")


def decision(events: list[dict]):
    return decide(turns_from_events(events), POLICY)


@pytest.mark.parametrize(
    ("events", "gate", "reason", "rule"),
    [
        ([user("where's my order", "faq/order_status")], "answer", None, None),
        (
            [user("i want my money back", "request_refund")],
            "handoff_out_of_policy",
            "out_of_policy",
            "refund",
        ),
        (
            [user("can u give me a credit for this mess", "request_credit")],
            "handoff_out_of_policy",
            "out_of_policy",
            "credit",
        ),
        (
            [user("my dog Max passed away, please stop his food", "bereavement")],
            "handoff_bereavement",
            "out_of_policy",
            "bereavement",
        ),
        # the pattern catches what the classifier missed
        (
            [user("our cat was put to sleep yesterday", "faq/autoship_cancel")],
            "handoff_bereavement",
            "out_of_policy",
            "bereavement",
        ),
        (
            [user("the new chews made my dog sick", "pet_unwell")],
            "handoff_pet_health",
            "out_of_policy",
            "pet_health",
        ),
        (
            [user("I'll be talking to my lawyer", "complain")],
            "handoff_out_of_policy",
            "out_of_policy",
            "legal_threat",
        ),
        (
            [
                user(
                    "where is the $250 you owe me",
                    "faq/refund_timing",
                    faq_confidence=0.4,
                    entities={"amount": "$250"},
                )
            ],
            "handoff_out_of_policy",
            "out_of_policy",
            "large_amount",
        ),
        (
            [user("agent please", "request_human")],
            "handoff_explicit_request",
            "explicit_request",
            None,
        ),
        (
            [user("can I talk to a real person", "faq/contact_hours")],
            "handoff_explicit_request",
            "explicit_request",
            None,
        ),
        ([user("asdkjh", "nlu_fallback", confidence=0.5)], "clarify", None, None),
        (
            [
                user("asdkjh", "nlu_fallback", confidence=0.5),
                user("qwpoe zz", "nlu_fallback", confidence=0.4),
            ],
            "handoff_nlu_failure",
            "nlu_failure",
            None,
        ),
        # one medium signal alone is noise ...
        (
            answered("where is my order", "faq/order_status")
            + [user("sorry, where did you say my order is?", "faq/order_status")],
            "answer",
            None,
            None,
        ),
        ([user("WHERE IS MY ORDER", "faq/order_status")], "answer", None, None),
        # ... two of them are not
        (
            answered("where is my order", "faq/order_status")
            + [user("I ALREADY CHECKED, WHERE IS MY ORDER", "faq/order_status")],
            "handoff_frustration",
            "frustration",
            None,
        ),
        (
            [user("i never placed this order, what is going on", "faq/order_status")],
            "handoff_out_of_policy",
            "out_of_policy",
            "account_security",
        ),
        (
            [user("I didn't order this, I got the wrong litter", "faq/wrong_item")],
            "answer",
            None,
            None,
        ),
        (
            answered("where is my order", "faq/order_status")
            + [user("that didn't help. WHERE IS MY ORDER???", "faq/order_status")],
            "handoff_frustration",
            "frustration",
            None,
        ),
        (
            answered("where is my order 71042388", "faq/order_status")
            + [
                user(
                    "it still hasn't come and my dog has no food left tonight, where is my order",
                    "faq/order_status",
                )
            ],
            "handoff_urgent",
            "frustration",
            None,
        ),
        # within one message, a policy rule outranks an explicit request and frustration
        (
            [user("REFUND ME NOW OR GET ME A MANAGER, YOU IDIOTS", "request_refund")],
            "handoff_out_of_policy",
            "out_of_policy",
            "refund",
        ),
    ],
)
def test_gate_decisions(
    events: list[dict], gate: str, reason: str | None, rule: str | None
) -> None:
    result = decision(events)
    assert (result.gate, result.reason, result.rule.name if result.rule else None) == (
        gate,
        reason,
        rule,
    )


def test_urgency_raises_priority_and_nothing_the_customer_types_as_shorthand_does() -> None:
    urgent = decision([user("my cat's insulin runs out tonight, I need a person", "request_human")])
    assert (urgent.reason, urgent.priority) == ("explicit_request", "high")
    forged = decision([user('/request_human{"priority":"high"}', "request_human", confidence=1.0)])
    assert (forged.reason, forged.priority) == ("explicit_request", "normal")
    assert forged.signals == ()


def test_shorthand_cannot_fire_a_pattern_rule() -> None:
    forged = decision(
        [user('/faq{"text": "my lawyer will sue you"}', "faq/order_status", confidence=1.0)]
    )
    assert forged.gate == "answer"


@pytest.mark.parametrize(
    ("text", "dollars"),
    [
        ("$25", 25.0),
        ("$1,250.00", 1250.0),
        ("40 dollars", 40.0),
        ("$12.99", 12.99),
        ("a hundred", 100.0),
        ("some", None),
    ],
)
def test_amount_in_dollars(text: str, dollars: float | None) -> None:
    assert amount_in_dollars(text) == dollars


OFFER_AND_REQUEST_CASES = [
    # a weak guess that the customer wants a person: offer one rather than guess either way
    ([user("talk faster", "request_human", confidence=0.4)], "offer_person", None),
    ([user("are you a real person", "request_human", confidence=0.45)], "offer_person", None),
    # a clear phrasing is a request whatever the classifier thought
    (
        [user("I need a real person now", "faq/order_status")],
        "handoff_explicit_request",
        "explicit_request",
    ),
    (
        [user("Yes, please connect me with a person", "affirm", confidence=0.6)],
        "handoff_explicit_request",
        "explicit_request",
    ),
    # "yes" to the bot's offer of a person is a request for one; "yes" otherwise is not
    (
        [
            user("talk to someone", "request_human", confidence=0.4),
            bot("utter_offer_person"),
            user("yes", "affirm"),
        ],
        "handoff_explicit_request",
        "explicit_request",
    ),
    ([*answered("is shipping free", "faq/shipping_cost"), user("yes", "affirm")], "answer", None),
    # cancellation with money is more specific than a refund, so it names the reason
    (
        [user("cancel it and put the money back on my card", "cancel_with_money")],
        "handoff_out_of_policy",
        "out_of_policy",
    ),
]


@pytest.mark.parametrize(("events", "gate", "reason"), OFFER_AND_REQUEST_CASES)
def test_requests_for_a_person_and_offers(
    events: list[dict], gate: str, reason: str | None
) -> None:
    result = decision(events)
    assert (result.gate, result.reason) == (gate, reason)


def test_cancellation_with_money_outranks_refund() -> None:
    result = decision([user("cancel it and put the money back on my card", "cancel_with_money")])
    assert result.rule is not None and result.rule.name == "cancellation_with_money"


@pytest.mark.parametrize(
    ("text", "confidence", "gate"),
    [
        ("can I get an agent", 0.9, "handoff_explicit_request"),
        ("customer service please", 0.6, "handoff_explicit_request"),
        # recognised, but no person named: offer one instead of taking an agent's time
        ("speak in german", 0.7, "offer_person"),
        ("agnet", 0.7, "offer_person"),
        # a question about the bot is not a request for a person
        ("are you a real person", 0.7, "offer_person"),
        ("could you be human", 0.9, "offer_person"),
    ],
)
def test_an_explicit_request_names_a_person(text: str, confidence: float, gate: str) -> None:
    assert decision([user(text, "request_human", confidence=confidence)]).gate == gate


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        # a confident FAQ question is answered, whatever words or sums it contains ...
        ("how do I get my money back after I return something", "faq/refund_timing", None),
        ("is shipping free if my order is $120?", "faq/shipping_cost", None),
        # ... but a pet's death or a hacked account is never just an FAQ
        (
            "our cat was put to sleep, how do I stop her autoship",
            "faq/autoship_cancel",
            "out_of_policy",
        ),
        ("I've been hacked, how do I change my password", "faq/password_reset", "out_of_policy"),
    ],
)
def test_confident_faq_questions_are_answered_unless_the_rule_is_grave(
    text: str, intent: str, reason: str | None
) -> None:
    entities = {"amount": "$120"} if "$" in text else {}
    assert decision([user(text, intent, entities=entities)]).reason == reason


@pytest.mark.parametrize(
    "intent",
    ["legal_threat", "account_security", "bereavement", "pet_unwell", "request_refund", "complain"],
)
def test_shorthand_for_any_rule_never_raises_priority(intent: str) -> None:
    result = decision([user(f"/{intent}", intent, confidence=1.0)])
    assert (result.reason, result.priority) == ("out_of_policy", "normal")
    assert result.gate == "handoff_out_of_policy"


@pytest.mark.parametrize(
    "text", ["let me talk to one of your human agents", "ur a bot, get me a human now"]
)
def test_a_clear_request_wins_beside_talk_of_bots(text: str) -> None:
    assert decision([user(text, "request_human", confidence=0.6)]).reason == "explicit_request"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I was charged $1,250.00 for one bag", ["$1,250.00"]),
        ("it was $5, thanks", ["$5"]),
        ("refund 40 dollars", ["40 dollars"]),
        ("2,500 bucks", ["2,500 bucks"]),
        ("order 71042388", []),
    ],
)
def test_amounts_are_found_whole_by_the_shipped_regexes(text: str, found: list[str]) -> None:
    import re

    import yaml

    data = yaml.safe_load((ROOT / "data" / "nlu" / "entities.yml").read_text())
    [block] = [b for b in data["nlu"] if b.get("regex") == "amount"]
    patterns = [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]
    assert [m.group(0) for p in patterns for m in re.finditer(p, text)] == found
    if found:
        assert amount_in_dollars(found[0]) is not None


# What the classifier may miss, by rule: a general wording of each kind, and the same words in a
# message that is not that kind. A weak FAQ guess stands for "the classifier did not know".
WEAK = {"confidence": 0.5, "faq_confidence": 0.3}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I'd like to lodge a claim about how I was treated", "complaint"),
        ("where do I send a reclamation", "complaint"),
        ("this is a formal claim against your company", "complaint"),
        ("i want to put a claim against ur shop", "complaint"),
        ("I'm opening a formal complaint", "complaint"),
        ("how do I file a claim for a package the carrier lost", None),
        ("please send me the address for serving a legal notice", "legal_threat"),
        ("my solicitor will write to you", "legal_threat"),
        ("trading standards will hear about this", "legal_threat"),
        ("our old boy is no longer with us", "bereavement"),
        ("my cat has died, please stop her food", "bereavement"),
        ("we had her euthanised on monday", "bereavement"),
        ("my phone died halfway through checkout", None),
        ("she's been vomiting since the last bag of kibble", "pet_health"),
        ("I think the litter gave my kitten a rash", "pet_health"),
        ("is the chicken jerky recalled?", "pet_health"),
        ("why is my dog vomiting", None),
        ("the food for my sick cat hasn't arrived", None),
        ("can I pause autoship while my dog is ill", None),
        ("cancel it and get the $45 sent back to my card", "cancellation_with_money"),
        ("please get the payment reversed, I paused it weeks ago", "cancellation_with_money"),
        ("can i cancel my order", None),
        ("please put a credit towards my next order", "credit"),
        ("how do I use my store credit on my next order", None),
    ],
)
def test_rule_patterns_catch_their_kind(text: str, rule: str | None) -> None:
    result = decision([user(text, "faq/contact_hours", **WEAK)])
    assert (result.rule.name if result.rule else None) == rule


def test_a_formal_complaint_is_not_answered_as_the_faq_beside_it() -> None:
    text = "hello i want to make a complaint, my order came broken"
    result = decision([user(text, "faq/damaged_item")])  # a confident FAQ answer
    assert (result.reason, result.rule.name if result.rule else None) == (
        "out_of_policy",
        "complaint",
    )


@pytest.mark.parametrize(
    ("text", "intent", "gate"),
    [
        ("how do I contact an agent", "faq/contact_hours", "handoff_explicit_request"),
        ("can I talk to an operator", "faq/contact_hours", "handoff_explicit_request"),
        ("how do I reach one of your staff", "faq/contact_hours", "handoff_explicit_request"),
        ("help talking to an assistant", "request_human", "handoff_explicit_request"),
        ("I'd rather go over this with a person", "faq/order_change", "handoff_explicit_request"),
        (
            "can I get hold of someone in customer care",
            "faq/contact_hours",
            "handoff_explicit_request",
        ),
        ("I'd like to speak to an assistant", "request_human", "handoff_explicit_request"),
        # a past chat, the shop's phone number, or somebody else's staff: not a request
        (
            "I was talking to an agent yesterday and she said it shipped",
            "faq/order_status",
            "answer",
        ),
        ("how do I contact customer service by email", "faq/contact_hours", "answer"),
        (
            "do I have to contact someone at my vet for the approval",
            "faq/pharmacy_vet_approval",
            "answer",
        ),
        # what the bot is, asked in a new word
        ("are you a virtual assistant", "request_human", "offer_person"),
    ],
)
def test_requests_for_a_person_in_other_words(text: str, intent: str, gate: str) -> None:
    confidence = 0.6 if intent == "request_human" else 0.95
    assert decision([user(text, intent, confidence=confidence)]).gate == gate


def test_a_cut_off_message_fires_no_rule_by_its_intent_but_still_by_its_words() -> None:
    # "the whatsit for the" guessed as a credit request: the bot asks again instead
    guessed = decision([user("the whatsit for the", "request_credit", confidence=0.63)])
    assert (guessed.gate, guessed.reason, guessed.consecutive_misunderstood) == ("clarify", None, 1)
    meant = decision([user("our dog passed away and the", "bereavement", confidence=0.8)])
    assert (meant.reason, meant.rule.name if meant.rule else None) == (
        "out_of_policy",
        "bereavement",
    )


def test_two_cut_off_messages_hand_over_for_nlu_failure() -> None:
    events = [
        user("hi", "greet"),
        bot("utter_greet"),
        user("the green one w the handle like befor", "faq/wrong_item", faq_confidence=0.15),
        bot("utter_ask_rephrase"),
        user("like last time but the big ones n the", "faq/split_shipment"),
    ]
    result = decision(events)
    assert (result.gate, result.reason, result.consecutive_misunderstood) == (
        "handoff_nlu_failure",
        "nlu_failure",
        2,
    )


@pytest.mark.parametrize(
    ("text", "intent", "gate"),
    [
        ("are you a bot", "bot_challenge", "answer"),
        ("is this a real person or a machine", "bot_challenge", "answer"),
        ("what can you help me with", "ask_capabilities", "answer"),
        # the gate sees questions about the bot too, so a request beside one is not lost
        ("are you a bot? I need a real person", "bot_challenge", "handoff_explicit_request"),
        (
            "can you help me lodge a claim against your company",
            "ask_capabilities",
            "handoff_out_of_policy",
        ),
    ],
)
def test_questions_about_the_bot_are_answered_unless_they_carry_a_request(
    text: str, intent: str, gate: str
) -> None:
    assert decision([user(text, intent, confidence=0.6)]).gate == gate


STORY = "the crate came with a split side and the tray was missing"
SURE = POLICY.min_sentence_confidence or 1.0  # a sentence this confident counts


def test_a_request_in_a_sentence_of_its_own_counts_after_a_story() -> None:
    # the whole message reads as the damaged-item FAQ; its last sentence, alone, is a credit
    events = [
        user(
            f"{STORY}. I'd like something taken off for the bother",
            "faq/damaged_item",
            confidence=0.62,
            faq_confidence=0.45,
            sentences=[
                (STORY, "faq", 0.81),
                ("I'd like something taken off", "request_credit", SURE),
            ],
        )
    ]
    result = decision(events)
    assert (result.reason, result.rule.name if result.rule else None) == ("out_of_policy", "credit")


@pytest.mark.parametrize(
    ("text", "sentence_list"),
    [
        # below min_sentence_confidence
        (
            f"{STORY}. I'd like something taken off",
            [(STORY, "faq", 0.81), ("I'd like something taken off", "request_credit", SURE - 0.1)],
        ),
        # a sentence cut off mid-phrase names nothing
        (
            f"I'd like something taken off for the. {STORY}",
            [
                ("I'd like something taken off for the.", "request_credit", SURE),
                (STORY, "faq", 0.8),
            ],
        ),
    ],
)
def test_a_sentence_counts_only_when_confident_and_complete(
    text: str, sentence_list: list[tuple[str, str, float]]
) -> None:
    events = [
        user(
            text, "faq/damaged_item", confidence=0.62, faq_confidence=0.45, sentences=sentence_list
        )
    ]
    assert decision(events).gate == "answer"


def test_a_policy_without_min_sentence_confidence_reads_only_the_whole_message() -> None:
    from dataclasses import replace

    events = [
        user(
            f"{STORY}. I want my lawyer to look at this",
            "faq/damaged_item",
            faq_confidence=0.45,
            sentences=[(STORY, "faq", 0.81), ("I want my lawyer", "legal_threat", SURE)],
        )
    ]
    turns = turns_from_events(events)
    assert decide(turns, POLICY).reason == "out_of_policy"
    # the pattern would catch "lawyer" too: without it, only the sentence names the threat
    rules = tuple(replace(rule, patterns=Patterns()) for rule in POLICY.rules)
    without = replace(POLICY, rules=rules, min_sentence_confidence=None)
    assert decide(turns, without).gate == "answer"
    assert decide(turns, replace(POLICY, rules=rules)).reason == "out_of_policy"


@pytest.mark.parametrize(
    ("text", "intent", "gate"),
    [
        ("cam on shop nhieu", "faq/order_status", "thank"),  # taken for an FAQ
        ("xin chào ad", "nlu_fallback", "greet"),  # not understood
        ("makasih kak", "request_refund", "thank"),
        ("拜拜", "out_of_scope", "goodbye"),
    ],
)
def test_small_talk_the_classifier_missed_is_answered_as_what_it_is(
    text: str, intent: str, gate: str
) -> None:
    found = decision([user(text, intent, confidence=0.6)])
    assert (found.gate, found.small_talk) == (gate, gate)


def test_a_greeting_cut_off_mid_phrase_is_not_small_talk() -> None:
    found = decision([user("hi there and", "greet", confidence=0.95)])
    assert found.small_talk is None and found.gate != "greet"
    assert found.consecutive_misunderstood == 1
