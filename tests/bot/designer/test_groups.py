from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from bot.designer.groups import group
from bot.settings import ROOT

GIFT_CARDS = [
    "do you sell gift cards",
    "can I buy a gift card for my sister",
    "gift card balance?",
    "do u have giftcards",
    "how do I check my gift card balance",
    "buy a gift card online",
    "is there an e-gift card I can email",
    "I got a gift card, how do I use it at checkout",
    "gift card not working",
    "where do I enter a gift card code",
    "can i pay with a gift card",
    "do gift cards expire",
    "send a gift card to a friend",
    "giftcard for christmas?",
]
OTHER = [
    "where is my order",
    "my order hasn't arrived",
    "how much is shipping",
    "cancel my autoship",
    "what's the weather like",
    "my dog ate a sock",
    "how do i reset my password",
    "can you deliver on sunday",
    "do you sell fish",
    "i want a refund for the broken bowl",
]


def test_a_missing_topic_shows_up_as_one_big_group_first() -> None:
    texts = GIFT_CARDS + OTHER
    random.Random(7).shuffle(texts)
    groups = group(texts)
    biggest = {texts[m] for m in groups[0].members}
    assert len(biggest & set(GIFT_CARDS)) >= 12 and len(biggest - set(GIFT_CARDS)) <= 1
    assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)
    assert sorted(m for g in groups for m in g.members) == list(range(len(texts)))


def test_grouping_is_the_same_in_every_process() -> None:
    # `python -m bot designer label --group ID` names a group found by an earlier command: the
    # ids and members must not depend on the process's string hashing (set and dict order)
    texts = GIFT_CARDS + OTHER
    script = (
        "import json, sys; from bot.designer.groups import group; "
        "print(json.dumps([[g.id, list(g.members)] for g in group(json.load(sys.stdin))]))"
    )
    here = [[g.id, list(g.members)] for g in group(texts)]
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(run.stdout) == here


def test_nothing_in_nothing_out() -> None:
    assert group([]) == []
    assert [g.size for g in group(["hi", "??"])] == [1, 1]


def test_chinese_and_toneless_vietnamese_messages_group_with_their_kind() -> None:
    texts = ["运费多少钱", "运费是多少", "我要退款", "phí ship bao nhiêu", "phi ship bao nhieu vay"]
    found = {tuple(texts[m] for m in g.members) for g in group(texts)}
    assert ("运费多少钱", "运费是多少") in found
    assert ("phí ship bao nhiêu", "phi ship bao nhieu vay") in found


def test_groups_stay_within_one_language() -> None:
    from bot.designer.inbox import Item
    from bot.designer.loop import grouped

    items = [
        Item(f"k{i}", f"c{i}", text, "2026-12-03T08:00:00", ["not_understood"], language=code)
        for i, (text, code) in enumerate(
            [("ship bao nhieu", "vi"), ("ship bao nhieu vay", "vi"), ("phi ship bao nhieu", "en")]
        )
    ]
    groups = grouped(items)
    assert sorted((g["language"], g["size"]) for g in groups) == [("en", 1), ("vi", 2)]
    assert all({i["language"] for i in g["items"]} == {g["language"]} for g in groups)


def full_width(text: str) -> str:
    """`text` as a Chinese or Japanese keyboard types it: each ASCII letter and sign full-width."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_normalised_duplicates_are_one_group() -> None:
    # case, punctuation, spacing, Vietnamese tone marks and full-width forms aside, the same
    # message; "thank you" has no word left once the stop words go, and copies still group
    copies = {
        "address": ["how do I change my delivery address", "How do I change my delivery address?",
                    "how do i  change my DELIVERY address!!",
                    full_width("how do I change my delivery address?")],
        "vi": ["Làm sao đổi địa chỉ giao hàng?", "lam sao doi dia chi giao hang"],
        "zh": ["运费多少？", "运费多少?"],
        "thanks": ["thank you", "Thank you!"],
    }  # fmt: skip
    texts = [t for ts in copies.values() for t in ts] + OTHER
    random.Random(3).shuffle(texts)
    found = [{texts[m] for m in g.members} for g in group(texts)]
    for name, same in copies.items():
        assert any(set(same) <= members for members in found), name
    assert sorted(m for g in group(texts) for m in g.members) == list(range(len(texts)))


def test_copies_of_one_message_told_apart_as_two_languages_are_one_group() -> None:
    from bot.designer.inbox import Item
    from bot.designer.loop import grouped

    # the language detector's guess in one conversation, the conversation's language in others
    items = [
        Item(f"k{i}", f"c{i}", text, "2026-12-03T08:00:00", ["handoff_nlu_failure"], language=code)
        for i, (text, code) in enumerate(
            [
                ("how do I change my delivery address", "en"),
                ("How do I change my delivery address?", "id"),
                ("how do i change my delivery address", "en"),
            ]
        )
    ]
    [one] = grouped(items)
    assert (one["size"], one["language"]) == (3, "en")
    assert {i["language"] for i in one["items"]} == {"en"}
