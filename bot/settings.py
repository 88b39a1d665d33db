"""The one place that reads configuration.

`.env` is loaded once (python-dotenv, never overriding the real environment), then every setting is
read into a frozen, typed `Settings`. Defaults are safe for a single development machine: everything
binds to loopback and stores in SQLite under `var/`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
# made by `make setup`; the launcher runs Rasa from it, the trainer too unless RASA_VENV is set
RASA_VENV = ROOT / ".venv-rasa"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and what was expected."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database_url: str
    rasa_url: str
    rasa_port: int
    rasa_jwt_secret: str
    action_port: int
    # what Rasa sends the action server with every call (endpoints.yml `token`), which refuses
    # any call without it (actions/serve.py)
    action_server_token: str
    rasa_tracker_store_url: str
    rasa_lock_store_type: str
    rasa_lock_store_redis_host: str
    rasa_lock_store_redis_port: int
    policy_file: Path
    domain_file: Path
    # Where the designer's labels are written and candidates trained (the project checkout), and
    # the Rasa environment that trains and evaluates them.
    designer_project: Path
    rasa_venv: Path
    secret: str
    customer_identity_secret: str
    redis_url: str | None
    allowed_origins: tuple[str, ...]
    max_message_chars: int
    rasa_timeout_seconds: float
    # customer messages at Rasa at once; the others queue in the service (bot/channel/chat.py)
    rasa_max_in_flight: int
    lease_seconds: int
    # per minute: messages per conversation, and conversations started / messages per address
    rate_messages_per_conversation: int
    rate_starts_per_address: int
    rate_messages_per_address: int
    # per hour: call-backs left in one conversation (each is a message and a queue reload)
    rate_callbacks_per_conversation: int
    # open customer websockets at once: per conversation (its tabs), per address (connected)
    sockets_per_conversation: int
    sockets_per_address: int
    # the demo shop page with its "browse as a demo customer" switch, and demo desk accounts
    demo_pages: bool = True
    # /metrics is served only to a scraper sending this as a bearer token (none: not served)
    metrics_token: str | None = None
    # logs: "text" lines for a person, or "json" (one event a line) for a log pipeline; customer
    # message texts appear in them only when log_message_text is on
    log_format: str = "text"
    log_message_text: bool = False
    # The shop's systems (bot/shop/): "builtin" (this service's own tables, the demo) or "http"
    # (the shop's backend at shop_url, bot/shop/contract.py), with the secret that signs calls.
    shop_connector: str = "builtin"
    shop_url: str | None = None
    shop_secret: str | None = None
    shop_timeout_seconds: float = 3.0
    # delivery attempts of one grant before it is given up on (failed, for a supervisor)
    shop_max_attempts: int = 8
    demo_desk_password: str | None = None

    @property
    def rasa_action_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def action_health_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/health"

    def rasa_environment(self) -> dict[str, str]:
        """What endpoints.yml interpolates; given to the Rasa and action server processes."""
        return {
            "RASA_ACTION_ENDPOINT": self.rasa_action_endpoint,
            "ACTION_SERVER_TOKEN": self.action_server_token,
            "RASA_TRACKER_STORE_URL": self.rasa_tracker_store_url,
            "RASA_LOCK_STORE_TYPE": self.rasa_lock_store_type,
            "RASA_LOCK_STORE_REDIS_HOST": self.rasa_lock_store_redis_host,
            "RASA_LOCK_STORE_REDIS_PORT": str(self.rasa_lock_store_redis_port),
            "POLICY_FILE": str(self.policy_file),
            # rasa-sdk binds to SANIC_HOST: loopback on one machine (it checks the token too)
            "SANIC_HOST": "127.0.0.1",
            # Rasa otherwise sends usage and crash reports (with tracebacks) to a third party.
            "RASA_TELEMETRY_ENABLED": "false",
            # Rasa 3.6 pins SQLAlchemy 1.4, which warns about 2.0 on every start.
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if not 0 < value < 65536 and name.endswith("PORT"):
        raise SettingsError(f"{name}={raw!r}: expected a TCP port between 1 and 65535")
    return value


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name}={value}: expected 1 or more")
    return value


def _secret(env: Mapping[str, str], name: str, purpose: str) -> str:
    value = env.get(name, "").strip()
    if len(value) < 32:
        raise SettingsError(
            f"{name} is missing or shorter than 32 characters: expected a long random secret that "
            f"{purpose} (`make run` writes one into .env on first start)"
        )
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingsError(f"{name}={raw!r}: expected on or off (true/false, 1/0)")
    return raw in ("1", "true", "yes", "on")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _action_server_token(env: Mapping[str, str], jwt_secret: str) -> str:
    """ACTION_SERVER_TOKEN when set (an action server on another host is given the same), else
    one derived from RASA_JWT_SECRET, which every process on one machine already shares."""
    if env.get("ACTION_SERVER_TOKEN", "").strip():
        return _secret(env, "ACTION_SERVER_TOKEN", "Rasa sends the action server with every call")
    return hmac.new(jwt_secret.encode(), b"action server token", hashlib.sha256).hexdigest()


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build settings from `env` (default: the process environment after loading `.env`)."""
    if env is None:
        if dotenv:
            load_dotenv(ROOT / ".env", override=False)
        env = os.environ
    var = ROOT / "var"
    rasa_port = _int(env, "RASA_PORT", 5005)
    port = _int(env, "BOT_PORT", 8000)
    jwt_secret = _secret(env, "RASA_JWT_SECRET", "signs the tokens for Rasa's HTTP API")
    return Settings(
        host=env.get("BOT_HOST", "").strip() or "127.0.0.1",
        port=port,
        database_url=env.get("DATABASE_URL", "").strip() or f"sqlite+aiosqlite:///{var}/bot.db",
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        rasa_port=rasa_port,
        rasa_jwt_secret=jwt_secret,
        action_port=_int(env, "ACTION_PORT", 5055),
        action_server_token=_action_server_token(env, jwt_secret),
        rasa_tracker_store_url=env.get("RASA_TRACKER_STORE_URL", "").strip()
        or f"sqlite:///{var}/rasa_tracker.db",
        rasa_lock_store_type=_choice(
            env, "RASA_LOCK_STORE_TYPE", "in_memory", ("in_memory", "redis")
        ),
        rasa_lock_store_redis_host=env.get("RASA_LOCK_STORE_REDIS_HOST", "").strip() or "127.0.0.1",
        rasa_lock_store_redis_port=_int(env, "RASA_LOCK_STORE_REDIS_PORT", 6379),
        policy_file=Path(env.get("POLICY_FILE", "").strip() or ROOT / "policy.yml"),
        domain_file=Path(env.get("DOMAIN_FILE", "").strip() or ROOT / "domain.yml"),
        designer_project=Path(env.get("DESIGNER_PROJECT_DIR", "").strip() or ROOT),
        rasa_venv=Path(env.get("RASA_VENV", "").strip() or RASA_VENV),
        secret=_secret(env, "BOT_SECRET", "signs the website's conversation tokens"),
        customer_identity_secret=_secret(
            env,
            "CUSTOMER_IDENTITY_SECRET",
            "the shop's site uses to vouch for a signed-in customer",
        ),
        redis_url=env.get("REDIS_URL", "").strip() or None,
        allowed_origins=tuple(
            o.strip().rstrip("/")
            for o in (
                env.get("ALLOWED_ORIGINS", "") or f"http://127.0.0.1:{port},http://localhost:{port}"
            ).split(",")
            if o.strip()
        ),
        max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 2000),
        rasa_timeout_seconds=float(_int(env, "RASA_TIMEOUT_SECONDS", 10)),
        rasa_max_in_flight=_at_least_one(env, "RASA_MAX_IN_FLIGHT", 16),
        lease_seconds=_int(env, "LEASE_SECONDS", 300),
        rate_messages_per_conversation=_int(env, "RATE_MESSAGES_PER_CONVERSATION", 30),
        rate_starts_per_address=_int(env, "RATE_STARTS_PER_ADDRESS", 30),
        rate_messages_per_address=_int(env, "RATE_MESSAGES_PER_ADDRESS", 120),
        rate_callbacks_per_conversation=_int(env, "RATE_CALLBACKS_PER_CONVERSATION", 5),
        sockets_per_conversation=_int(env, "SOCKETS_PER_CONVERSATION", 5),
        sockets_per_address=_int(env, "SOCKETS_PER_ADDRESS", 50),
        demo_pages=_flag(env, "DEMO_PAGES", True),
        demo_desk_password=env.get("DEMO_DESK_PASSWORD", "").strip() or None,
        metrics_token=_secret(env, "METRICS_TOKEN", "a Prometheus scraper sends to read /metrics")
        if env.get("METRICS_TOKEN", "").strip()
        else None,
        log_format=_choice(env, "LOG_FORMAT", "text", ("text", "json")),
        log_message_text=_flag(env, "LOG_MESSAGE_TEXT", False),
        **_shop(env),
    )


def _shop(env: Mapping[str, str]) -> dict[str, Any]:
    connector = _choice(env, "SHOP_CONNECTOR", "builtin", ("builtin", "http"))
    if connector == "builtin":
        return {"shop_connector": connector}
    url = env.get("SHOP_URL", "").strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise SettingsError(
            f"SHOP_URL={url!r}: SHOP_CONNECTOR=http needs the shop backend's base URL "
            "(https://...; http:// only on a private network)"
        )
    return {
        "shop_connector": connector,
        "shop_url": url,
        "shop_secret": _secret(env, "SHOP_SECRET", "signs every call to the shop's backend"),
        "shop_timeout_seconds": float(_at_least_one(env, "SHOP_TIMEOUT_SECONDS", 3)),
        "shop_max_attempts": _at_least_one(env, "SHOP_MAX_ATTEMPTS", 8),
    }
