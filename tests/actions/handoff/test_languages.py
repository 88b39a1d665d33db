"""Handoff in four languages: the shipped patterns and word lists for en, vi, id and zh.

Every language's patterns are tried on every message (detection can be wrong and customers mix
languages), so each case goes through the whole policy, as the gate sees it. The negatives include
the FAQ questions closest to a request ("khi nào tôi nhận được tiền hoàn" asks when a refund
arrives, it does not ask for one) and the other languages' everyday words.
"""

from __future__ import annotations

import pytest

from actions.handoff.decision import decide
from actions.handoff.policy import ROOT, load_policy
from actions.handoff.signals import score_conversation
from actions.handoff.turns import misunderstood, small_talk, turns_from_events
from tests.actions.events import answered, user

POLICY = load_policy(ROOT / "policy.yml")
# What the classifier says of a message it is unsure of: neither the intent nor the FAQ topic
# is trusted, so only the words can fire a rule.
WEAK = {"confidence": 0.5, "faq_confidence": 0.3}


def decision(events: list[dict]):
    return decide(turns_from_events(events), POLICY)


def signal_names(events: list[dict]) -> list[str]:
    return [f.name for f in score_conversation(turns_from_events(events), POLICY)]


# --- greetings, thanks and goodbyes ---------------------------------------------------------

SMALL_TALK = [
    ("xin chào", "greet"),
    ("chào shop ạ", "greet"),
    ("Xin chao ad", "greet"),
    ("cảm ơn nhiều", "thank"),
    ("cam on shop", "thank"),
    ("Dạ em cảm ơn ạ 🙏", "thank"),
    ("cám ơn bạn nhiềuuu", "thank"),
    ("tạm biệt shop nhé", "goodbye"),
    ("halo kak", "greet"),
    ("Selamat pagi min", "greet"),
    ("makasih kak", "thank"),
    ("terima kasih", "thank"),
    ("makasih banyak ya kak atas bantuannya", "thank"),
    ("mksh gan", "thank"),
    ("oke dadah", "goodbye"),
    ("你好", "greet"),
    ("亲，在吗？", "greet"),
    ("谢谢", "thank"),
    ("好的谢谢亲！", "thank"),
    ("多谢老板", "thank"),
    ("拜拜", "goodbye"),
    ("88", "goodbye"),
    ("hi there", "greet"),
    ("Thanks a lot!!", "thank"),
    ("ok thanks, bye!", "goodbye"),
]


@pytest.mark.parametrize(("text", "kind"), SMALL_TALK)
def test_greetings_thanks_and_goodbyes_in_every_language(text: str, kind: str) -> None:
    assert small_talk(text, POLICY) == kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, where is my order",
        "thanks for nothing",
        "thanks but it didn't help",
        "hi 71042388",
        "chào shop, phí ship bao nhiêu",
        "cảm ơn nhưng vẫn chưa nhận được hàng",
        "halo min mau tanya ongkir",
        "makasih tapi paketnya belum sampai",
        "谢谢，订单到哪了",
        "你好我要退款",
        "好的",
        "ok",
        "shop ơi",
        "kak",
    ],
)
def test_anything_more_than_small_talk_is_not_small_talk(text: str) -> None:
    assert small_talk(text, POLICY) is None


@pytest.mark.parametrize(("text", "_kind"), SMALL_TALK)
def test_small_talk_is_never_misunderstood_even_when_the_classifier_is_unsure(
    text: str, _kind: str
) -> None:
    (turn,) = turns_from_events([user(text, "nlu_fallback", confidence=0.2)])
    assert not misunderstood(turn, POLICY)


def test_hello_then_thanks_is_not_two_misunderstandings() -> None:
    # issue 14: "xin chào" then "cảm ơn nhiều" were handed to a person for nlu_failure
    for first, second in [("xin chào", "cảm ơn nhiều"), ("halo kak", "makasih kak")]:
        events = [
            user(first, "nlu_fallback", confidence=0.2),
            user(second, "nlu_fallback", confidence=0.2),
        ]
        result = decision(events)
        assert (result.reason, result.consecutive_misunderstood) == (None, 0)
        assert result.small_talk in {"greet", "thank"}
        assert signal_names(events) == []
    events = [
        user("你好", "faq/order_status", faq_confidence=0.1),
        user("谢谢！！！", "nlu_fallback"),
    ]
    assert decision(events).reason is None and signal_names(events) == []


@pytest.mark.parametrize(
    "intent", ["request_refund", "request_human", "legal_threat", "bereavement", "complain"]
)
def test_small_talk_hands_nothing_over_whatever_the_classifier_guessed(intent: str) -> None:
    for text in ("cảm ơn nhiều", "terima kasih", "谢谢", "拜拜"):
        result = decision([user(text, intent, confidence=0.55)])
        assert not result.hands_off and result.gate != "offer_person", (text, intent)


def test_small_talk_after_misunderstandings_ends_the_streak() -> None:
    events = [user("asdf qwer", "nlu_fallback"), user("cam on shop", "nlu_fallback")]
    assert decision(events).consecutive_misunderstood == 0


# --- shouting without capitals, and repeats without spaces ----------------------------------

# "WHERE IS MY ORDER" in full-width capitals, as a Chinese keyboard may type it
FULL_WIDTH_WHERE_IS_MY_ORDER = "".join(
    chr(ord(c) + 0xFEE0) if c != " " else c for c in "WHERE IS MY ORDER"
)


@pytest.mark.parametrize(
    ("text", "shouting"),
    [
        ("订单到底什么时候到！！！", True),  # full-width, read as "!!!"
        ("怎么还没发货？？？", True),
        ("快递呢？！？", True),
        ("还没到。。。", True),
        ("！！我等了两个星期了！！", True),
        (FULL_WIDTH_WHERE_IS_MY_ORDER, True),
        ("TÔI ĐÃ CHỜ HAI TUẦN RỒI", True),
        ("KENAPA PAKET SAYA BELUM SAMPAI", True),
        ("你好，请问运费多少？", False),
        ("订单号71042388，什么时候发货?", False),
        # English words in capitals inside Chinese are names, not a raised voice
        ("我的PROMO CODE用不了，APP也打不开", False),
        ("好吧...", False),
        ("phí ship bao nhiêu vậy shop?", False),
    ],
)
def test_shouting_in_chinese_counts_runs_of_punctuation_not_capitals(
    text: str, shouting: bool
) -> None:
    assert ("shouting" in signal_names([user(text, "faq/order_status")])) is shouting


def test_thanks_with_exclamation_marks_is_not_shouting() -> None:
    for text in ("谢谢！！！", "cảm ơn shop!!!", "MAKASIH KAK!!!"):
        assert signal_names([user(text, "thank")]) == []


@pytest.mark.parametrize(
    ("first", "again", "topic", "repeat"),
    [
        ("运费多少钱", "运费到底多少钱啊", "faq/shipping_cost", True),
        ("phí ship bao nhiêu", "phi ship bao nhieu vay", "faq/shipping_cost", True),
        ("ongkir ke bandung berapa", "ongkir ke bandung berapa sih kak", "faq/shipping_cost", True),
        # a follow-up on the same topic is a new question
        ("能用支付宝吗", "那微信呢", "faq/payment_methods", False),
    ],
)
def test_a_repeated_question_in_any_language(first, again, topic, repeat) -> None:
    events = [*answered(first, topic), user(again, topic)]
    assert ("repeated_question" in signal_names(events)) is repeat
