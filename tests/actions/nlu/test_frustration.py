"""The learned frustration signal's component: what it reads, what it reports to Rasa.

Trained here on a few lines in a temporary folder (with the real e5 encoder, a second or two); the
shipped data and settings are measured by tests/nlu/frustration_cv.py and the handoff evaluation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.nlu.frustration import (
    FrustrationScorer,
    folder_digest,
    mask,
    read_examples,
    read_file,
)

DATA = """
version: 1
language: en
frustrated:
  contact_history:
    - this is my fourth message about the same missing box
    - I have called three times and nobody ever calls back
    - every time I write in someone says it's fixed and it never is
  waiting:
    - three weeks I've been waiting for this refund
    - I've been going back and forth with you people since Monday
  churn:
    - honestly I'm about done with this shop, I'll order elsewhere
calm:
  - how much is shipping to Hawaii
  - when does my autoship get charged
  - do you sell cat litter in bulk
  - thanks, that sorted it
  - can I change the delivery address on order 71638204
  - what sizes does the harness come in
"""


def scorer(tmp_path: Path, nlu: TrainingData | None = None) -> FrustrationScorer:
    folder = tmp_path / "frustration"
    folder.mkdir(parents=True)
    (folder / "en.yml").write_text(DATA, encoding="utf-8")
    component = FrustrationScorer.create(
        {**FrustrationScorer.get_default_config(), "data": str(folder)},
        LocalModelStorage(tmp_path),
        Resource("frustration"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    component.train(nlu or TrainingData())
    return component


def test_it_scores_each_message_and_quotes_its_most_frustrated_sentence(tmp_path: Path) -> None:
    component = scorer(tmp_path)
    calm = Message(data={"text": "how much is delivery to Alaska"})
    story = Message(
        data={
            "text": "hi, what sizes do the beds come in? also this is the fifth time I'm writing "
            "about my missing order"
        }
    )
    component.process([calm, story])
    calm_found, story_found = calm.get("frustration"), story.get("frustration")
    assert story_found["score"] > 0.5 > calm_found["score"]
    assert story_found["text"] == "also this is the fifth time I'm writing about my missing order"
    assert calm_found["text"] == "how much is delivery to Alaska"
    assert "frustration" in calm.as_dict(only_output_properties=True)


def test_the_nlu_datas_calm_intents_are_calm_examples_and_the_others_are_not(
    tmp_path: Path,
) -> None:
    # a plain statement of the wait, which the frustrated lines above resemble
    asked = "I have been waiting three weeks for my order to arrive, where is it"
    alone = scorer(tmp_path / "alone").scores([asked])[0]

    def example(intent: str) -> Message:
        return Message(data={"text": asked, "intent": intent})

    calm = scorer(tmp_path / "calm", TrainingData([example("faq")])).scores([asked])[0]
    other = scorer(tmp_path / "other", TrainingData([example("request_refund")])).scores([asked])
    assert calm < alone - 0.05
    assert other[0] == pytest.approx(alone)


def test_training_texts_are_masked_as_the_intent_classifier_sees_messages() -> None:
    regexes = [re.compile(r"(?<![\d.,$])7\d{7}(?![\d.,]\d)")]
    assert mask("where is 71638204 now", regexes, ["order_id"]) == ("where is  __order_id__  now")


def test_a_folder_without_files_or_without_both_kinds_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no training files"):
        read_examples(tmp_path)
    (tmp_path / "en.yml").write_text("calm:\n  - hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="frustrated and calm"):
        read_examples(tmp_path)
    (tmp_path / "en.yml").write_text("frustrated: [a, b]\ncalm: [c]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected `frustrated:`"):
        read_examples(tmp_path)


def test_its_training_files_are_part_of_its_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "en.yml").write_text(DATA, encoding="utf-8")
    before = FrustrationScorer.fingerprint_addon({"data": str(tmp_path)})
    assert before.endswith(folder_digest(tmp_path))
    (tmp_path / "en.yml").write_text(DATA + "  - one more calm line\n", encoding="utf-8")
    assert FrustrationScorer.fingerprint_addon({"data": str(tmp_path)}) != before


def test_the_shipped_data_has_both_kinds_in_every_language() -> None:
    root = Path(__file__).resolve().parents[3] / "data" / "frustration"
    for code in ("en", "vi", "id", "zh"):
        texts, labels = read_file(root / f"{code}.yml")
        assert sum(labels) >= 100 and len(labels) - sum(labels) >= 150, code
        assert len(set(texts)) == len(texts), f"{code}: duplicate lines"
