"""A Rasa 3.6 NLU component: the learned frustration and effort signal.

How likely one customer message is to come from someone who is fed up or tells of effort already
spent: written or called again and again, waited weeks, charged what they did not expect,
dismissive ("this is a joke"), leaving for another shop. Customers say these in words no pattern
list anticipates, in four languages; policy.yml's patterns stay as the precise supplement.

It is trained on data/frustration/<language>.yml (frustrated and calm customer messages written
for it, hard look-alikes among the calm ones): frustration crosses every intent. The NLU data's
calm intents (questions, greetings, thanks, order numbers: `calm_intents`) are more calm examples,
so that an ordinary question in words the calm list lacks does not score as fed up. The
features are the message's e5 sentence embedding (what it means, in any of the languages) and its
character n-grams (spellings and slang the embedding reads poorly); a logistic regression weighs
them. A message of two or more sentences scores as its most frustrated sentence
("hi, when is autoship charged? also this is the third time I'm writing about the wrong bag"),
and that sentence is the text the brief shows. Output: `frustration: {score, text}` in the parse
data; actions/handoff/signals.py fires the `learned` signal from it (policy.yml says at what
score, with what weight).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import yaml
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
from actions.nlu.linear import fold, masked_text, sentences

SAVED_FILE = "frustration.joblib"


def read_file(path: Path) -> tuple[list[str], list[int]]:
    """One file's messages: 1 for frustrated (any category), 0 for calm."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    frustrated = data.get("frustrated") or {}
    calm = data.get("calm") or []
    if not isinstance(frustrated, dict) or not isinstance(calm, list):
        raise ValueError(
            f"{path}: expected `frustrated:` (categories of messages) and `calm:` (messages)"
        )
    texts = [str(line) for lines in frustrated.values() for line in lines or []]
    labels = [1] * len(texts)
    texts += [str(line) for line in calm]
    labels += [0] * len(calm)
    return texts, labels


def read_examples(folder: Path) -> tuple[list[str], list[int]]:
    """Every message of the folder's files, 1 for frustrated, 0 for calm."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise ValueError(f"{folder}: no training files for the frustration signal (*.yml)")
    texts: list[str] = []
    labels: list[int] = []
    for path in files:
        found, kinds = read_file(path)
        texts += found
        labels += kinds
    if len(set(labels)) < 2:
        raise ValueError(f"{folder}: the frustration signal needs frustrated and calm messages")
    return texts, labels


def mask(text: str, regexes: list[re.Pattern[str]], names: list[str]) -> str:
    """The training text as the intent classifier would see it in a conversation: each match of
    the NLU data's regexes (data/nlu/entities.yml) replaced by its name, as masked_text does with
    what RegexEntityExtractor finds."""
    for regex, name in zip(regexes, names, strict=True):
        text = regex.sub(lambda m, name=name: f" __{name}__ ", text)
    return text


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_classifier(config: dict[str, Any]) -> Pipeline:
    from actions.nlu.e5 import E5Features

    features = make_union(
        TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(config["char_ngrams"]),
            sublinear_tf=True,
            preprocessor=fold,
        ),
        E5Features(weight=config["embedding_weight"]),
    )
    return make_pipeline(
        features,
        LogisticRegression(C=config["C"], class_weight="balanced", max_iter=2000),
    )


def everyday_examples(training_data: TrainingData, calm_intents: list[str]) -> list[str]:
    """The NLU data's examples of calm intents, masked as the intent classifier sees them."""
    calm = set(calm_intents)
    return [
        masked_text(m)
        for m in training_data.intent_examples
        if m.get("intent") in calm and m.get("text")
    ]


def fit(
    config: dict[str, Any], texts: list[str], labels: np.ndarray, everyday: list[str]
) -> Pipeline:
    """The classifier fitted on the labelled messages and, as more calm ones weighted by
    `calm_weight`, the everyday NLU examples."""
    weights = np.concatenate(
        [np.ones(len(texts)), np.full(len(everyday), float(config["calm_weight"]))]
    )
    return build_classifier(config).fit(
        [*texts, *everyday],
        np.concatenate([labels, np.zeros(len(everyday), dtype=int)]),
        logisticregression__sample_weight=weights,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class FrustrationScorer(GraphComponent):
    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """Its code and its training files: Rasa's cache cannot see files it does not read."""
        folder = Path(config.get("data", cls.get_default_config()["data"]))
        return source_digest() + (folder_digest(folder) if folder.is_dir() else "")

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "data": "data/frustration",  # relative to the project, where Rasa trains
            "char_ngrams": [2, 4],
            "embedding_weight": 2.0,
            "C": 1.0,
            # NLU intents whose examples are calm messages, and the weight each one has
            "calm_intents": [
                "faq",
                "greet",
                "thank",
                "goodbye",
                "affirm",
                "deny",
                "acknowledge",
                "bot_challenge",
                "ask_capabilities",
                "inform_order",
                "out_of_scope",
            ],
            "calm_weight": 1.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Pipeline | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.classifier = classifier

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationScorer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = read_examples(Path(self.config["data"]))
        features = training_data.regex_features
        regexes = [re.compile(f["pattern"]) for f in features]
        texts = [mask(text, regexes, [f["name"] for f in features]) for text in texts]
        everyday = everyday_examples(training_data, self.config["calm_intents"])
        self.classifier = fit(self.config, texts, np.asarray(labels), everyday)
        with self._storage.write_to(self._resource) as directory:
            # joblib (pickle): produced and loaded by this project's own training
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
    ) -> FrustrationScorer:
        with model_storage.read_from(resource) as directory:
            saved = joblib.load(directory / SAVED_FILE)
        scorer = cls(config, model_storage, resource, saved["classifier"])
        scorer.scores(["hello"])  # its encoder loads at start-up, not on a first message
        return scorer

    def scores(self, texts: list[str]) -> np.ndarray:
        assert self.classifier is not None
        return np.asarray(self.classifier.predict_proba(texts))[:, 1]

    def process(self, messages: list[Message]) -> list[Message]:
        if self.classifier is None:
            return messages
        # each message and its sentences, as the intent classifier sees them (entities masked):
        # the same texts, so the encoder's recent embeddings are reused
        parts = [[text, *sentences(text)] for text in (masked_text(m) for m in messages)]
        scored = iter(self.scores([text for part in parts for text in part]))
        for message, part in zip(messages, parts, strict=True):
            written = str(message.get("text") or "")
            shown = [written, *sentences(written)]  # what the brief quotes: the text as written
            if len(shown) != len(part):
                shown = [written] * len(part)
            score, text = max(
                ((float(next(scored)), text) for text in shown), key=lambda pair: pair[0]
            )
            message.set("frustration", {"score": round(score, 4), "text": text}, add_to_output=True)
        return messages
