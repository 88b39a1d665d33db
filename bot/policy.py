"""The parts of policy.yml the bot service uses, validated at start-up.

(actions/policy.py reads the handoff rules for the Rasa side; both read the same file.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVICE_MESSAGES = ("bot_unavailable", "satisfaction_question")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class ServicePolicy:
    version: int
    messages: dict[str, str]


def load_service_policy(path: Path) -> ServicePolicy:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"{path}: cannot read the policy file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PolicyError(f"{path}: 'version': expected a whole number from 1, got {version!r}")
    messages = data.get("service_messages")
    if not isinstance(messages, dict):
        raise PolicyError(f"{path}: 'service_messages': expected a mapping, got {messages!r}")
    for name in SERVICE_MESSAGES:
        text = messages.get(name)
        if not isinstance(text, str) or not text.strip():
            raise PolicyError(f"{path}: 'service_messages.{name}': expected the text to send")
    return ServicePolicy(version=version, messages={k: str(v) for k, v in messages.items()})
