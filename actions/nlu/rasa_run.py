"""`rasa` with one fix: `python -m actions.nlu.rasa_run run ...` takes the arguments of `rasa run`.

Rasa 3.6 checks every answer of the action server with `jsonschema.validate(answer, schema)`,
which first validates the schema itself against the JSON Schema 2020-12 meta-schema, every
time. The schema is a constant, and that check costs about 25 ms of CPU per custom action call:
profiled under load, about half of all the Rasa server's work for a message (every message runs
`action_gate`, handoffs one more action). Here the schema is checked once and its validator kept;
answers are validated exactly as before and an invalid one raises the same error. The launcher
starts the Rasa server through this module (bot/ops/launcher.py).
"""

from __future__ import annotations

import sys
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions import action
from rasa.shared.constants import DOCS_BASE_URL

_validators: dict[type, Any] = {}


def _validator(remote: action.RemoteAction) -> Any:
    """The validator of the (constant) answer schema, the schema checked on first use."""
    kind = type(remote)
    if kind not in _validators:
        schema = remote.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validators[kind] = cls(schema)
    return _validators[kind]


def validate_action_result(self: action.RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result, with the schema checked once."""
    error = best_match(_validator(self).iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    action.RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    main()
