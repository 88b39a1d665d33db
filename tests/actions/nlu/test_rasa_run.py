"""The Rasa server's check of action server answers (actions/nlu/rasa_run.py): same verdicts as
Rasa's own, with the schema checked once instead of on every answer."""

from __future__ import annotations

from typing import Any
from unittest import mock

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from actions.nlu import rasa_run

VALID: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "gate", "value": "answer", "timestamp": None},
            {"event": "pause"},
        ],
        "responses": [{"text": "hello"}, {"custom": {"handoff": {"reason": "frustration"}}}],
    },
]
INVALID: list[dict[str, Any]] = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": 5}], "responses": []},
    {"events": [], "responses": ["not an object"]},
]


def remote() -> RemoteAction:
    return RemoteAction("action_gate", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.mark.parametrize("answer", VALID)
def test_valid_answers_pass_as_in_rasa(answer: dict[str, Any]) -> None:
    assert RemoteAction._validate_action_result(remote(), answer) is True
    assert rasa_run.validate_action_result(remote(), answer) is True


@pytest.mark.parametrize("answer", INVALID)
def test_invalid_answers_fail_as_in_rasa(answer: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_own:
        RemoteAction._validate_action_result(remote(), answer)
    with pytest.raises(jsonschema.ValidationError) as ours:
        rasa_run.validate_action_result(remote(), answer)
    assert ours.value.message == rasa_own.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_the_schema_is_checked_once() -> None:
    rasa_run._validators.clear()
    checks = mock.patch.object(
        jsonschema.Draft202012Validator,
        "check_schema",
        wraps=jsonschema.Draft202012Validator.check_schema,
    )
    with checks as check_schema:
        for _ in range(5):
            rasa_run.validate_action_result(remote(), VALID[1])
    assert check_schema.call_count == 1


def test_install_replaces_rasas_check() -> None:
    original = RemoteAction._validate_action_result
    try:
        rasa_run.install()
        assert RemoteAction._validate_action_result is rasa_run.validate_action_result
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
