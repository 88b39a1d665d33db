"""A Rasa 3.6 NLU component: the language each message is written in, when that is clear.

Customers often write in their own language on a page that says `en`. Two opinions are combined
(their probabilities multiplied): py3langid's (BSD-3, its model inside the wheel; installed
--no-deps: it declares numpy >= 2 but runs on Rasa's numpy 1.23), restricted to the bot's
languages because unrestricted every detector takes Indonesian for Malay; and a small classifier
trained on the bot's own examples, labelled by their intent block's `metadata: {language: ..}`
(English when absent), which knows how customers of this shop write, Vietnamese without tone
marks above all ("huy autoship sao vay shop"), where py3langid alone is right 9 times in 10.
Short messages ("ok", "hi", a bare order number) say little about their language, so only a
message of `min_words` or more words identified with at least `min_confidence` counts; otherwise
the conversation keeps its language.

The result is written twice: as `language` in the parse data ({code, confidence, words}, so the
tracker keeps every message's language), and, when it counts, as an entity `language` that the
domain's `language` slot is filled from (so the bot answers in the language the customer writes,
from the next response on). Put it last in the pipeline: the intent classifier masks entities by
their position in the text, and this one has none.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from actions.nlu import source_digest
from actions.nlu.linear import TOKEN_PATTERN, fold

SAVED_FILE = "language.joblib"

_WORD = re.compile(TOKEN_PATTERN)
_DIGITS = re.compile(r"\d+")


@cache
def _identifier(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def words_of(text: str) -> int:
    """Words that say something of a language: not digits, not masked entities; Han characters
    count one each."""
    return sum(1 for w in _WORD.findall(text) if not _DIGITS.fullmatch(w) and "__" not in w)


def language_of(message: Message, default: str) -> str:
    """A training example's language: its intent block's `metadata: {language: ..}`."""
    metadata = message.get("metadata") or {}
    block = metadata.get("intent") if isinstance(metadata, dict) else None
    code = block.get("language") if isinstance(block, dict) else None
    return str(code) if code else default


def build_classifier() -> Pipeline:
    return make_pipeline(
        make_union(
            # toned and toneless spellings alike, and the tone marks themselves
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, preprocessor=fold
            ),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        ),
        # one-vs-rest liblinear: a second or two to train where lbfgs took 40 s
        LogisticRegression(C=10, solver="liblinear", class_weight="balanced"),
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LanguageDetector(GraphComponent):
    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """Its code: Rasa's training cache otherwise restores a component trained by old code."""
        return source_digest()

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # the bot's languages: the domain's `language` slot values
            "languages": ["en", "vi", "id", "zh"],
            "min_words": 2,
            "min_confidence": 0.9,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Pipeline | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.languages = tuple(str(code) for code in self.config["languages"])
        self._storage = model_storage
        self._resource = resource
        self.classifier = classifier
        _identifier(self.languages)  # its model loads at start-up, not on a first message

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get("text")]
        labels = [language_of(m, self.languages[0]) for m in examples]
        unknown = sorted(set(labels) - set(self.languages))
        if unknown:
            raise ValueError(
                f"training examples in {unknown}, not among languages {self.languages}"
            )
        if len(set(labels)) >= 2:
            self.classifier = build_classifier().fit([m.get("text") for m in examples], labels)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump({"classifier": self.classifier}, directory / SAVED_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        with model_storage.read_from(resource) as directory:
            saved = joblib.load(directory / SAVED_FILE)
        return cls(config, model_storage, resource, saved["classifier"])

    def identify(self, text: str) -> tuple[str, float]:
        """The most likely of the bot's languages, and its probability."""
        ranked = dict(_identifier(self.languages).rank(text))
        scores = np.array([float(ranked.get(code, 0.0)) for code in self.languages])
        if self.classifier is not None:
            probabilities = self.classifier.predict_proba([text])[0]
            learned = dict(zip(self.classifier.classes_, probabilities, strict=True))
            scores *= np.array([float(learned.get(code, 0.0)) for code in self.languages])
        if scores.sum() <= 0:
            return self.languages[0], 0.0
        scores /= scores.sum()
        best = int(scores.argmax())
        return self.languages[best], float(scores[best])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = str(message.get("text") or "")
            words = words_of(text)
            code, confidence = self.identify(text) if words else (self.languages[0], 0.0)
            message.set(
                "language",
                {"code": code, "confidence": round(confidence, 4), "words": words},
                add_to_output=True,
            )
            # a tapped button's payload is the shop's words, not the customer's
            tapped = bool((message.get("metadata") or {}).get("button"))
            if (
                not tapped
                and words >= self.config["min_words"]
                and confidence >= self.config["min_confidence"]
            ):
                entity = {
                    "entity": "language",
                    "value": code,
                    "confidence": confidence,
                    "extractor": type(self).__name__,
                }
                message.set("entities", [*(message.get("entities") or []), entity], True)
        return messages
