"""Confidence that keeps its scale with few examples per intent.

The classifier's probabilities come from scikit-learn's sigmoid calibration: one sigmoid per label,
fitted on the held-out folds, the rows then normalised. With few examples per label each sigmoid
sees two or three positives among hundreds of negatives and stays near the label's prior, so the
top probability of a 60-label model trained on 8 examples each is 0.04-0.15 even when it is right:
below any fallback threshold. One temperature over the rows' logarithms, fitted on the same
held-out folds by likelihood, restores the scale: with 5 examples per intent, the share of right
answers that fall below the bot's threshold goes from about half to a few percent, and with
plenty of examples it changes little (docs/benchmarks.md, "Few examples per intent").
A temperature keeps each row's order, so the top label never changes.
"""

from __future__ import annotations

import numpy as np

# log-spaced candidates: sharper (below 1) or flatter (above 1) than the sigmoid calibration
TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(4.0), 120))


def temper(rows: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(rows) / temperature), row by row; an all-zero row stays zero."""
    rows = np.atleast_2d(rows)
    if temperature == 1.0:
        return rows
    logits = np.log(np.clip(rows, 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    tempered = np.exp(logits)
    tempered /= tempered.sum(axis=1, keepdims=True)
    return np.where(rows.sum(axis=1, keepdims=True) > 0, tempered, rows)


def fit_temperature(rows: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that makes held-out rows most likely: `truth` is each row's label index."""
    picked = np.arange(len(truth))

    def loss(temperature: float) -> float:
        return float(-np.log(temper(rows, temperature)[picked, truth] + 1e-12).mean())

    return float(min(TEMPERATURES, key=loss))


def answered_wrong(rows: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[float, float]:
    """Of held-out rows: the share answered (top probability at `threshold` or above), and the
    share of those whose top label is wrong."""
    confident = rows.max(axis=1) >= threshold
    wrong = rows.argmax(axis=1) != truth
    answered = float(confident.mean()) if len(rows) else 0.0
    return answered, float((confident & wrong).sum() / max(int(confident.sum()), 1))
