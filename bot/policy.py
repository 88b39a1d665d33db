"""The parts of policy.yml the bot service uses, validated at start-up.

(actions/handoff/policy.py reads the handoff rules for the Rasa side; both read the same file.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

SERVICE_MESSAGES = (
    "bot_unavailable",
    "satisfaction_question",
    "out_of_hours",
    "no_agents_online",
    "callback_saved",
    "agent_joined",
    "supervisor_joined",
    "transferred_to_agent",
    "transferred_to_team",
    "back_to_bot",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
REMEDIES = ("credit", "refund", "fee_waiver", "replacement")
ROLES_WITH_AUTHORITY = ("agent", "senior", "supervisor")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Limit:
    per_conversation: int
    per_day: int


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class DeskHours:
    timezone: ZoneInfo
    describe: str
    # weekday (0 = Monday) -> (opens, closes), or None when closed all day
    weekly: tuple[tuple[clock, clock] | None, ...]
    closed_dates: frozenset[date]

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.timezone)
        hours = self.weekly[local.weekday()]
        if hours is None or local.date() in self.closed_dates:
            return False
        opens, closes = hours
        return opens <= local.time() < closes


@dataclass(frozen=True)
class Desk:
    hours: DeskHours
    teams: tuple[str, ...]
    default_handle_seconds: int
    wrap_ups: tuple[str, ...]
    canned_replies: tuple[CannedReply, ...]


@dataclass(frozen=True)
class Understanding:
    """The confidences the gate acts on; the designer's inbox shows what fell below them."""

    min_intent_confidence: float
    confident_faq: float


@dataclass(frozen=True)
class ServicePolicy:
    version: int
    messages: dict[str, str]
    audit_threshold_cents: int
    # role -> remedy -> limit, in cents
    authority: dict[str, dict[str, Limit]]
    desk: Desk
    understanding: Understanding


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


def _text(path: Path, key: str, value: Any, limit: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise PolicyError(f"{path}: '{key}': expected a text of 1-{limit} characters")
    return value


def _hours(path: Path, data: Any) -> DeskHours:
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: 'desk.hours': expected timezone, describe, weekly")
    try:
        timezone = ZoneInfo(str(data.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(
            f"{path}: 'desk.hours.timezone': expected an IANA time zone such as "
            f"America/New_York, got {data.get('timezone')!r}"
        ) from None
    weekly_data = data.get("weekly")
    if not isinstance(weekly_data, dict) or set(weekly_data) != set(WEEKDAYS):
        raise PolicyError(f"{path}: 'desk.hours.weekly': expected each of {', '.join(WEEKDAYS)}")
    weekly: list[tuple[clock, clock] | None] = []
    for day in WEEKDAYS:
        raw = str(weekly_data[day]).strip()
        if raw == "closed":
            weekly.append(None)
            continue
        match = HOURS.fullmatch(raw)
        if not match or raw[:5] >= raw[6:] or (raw[6:8] == "24" and raw[9:] != "00"):
            raise PolicyError(
                f"{path}: 'desk.hours.weekly.{day}': expected \"HH:MM-HH:MM\" (opening before "
                f'closing) or "closed", got {raw!r}'
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        closes = clock.max if (h2, m2) == (24, 0) else clock(h2, m2)
        weekly.append((clock(h1, m1), closes))
    closed: set[date] = set()
    for raw in data.get("closed_dates") or []:
        try:
            closed.add(date.fromisoformat(str(raw)))
        except ValueError:
            raise PolicyError(
                f"{path}: 'desk.hours.closed_dates': expected YYYY-MM-DD dates, got {raw!r}"
            ) from None
    describe = _text(path, "desk.hours.describe", data.get("describe"), 200)
    return DeskHours(timezone, describe, tuple(weekly), frozenset(closed))


def _desk(path: Path, data: Any) -> Desk:
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: 'desk': expected a mapping, got {data!r}")
    teams = data.get("teams")
    if not isinstance(teams, list) or not teams or not all(isinstance(t, str) for t in teams):
        raise PolicyError(f"{path}: 'desk.teams': expected a list of team names")
    minutes = data.get("default_handle_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 240:
        raise PolicyError(f"{path}: 'desk.default_handle_minutes': expected 1-240 minutes")
    wrap_ups = data.get("wrap_ups")
    if not isinstance(wrap_ups, list) or not all(
        isinstance(w, str) and 0 < len(w) <= 32 for w in wrap_ups
    ):
        raise PolicyError(f"{path}: 'desk.wrap_ups': expected a list of codes of 1-32 characters")
    canned: list[CannedReply] = []
    for number, reply in enumerate(data.get("canned_replies") or []):
        key = f"desk.canned_replies[{number}]"
        if not isinstance(reply, dict):
            raise PolicyError(f"{path}: '{key}': expected id, title and text")
        canned.append(
            CannedReply(
                _text(path, f"{key}.id", reply.get("id"), 40),
                _text(path, f"{key}.title", reply.get("title"), 80),
                _text(path, f"{key}.text", reply.get("text")),
            )
        )
    if len({c.id for c in canned}) != len(canned):
        raise PolicyError(f"{path}: 'desk.canned_replies': two replies share an id")
    return Desk(
        hours=_hours(path, data.get("hours")),
        teams=tuple(teams),
        default_handle_seconds=minutes * 60,
        wrap_ups=tuple(wrap_ups),
        canned_replies=tuple(canned),
    )


def _understanding(path: Path, data: Any) -> Understanding:
    values = {}
    for key in ("min_intent_confidence", "confident_faq"):
        value = data.get(key) if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise PolicyError(f"{path}: 'understanding.{key}': expected a number from 0 to 1")
        values[key] = float(value)
    return Understanding(**values)


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
        desk=_desk(path, data.get("desk")),
        understanding=_understanding(path, data.get("understanding")),
    )
