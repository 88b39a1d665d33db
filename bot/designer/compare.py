"""The candidate beside the serving model: the same measures, side by side, and a verdict.

Reports come from `tests/model_report.py`. "Worse" means any headline measure dropped by more
than the noise of the set (one example of the held-out set, one conversation of the handoff set)
or a test story that passed now fails; the designer decides, the verdict only says so plainly.
"""

from __future__ import annotations

from typing import Any

HEADLINES = (
    ("nlu", "accuracy", "held-out accuracy"),
    ("nlu", "macro_f1", "held-out macro-F1"),
    ("handoff", "precision", "handoff precision"),
    ("handoff", "recall", "handoff recall"),
    ("handoff", "reason_accuracy", "handoff reason accuracy"),
)


def _tolerance(report: dict[str, Any], section: str) -> float:
    size = report["nlu"]["examples"] if section == "nlu" else report["handoff"]["conversations"]
    return 1 / max(1, int(size))


def compare(current: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    rows, worse, better = [], [], []
    for section, key, name in HEADLINES:
        before, after = current[section][key], candidate[section][key]
        rows.append(
            {"measure": name, "current": before, "candidate": after, "change": after - before}
        )
        tolerance = _tolerance(candidate, section)
        if after < before - tolerance:
            worse.append(f"{name} fell from {before:.3f} to {after:.3f}")
        elif after > before + tolerance:
            better.append(f"{name} rose from {before:.3f} to {after:.3f}")
    failed_before, failed_after = current["stories"]["failed"], candidate["stories"]["failed"]
    rows.append(
        {
            "measure": "test stories failing",
            "current": failed_before,
            "candidate": failed_after,
            "change": failed_after - failed_before,
        }
    )
    newly = sorted(
        set(candidate["stories"]["failed_names"]) - set(current["stories"]["failed_names"])
    )
    if newly:
        worse.append(f"{len(newly)} test stories now fail: {', '.join(newly[:5])}")
    elif failed_after < failed_before:
        better.append(f"{failed_before - failed_after} test stories fail no longer")
    labels = sorted(set(current["nlu"]["per_label"]) | set(candidate["nlu"]["per_label"]))
    per_label = []
    for label in labels:
        a = current["nlu"]["per_label"].get(label)
        b = candidate["nlu"]["per_label"].get(label)
        change = (b["f1"] if b else 0.0) - (a["f1"] if a else 0.0)
        per_label.append({"label": label, "current": a, "candidate": b, "f1_change": change})
    verdict = (
        "worse" if worse and not better else "mixed" if worse else "better" if better else "same"
    )
    return {
        "verdict": verdict,
        "worse": worse,
        "better": better,
        "headline": rows,
        "per_label": per_label,
        "confusions": {
            "current": current["nlu"]["confusions"],
            "candidate": candidate["nlu"]["confusions"],
        },
    }
