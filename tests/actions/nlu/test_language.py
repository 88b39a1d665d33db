"""Each message's language: identified when clear, and then filling the `language` slot."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.nlu.language import LanguageDetector

# A few of the bot's own examples per language, labelled as data/nlu/<code>/*.yml label them.
EXAMPLES = {
    "en": ["where is my order", "how much is shipping", "cancel my autoship", "thanks a lot"],
    "vi": [
        "don hang cua em dau roi",
        "phí ship bao nhiêu",
        "huy autoship giup minh",
        "cam on shop",
    ],
    "id": ["pesanan sy dmn ya kak", "ongkir brp", "cara cancel autoship gmn", "makasih kak"],
    "zh": ["我的订单到哪了", "运费多少", "怎么取消autoship", "谢谢"],
}


def training_data() -> TrainingData:
    return TrainingData(
        training_examples=[
            Message(
                data={"text": text, "intent": "x"}
                | ({} if code == "en" else {"metadata": {"intent": {"language": code}}})
            )
            for code, texts in EXAMPLES.items()
            for text in texts
        ]
    )


def create(tmp_path: pytest.TempPathFactory) -> LanguageDetector:
    return LanguageDetector.create(
        LanguageDetector.get_default_config(),
        LocalModelStorage(tmp_path.mktemp("language")),
        Resource("language"),
        ExecutionContext(GraphSchema({}), "test"),
    )


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> LanguageDetector:
    trained = create(tmp_path_factory)
    trained.train(training_data())
    return LanguageDetector.load(
        trained.config, trained._storage, trained._resource, ExecutionContext(GraphSchema({}), "")
    )


def detect(detector: LanguageDetector, text: str) -> Message:
    message = Message(data={"text": text})
    detector.process([message])
    return message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("phí giao hàng là bao nhiêu", "vi"),
        ("phi giao hang bao nhieu vay shop", "vi"),  # without tone marks
        ("berapa ongkos kirim ke jakarta kak", "id"),  # Indonesian, not Malay
        ("运费多少钱", "zh"),
        ("refund一下可以吗", "zh"),  # Chinese with an English word
        ("where is my order", "en"),
    ],
)
def test_a_clear_message_sets_the_language(
    detector: LanguageDetector, text: str, code: str
) -> None:
    message = detect(detector, text)
    assert message.get("language")["code"] == code
    assert {"entity": "language", "value": code}.items() <= message.get("entities")[-1].items()
    assert "language" in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize("text", ["ok", "hi", "71042388", "👍", ""])
def test_a_message_too_short_to_tell_leaves_the_language_as_it_was(
    detector: LanguageDetector, text: str
) -> None:
    message = detect(detector, text)
    assert not [e for e in message.get("entities") or [] if e["entity"] == "language"]
    assert message.get("language")["words"] <= 1


def test_a_tapped_buttons_payload_leaves_the_language_as_it_was(
    detector: LanguageDetector,
) -> None:
    """A Vietnamese customer tapping "Đơn hàng của tôi đâu rồi?" sends its English payload."""
    tapped = Message(data={"text": "Where is my order?", "metadata": {"button": True}})
    detector.process([tapped])
    assert tapped.get("language")["code"] == "en"  # still told, for the record
    assert not [e for e in tapped.get("entities") or [] if e["entity"] == "language"]
    typed = detect(detector, "Where is my order?")
    assert [e["value"] for e in typed.get("entities") if e["entity"] == "language"] == ["en"]


def test_the_language_entity_comes_after_the_others_and_has_no_span(
    detector: LanguageDetector,
) -> None:
    order = {"entity": "order_id", "value": "71042388", "start": 10, "end": 18}
    message = Message(data={"text": "đơn hàng 71042388 của em đâu rồi", "entities": [order]})
    detector.process([message])
    assert message.get("entities")[0] == order
    assert "start" not in message.get("entities")[1]


def test_examples_in_a_language_the_bot_does_not_speak_stop_training(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = training_data()
    data.training_examples[0].set("metadata", {"intent": {"language": "fr"}})
    with pytest.raises(ValueError, match="fr"):
        create(tmp_path_factory).train(data)


def test_untrained_it_goes_by_py3langid_alone(tmp_path_factory: pytest.TempPathFactory) -> None:
    untrained = create(tmp_path_factory)
    assert detect(untrained, "phí giao hàng là bao nhiêu").get("language")["code"] == "vi"
