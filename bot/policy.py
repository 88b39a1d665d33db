"""The parts of policy.yml the bot service uses, validated at start-up.

(actions/policy.py reads the handoff rules for the Rasa side; both read the same file.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVICE_MESSAGES = ("bot_unavailable", "satisfaction_question")
REMEDIES = ("credit", "refund", "fee_waiver", "replacement")
ROLES_WITH_AUTHORITY = ("agent", "senior", "supervisor")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Limit:
    per_conversation: int
    per_day: int


@dataclass(frozen=True)
class ServicePolicy:
    version: int
    messages: dict[str, str]
    audit_threshold_cents: int
    # role -> remedy -> limit, in cents
    authority: dict[str, dict[str, Limit]]


def _cents(path: Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"{path}: '{key}': expected a whole number of cents, got {value!r}")
    return value


def _authority(path: Path, data: Any) -> tuple[int, dict[str, dict[str, Limit]]]:
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: 'authority': expected a mapping, got {data!r}")
    threshold = _cents(path, "authority.audit_threshold_cents", data.get("audit_threshold_cents"))
    roles = data.get("roles")
    if not isinstance(roles, dict) or set(roles) != set(ROLES_WITH_AUTHORITY):
        raise PolicyError(
            f"{path}: 'authority.roles': expected exactly {', '.join(ROLES_WITH_AUTHORITY)}"
        )
    matrix: dict[str, dict[str, Limit]] = {}
    for role, remedies in roles.items():
        where = f"authority.roles.{role}"
        if not isinstance(remedies, dict) or set(remedies) != set(REMEDIES):
            raise PolicyError(
                f"{path}: '{where}': expected a limit for each of {', '.join(REMEDIES)}"
            )
        matrix[role] = {}
        for remedy, limit in remedies.items():
            key = f"{where}.{remedy}"
            if not isinstance(limit, dict) or set(limit) != {"per_conversation", "per_day"}:
                raise PolicyError(f"{path}: '{key}': expected per_conversation and per_day")
            per_conversation = _cents(path, f"{key}.per_conversation", limit["per_conversation"])
            per_day = _cents(path, f"{key}.per_day", limit["per_day"])
            if per_conversation > per_day:
                raise PolicyError(f"{path}: '{key}': per_conversation is more than per_day")
            matrix[role][remedy] = Limit(per_conversation, per_day)
    return threshold, matrix


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
    threshold, authority = _authority(path, data.get("authority"))
    return ServicePolicy(
        version=version,
        messages={k: str(v) for k, v in messages.items()},
        audit_threshold_cents=threshold,
        authority=authority,
    )
