from __future__ import annotations

import pytest

from actions.handoff.policy import ROOT, load_policy
from actions.handoff.signals import score_conversation, similarity
from actions.handoff.turns import Turn, misunderstood, turns_from_events, unfinished
from tests.actions.events import answered, user

POLICY = load_policy(ROOT / "policy.yml")
# A turn the bot answered, for signals that are about an earlier answer.
ANSWERED = answered("where is my order", "faq/order_status")


def names(events: list[dict]) -> list[tuple[str, int]]:
    return [(f.name, f.turn) for f in score_conversation(turns_from_events(events), POLICY)]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([user("where is my order", "faq/order_status")], []),
        (
            [user("WHERE IS MY ORDER I ORDERED IT A WEEK AGO", "faq/order_status")],
            [("shouting", 1)],
        ),
        ([user("where is my order???", "faq/order_status")], [("shouting", 1)]),
        (
            [*ANSWERED, user("this is a stupid bot", "feedback_negative")],
            [("negative_feedback", 2), ("insult", 2)],
        ),
        (
            [*ANSWERED, user("that didn't help at all", "feedback_negative")],
            [("negative_feedback", 2)],
        ),
        # feedback needs an answer to be about: this is a question
        ([user("my promo code is not working", "faq/promo_code_not_working")], []),
        ([user("my dog has no food left tonight", "faq/order_status")], [("urgency", 1)]),
        ([user("my elderly mum asks when she gets charged", "faq/payment_charge_timing")], []),
        ([user("I'm 84 and can't find the autoship page", "faq/autoship_skip")], [("urgency", 1)]),
        (
            [user("her insulin runs out tomorrow morning", "faq/pharmacy_vet_approval")],
            [("urgency", 1)],
        ),
        ([user("I'll take my business elsewhere", "complain")], [("threat_to_leave", 1)]),
        ([user("asdf qwer", "nlu_fallback", confidence=0.5)], [("misunderstood", 1)]),
        (
            [user("hmm the blue one", "faq/order_status", faq_confidence=0.1)],
            [("misunderstood", 1)],
        ),
        (
            answered("how long does delivery take", "faq/delivery_time")
            + [user("ok but how long will delivery take to ohio", "faq/delivery_time")],
            [("repeated_question", 2)],
        ),
        (
            [*ANSWERED, user("I already told you the order number", "inform_order")],
            [("repeated_question", 2)],
        ),
        # a shorthand typed by the customer carries no text signals at all
        (
            [user('/request_human{"priority": "vip"} URGENT!!! NO FOOD TONIGHT', "request_human")],
            [],
        ),
    ],
)
def test_signals_fire_on_the_right_turn(
    events: list[dict], expected: list[tuple[str, int]]
) -> None:
    assert names(events) == expected


def test_a_follow_up_on_the_same_topic_is_not_a_repeat() -> None:
    events = answered("do you take paypal", "faq/payment_methods") + [
        user("what about apple pay", "faq/payment_methods")
    ]
    assert names(events) == []


def test_a_short_question_restated_in_a_complaint_is_a_repeat() -> None:
    events = answered("where is my order", "faq/order_status") + [
        user("it still hasn't come and I need it, so where is my order", "faq/order_status")
    ]
    assert names(events) == [("repeated_question", 2)]


def test_asking_a_new_question_is_not_a_repeat() -> None:
    events = answered("how much is shipping", "faq/shipping_cost") + [
        user("and how long does it take", "faq/delivery_time")
    ]
    assert names(events) == []


def test_unanswered_same_topic_is_not_a_repeat() -> None:
    # The bot asked to rephrase instead of answering: asking again is what we asked for.
    events = [
        user("erm the box thing", "faq/order_status", faq_confidence=0.2),
        user("where is my box", "faq/order_status"),
    ]
    assert names(events) == [("misunderstood", 1)]


def test_similarity_ignores_stop_words_and_short_messages() -> None:
    assert similarity("where is my order 71042388", "where is order 71042388 now") > 0.6
    assert similarity("hi", "hi") == 0.0
    assert similarity("how do I skip autoship", "what payment methods do you take") == 0.0


def test_signals_reset_when_a_person_hands_back() -> None:
    events = [
        user("YOU ARE USELESS!!!", "feedback_negative"),
        {"event": "resume"},
        user("thanks, and how do I skip autoship", "faq/autoship_skip"),
    ]
    assert names(events) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("he has two pills left and the vet is closed", ["urgency"]),
        ("she has nothing to eat tonight", ["urgency"]),
        ("forget it, I'll just buy from another store", ["threat_to_leave"]),
        ("I'll be shopping somewhere else from now on", ["threat_to_leave"]),
        ("I already did that and nothing changed", ["negative_feedback"]),
        ("this is the third time i'm asking", ["repeated_question"]),
        ("I'm asking why it is late", ["repeated_question"]),
        # the same words in an innocent sentence
        ("can I add a second bowl in the same colour", []),
        ("can I order two cans of the salmon pate", []),
        ("my elderly dad orders for me, which card do you take", []),
        ("do you sell trash bags and garbage disposal cleaner", []),
        ("do you sell diabetic cat food", []),
        ("can I get cat food delivered today", []),
        # the step the answer described is not there, or the customer is exasperated
        ("there's no skip button on my app", ["negative_feedback"]),
        ("hmm i dont see it on my screen", ["negative_feedback"]),
        ("I searched all over the account page", ["negative_feedback"]),
        ("I already checked with the neighbours", ["negative_feedback"]),
        ("Unbelievable. It's been two weeks", ["negative_feedback"]),
        ("you obviously don't read what I write", ["negative_feedback"]),
        ("we're going round in circles here", ["negative_feedback"]),
        # ... not a question about where something is
        ("I can't find the tracking number in the email", []),
        ("is there no charge for returns", []),
        # three capitalised words in a row, in a message that is not mostly capitals
        ("this is absurd, you charged me TWO TIMES FOR ONE bag", ["negative_feedback", "shouting"]),
        ("do you ship with UPS or FedEx", []),
        # pets and people with nothing left, or nobody to help
        ("he's down to his last pill", ["urgency"]),
        ("she missed a dose of her insulin yesterday", ["urgency"]),
        ("our food bowl is empty since monday", ["urgency"]),
        ("my son is away and no one else can help me", ["urgency"]),
        ("how many doses are in a box of flea drops", []),
        ("can someone else sign for the parcel", []),
        ("you've just lost a loyal customer", ["threat_to_leave"]),
        ("I'm done with this company", ["threat_to_leave"]),
        ("I'm done with my questions, thanks", []),
    ],
)
def test_signal_patterns(text: str, expected: list[str]) -> None:
    events = [*ANSWERED, user(text, "faq/order_status")]
    assert [name for name, _ in names(events)] == expected


def _turn(text: str, intent: str = "faq/order_status", faq_confidence: float | None = 0.9) -> Turn:
    return Turn(1, text, intent, 0.9, faq_confidence)


@pytest.mark.parametrize(
    ("text", "cut_off"),
    [
        ("like last time but the big ones n the", True),
        ("ok so and the um", True),
        ("I need to update my address and the", True),
        ("the whatsit for the.", True),
        # a complete question may end on a preposition, and one word is not a fragment
        ("where do you ship to", False),
        ("what do you mix the wet food with", False),
        ("the", False),
        ("where is my order", False),
    ],
)
def test_unfinished_messages_end_mid_phrase(text: str, cut_off: bool) -> None:
    assert unfinished(text, POLICY) is cut_off


def test_a_cut_off_message_is_not_understood_whatever_its_label() -> None:
    assert misunderstood(_turn("same as last time but the"), POLICY)
    assert misunderstood(_turn("the whatsit for the", "request_credit", None), POLICY)
    assert not misunderstood(_turn("where do you ship to"), POLICY)
    # a shorthand command is never a fragment
    assert not misunderstood(_turn('/faq{"x": "and the"}'), POLICY)


def test_two_cut_off_messages_in_a_row_are_two_misunderstandings() -> None:
    events = [
        *answered("where is my order", "faq/order_status"),
        user("ok so and the um", "affirm", confidence=0.35),
        user("like the last box but the", "faq/split_shipment", faq_confidence=0.7),
    ]
    assert names(events) == [("misunderstood", 2), ("misunderstood", 3)]


def test_negative_feedback_in_a_sentence_of_its_own_counts() -> None:
    text = "thanks for the link. that is not what I need at all"
    sentences = [
        ("thanks for the link", "thank", 0.8),
        ("that is not it", "feedback_negative", 0.9),
    ]
    events = [*ANSWERED, user(text, "faq/order_status", faq_confidence=0.8, sentences=sentences)]
    assert names(events) == [("negative_feedback", 2)]
    quiet = [("thanks for the link", "thank", 0.8), ("that is not it", "feedback_negative", 0.5)]
    events = [*ANSWERED, user(text, "faq/order_status", faq_confidence=0.8, sentences=quiet)]
    assert names(events) == []


SENTENCE = "also this is my fourth message about the wrong bag"
LONG = f"hi, when is autoship charged? {SENTENCE}"


LEARNED = POLICY.signals["learned"]


@pytest.mark.parametrize(
    ("score", "weight"),
    [
        (0.0, None),
        (LEARNED.min_score - 0.01, None),
        (LEARNED.min_score, LEARNED.weight),
        (LEARNED.strong_score - 0.01, LEARNED.weight),
        (LEARNED.strong_score, LEARNED.strong_weight),
        (1.0, LEARNED.strong_weight),
    ],
)
def test_the_learned_signal_fires_by_its_score(score: float, weight: int | None) -> None:
    assert LEARNED.weight < LEARNED.strong_weight  # the cases below tell the two apart
    turns = turns_from_events(
        [user(LONG, "faq/payment_charge_timing", frustration=(score, SENTENCE))]
    )
    fired = [f for f in score_conversation(turns, POLICY) if f.name == "learned"]
    if weight is None:
        assert fired == []
    else:
        # the brief quotes the sentence that scored, not the whole message
        assert [(f.turn, f.weight, f.text) for f in fired] == [(1, weight, SENTENCE)]


def test_the_learned_signal_stays_quiet_on_small_talk_and_shorthand() -> None:
    for text in ("thanks!!", "/request_human"):
        turns = turns_from_events([user(text, "thank", frustration=(0.99, text))])
        assert [f.name for f in score_conversation(turns, POLICY)] == []


def test_a_parse_without_the_learned_signal_scores_zero() -> None:
    [turn] = turns_from_events([user("where is my order", "faq/order_status")])
    assert (turn.frustration, turn.frustration_text) == (0.0, None)
