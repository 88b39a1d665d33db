from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.handoff.policy import ROOT, PolicyError, load_policy, parse_policy

POLICY = ROOT / "policy.yml"


def _data() -> dict:
    return yaml.safe_load(POLICY.read_text())


def test_shipped_policy_is_valid() -> None:
    policy = load_policy(POLICY)
    assert policy.threshold == 4
    assert {rule.name for rule in policy.rules} >= {
        "refund",
        "credit",
        "cancellation_with_money",
        "large_amount",
        "legal_threat",
        "bereavement",
        "pet_health",
        "account_security",
        "complaint_about_staff",
        "complaint",
    }
    assert policy.consecutive_failures_for_handoff == 2


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (lambda d: d.pop("version"), "'version'", "a whole number"),
        (
            lambda d: d["frustration"].update(threshold="five"),
            "'frustration.threshold'",
            "whole number",
        ),
        (
            lambda d: d["always_human"][0].update(rule="Refund Me"),
            "'always_human[0].rule'",
            "snake_case",
        ),
        (lambda d: d["always_human"][1].update(why=""), "'always_human[1].why'", "a sentence"),
        (
            lambda d: d["always_human"][0].update(patterns=["(unclosed"]),
            "'always_human[0].patterns[0]'",
            "valid regular expression",
        ),
        (
            lambda d: d["always_human"][0].update(priority="vip"),
            "'always_human[0].priority'",
            "one of normal, high",
        ),
        (
            lambda d: d["frustration"]["signals"].update(sarcasm={"weight": 1}),
            "'frustration.signals'",
            "only repeated_question",
        ),
        (
            lambda d: d["understanding"].update(min_faq_confidence=2),
            "'understanding.min_faq_confidence'",
            "from 0 to 1",
        ),
        (
            lambda d: d["always_human"].append(dict(d["always_human"][0])),
            "'always_human'",
            "unique rule names",
        ),
        (
            lambda d: d["understanding"].update(unfinished_endings="the"),
            "'understanding.unfinished_endings'",
            "a list of names",
        ),
    ],
)
def test_invalid_policy_names_file_key_and_expectation(edit, key, expected) -> None:
    data = _data()
    edit(data)
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    message = str(error.value)
    assert str(POLICY) in message
    assert key in message
    assert expected in message


def test_unreadable_and_malformed_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("version: [1\n")
    with pytest.raises(PolicyError, match=r"broken.yml: not valid YAML"):
        load_policy(broken)


def test_unfinished_endings_are_read_in_lower_case_and_optional() -> None:
    data = _data()
    data["understanding"]["unfinished_endings"] = ["The", "UH"]
    assert parse_policy(data, POLICY).unfinished_endings == frozenset({"the", "uh"})
    del data["understanding"]["unfinished_endings"]
    assert parse_policy(data, POLICY).unfinished_endings == frozenset()


def test_min_sentence_confidence_is_optional_and_checked() -> None:
    data = _data()
    assert (
        parse_policy(data, POLICY).min_sentence_confidence
        == data["understanding"]["min_sentence_confidence"]
    )
    del data["understanding"]["min_sentence_confidence"]
    assert parse_policy(data, POLICY).min_sentence_confidence is None
    data["understanding"]["min_sentence_confidence"] = 1.5
    with pytest.raises(PolicyError, match=r"understanding.min_sentence_confidence"):
        parse_policy(data, POLICY)
