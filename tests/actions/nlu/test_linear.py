"""The NLU classifier component: known words, sentences, and what it reports to Rasa.

Trained here on a few made-up examples with the n-gram features only (no sentence encoder), so
the test runs in a second; the shipped settings are measured by tests/nlu/cross_validate.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.nlu.linear import LinearIntentClassifier, known_share, sentences

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
    tmp_path.mkdir(parents=True, exist_ok=True)
    messages = []
    for label, texts in EXAMPLES.items():
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
