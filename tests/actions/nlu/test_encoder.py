"""The numpy MiniLM encoder the NLU classifier uses for sentence embeddings."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from actions.nlu.encoder import SentenceFeatures, WordPiece, model_directory, shared_encoder


def test_wordpiece_splits_like_bert_uncased() -> None:
    tokenizer = WordPiece(model_directory() / "vocab.txt")
    assert tokenizer.words("Where's my Café-order #1042?") == [
        "where",
        "'",
        "s",
        "my",
        "cafe",
        "-",
        "order",
        "#",
        "1042",
        "?",
    ]
    ids = tokenizer.encode("Autoship")
    words = {i: word for word, i in tokenizer.vocab.items()}
    pieces = [words[i] for i in ids[1:-1]]
    assert ids[0] == tokenizer.start and ids[-1] == tokenizer.end
    assert len(pieces) > 1 and pieces[1].startswith("##")
    assert "".join(p.removeprefix("##") for p in pieces) == "autoship"


def test_embeddings_are_unit_length_and_put_paraphrases_close() -> None:
    encoder, _ = shared_encoder()
    vectors = encoder.encode(
        [
            "where is my order",
            "my parcel has not arrived yet",
            "how do I change my password",
            "",
        ]
    )
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.1


def test_one_message_gives_the_same_vector_as_in_a_batch() -> None:
    encoder, _ = shared_encoder()
    texts = ["cancel my autoship", "a much longer message about a delivery that came late again"]
    batch = encoder.encode(texts * 5)  # 10 texts: the multi-threaded path, with padding
    alone = encoder.encode(texts[:1])
    assert np.allclose(batch[0], alone[0], atol=1e-5)


def test_a_pickled_model_keeps_no_weights_and_refuses_other_weights() -> None:
    features = SentenceFeatures(weight=2.0).fit(["hello"])
    blob = pickle.dumps(features)
    assert len(blob) < 2_000  # the 90 MB of weights are read from the package, not the model
    restored = pickle.loads(blob)
    assert np.allclose(np.linalg.norm(restored.transform(["hello"]), axis=1), 2.0, atol=1e-4)
    restored.weights_digest_ = "0" * 64
    with pytest.raises(RuntimeError, match="other MiniLM weights"):
        restored.transform(["hello"])
