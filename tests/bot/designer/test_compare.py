from __future__ import annotations

from typing import Any

from bot.designer.compare import compare


def report(accuracy: float, recall: float = 0.95, failed: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "nlu": {
            "accuracy": accuracy, "macro_f1": accuracy, "examples": 345, "confusions": [],
            "per_label": {"faq/order_status": {"precision": accuracy, "recall": accuracy,
                                               "f1": accuracy, "support": 5}},
        },
        "handoff": {"conversations": 188, "precision": 1.0, "recall": recall,
                    "reason_accuracy": 0.99},
        "stories": {"total": 80, "failed": len(failed), "failed_names": list(failed)},
    }  # fmt: skip


def test_a_worse_candidate_is_reported_as_worse() -> None:
    result = compare(report(0.92), report(0.85))
    assert result["verdict"] == "worse"
    assert result["worse"][0] == "held-out accuracy fell from 0.920 to 0.850"
    [order] = result["per_label"]
    assert round(order["f1_change"], 2) == -0.07


def test_a_story_that_now_fails_makes_it_worse_even_with_equal_scores() -> None:
    result = compare(report(0.92), report(0.92, failed=("order_status single turn",)))
    assert result["verdict"] == "worse" and "order_status single turn" in result["worse"][0]


def test_better_mixed_and_same() -> None:
    assert compare(report(0.90), report(0.93))["verdict"] == "better"
    assert compare(report(0.90, recall=0.97), report(0.93, recall=0.90))["verdict"] == "mixed"
    # a change of less than one held-out example is noise
    assert compare(report(0.920), report(0.918))["verdict"] == "same"
