"""The NLU classifier component: known words, sentences, and what it reports to Rasa.

Trained here on a few made-up examples with the n-gram features only (no sentence encoder), so
the test runs in a second; the shipped settings are measured by tests/nlu/cross_validate.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.nlu.linear import (
    LinearIntentClassifier,
    fold,
    known_share,
    ranked_intents,
    sentences,
)

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey", "hello again", "hi hi"],
    "request_refund": [
        "I want a refund",
        "give me my money back",
        "refund my order please",
        "I would like a refund for the bowl",
        "can I get a refund",
        "please refund me",
    ],
    "faq/order_status": [
        "where is my order",
        "has my order shipped",
        "track my package",
        "when will my order arrive",
        "order status please",
        "where is my parcel",
    ],
}


def train(tmp_path: Path, **config: Any) -> LinearIntentClassifier:
    return train_on(tmp_path, EXAMPLES, **config)


def train_on(
    tmp_path: Path, examples: dict[str, list[str]], **config: Any
) -> LinearIntentClassifier:
    tmp_path.mkdir(parents=True, exist_ok=True)
    messages = []
    for label, texts in examples.items():
        intent, _, topic = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if topic:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    classifier = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("linear_intent"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    classifier.train(TrainingData(training_examples=messages))
    return classifier


def parse(classifier: LinearIntentClassifier, text: str) -> Message:
    message = Message(data={"text": text})
    classifier.process([message])
    return message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("where is my order", []),
        ("where is my order? I want a refund", ["where is my order?", "I want a refund"]),
        ("ok. I want a refund", []),  # "ok" is not a sentence of two words
        ("it broke!\nrefund me please", ["it broke!", "refund me please"]),
        ("version 2.5 of the app crashed", []),  # no space after the point
        # Chinese ends sentences with 。！？ and no space
        ("东西坏了。我要退款！", ["东西坏了。", "我要退款！"]),
        ("在吗？运费多少", ["在吗？", "运费多少"]),
    ],
)
def test_sentences_of_a_longer_message(text: str, found: list[str]) -> None:
    assert sentences(text) == found


def test_known_share_counts_words_seen_in_training(tmp_path: Path) -> None:
    classifier = train(tmp_path)
    assert classifier.pipeline is not None
    assert known_share(classifier.pipeline, "where is my order") == 1.0
    assert known_share(classifier.pipeline, "where is my zqxv") == 0.75
    assert known_share(classifier.pipeline, "zqxv wwpl") == 0.0
    assert known_share(classifier.pipeline, "?!") == 0.0


def test_a_message_with_too_few_known_words_gets_no_confidence(tmp_path: Path) -> None:
    strict = train(tmp_path / "strict", min_known_share=0.5)
    lenient = train(tmp_path / "lenient")
    text = "whre iz my ordr"  # one known word in four
    assert parse(strict, text).get("intent")["confidence"] == 0.0
    assert parse(lenient, text).get("intent")["confidence"] > 0.0
    # a mash with no known word at all is not understood whatever the setting
    assert parse(lenient, "qwertyuiop zxcv").get("intent")["confidence"] == 0.0


def test_each_sentence_of_a_longer_message_is_classified_alone(tmp_path: Path) -> None:
    classifier = train(tmp_path, sentences=True)
    message = parse(classifier, "hi there. where is my order. I want a refund")
    found = message.get("sentences")
    assert [s["text"] for s in found] == ["hi there.", "where is my order.", "I want a refund"]
    assert [s["name"] for s in found] == ["greet", "faq", "request_refund"]
    assert all(0.0 < s["confidence"] <= 1.0 for s in found)
    assert "sentences" in message.as_dict(only_output_properties=True)
    # one sentence: nothing more to say than the message's own intent
    assert parse(classifier, "where is my order").get("sentences") is None
    # switched off (the default), no sentences are classified
    assert parse(train(tmp_path / "off"), "hi there. I want a refund").get("sentences") is None


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Phí giao hàng là bao nhiêu", "phi giao hang la bao nhieu"),
        ("ĐƠN HÀNG đâu rồi", "don hang dau roi"),
        ("运费多少！！", "运费多少!!"),  # Han unchanged, full-width punctuation made plain
        ("Where is my order", "where is my order"),
    ],
)
def test_the_ngrams_see_vietnamese_with_or_without_tone_marks_alike(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_each_chinese_character_is_a_word(tmp_path: Path) -> None:
    EXAMPLES["faq/shipping_cost"] = ["运费多少", "运费怎么算", "要付运费吗", "包邮吗", "邮费多少"]
    try:
        classifier = train(tmp_path, min_known_share=0.3)
    finally:
        del EXAMPLES["faq/shipping_cost"]
    assert classifier.pipeline is not None
    # a sentence unseen as a whole is still mostly known words: its characters
    assert known_share(classifier.pipeline, "运费是多少钱") == pytest.approx(4 / 6)
    message = parse(classifier, "运费是多少钱")
    assert message.get("intent")["name"] == "faq"
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == (
        "faq/shipping_cost"
    )


def test_toneless_vietnamese_meets_the_toned_training_examples(tmp_path: Path) -> None:
    EXAMPLES["faq/shipping_cost"] = [
        "phí giao hàng bao nhiêu",
        "phí ship là bao nhiêu vậy",
        "giao hàng có mất phí không",
        "tiền ship bao nhiêu shop",
        "miễn phí giao hàng không",
    ]
    try:
        classifier = train(tmp_path, min_known_share=0.3)
    finally:
        del EXAMPLES["faq/shipping_cost"]
    assert classifier.pipeline is not None
    assert known_share(classifier.pipeline, "phi giao hang bao nhieu") == 1.0
    message = parse(classifier, "phi ship bao nhieu vay shop")
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == (
        "faq/shipping_cost"
    )


def test_one_clear_label_beats_many_faq_topics_together() -> None:
    labels = ["faq/a", "faq/b", "faq/c", "out_of_scope", "greet"]
    # the topics share 0.6 between them, out_of_scope alone has 0.35
    ranking = ranked_intents(labels, np.array([0.2, 0.2, 0.2, 0.35, 0.05]))
    assert ranking[0] == ("out_of_scope", 0.35)
    assert dict(ranking)["faq"] == pytest.approx(0.2)  # its best topic, not the sum
    # when a topic is the single most likely label, faq counts with the sum of its topics
    ranking = ranked_intents(labels, np.array([0.4, 0.1, 0.1, 0.35, 0.05]))
    assert ranking[0][0] == "faq" and ranking[0][1] == pytest.approx(0.6)


def test_the_components_code_is_part_of_their_training_fingerprint() -> None:
    from actions.nlu import source_digest
    from actions.nlu.language import LanguageDetector

    digest = source_digest()
    assert len(digest) == 64
    assert LinearIntentClassifier.fingerprint_addon({}) == digest
    assert LanguageDetector.fingerprint_addon({}) == digest
