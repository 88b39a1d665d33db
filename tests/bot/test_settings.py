from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ROOT, SettingsError, load_settings

BASE = {"RASA_JWT_SECRET": "t" * 40, "BOT_SECRET": "b" * 40, "CUSTOMER_IDENTITY_SECRET": "c" * 40}


def test_defaults_are_safe_for_one_machine() -> None:
    settings = load_settings(BASE)
    assert settings.host == "127.0.0.1"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.rasa_lock_store_type == "in_memory"
    assert settings.policy_file == ROOT / "policy.yml"
    env = settings.rasa_environment()
    assert env["SANIC_HOST"] == "127.0.0.1"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["RASA_ACTION_ENDPOINT"] == "http://127.0.0.1:5055/webhook"


def test_production_values_are_taken_as_given() -> None:
    settings = load_settings(
        BASE
        | {
            "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/bot",
            "RASA_TRACKER_STORE_URL": "postgresql://postgres@127.0.0.1/rasa",
            "RASA_LOCK_STORE_TYPE": "redis",
            "POLICY_FILE": "/etc/fetch/policy.yml",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1/bot"
    assert settings.rasa_environment()["RASA_LOCK_STORE_TYPE"] == "redis"
    assert settings.policy_file == Path("/etc/fetch/policy.yml")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "RASA_JWT_SECRET is missing"),
        ({"RASA_JWT_SECRET": "short"}, "shorter than 32 characters"),
        ({"RASA_JWT_SECRET": "t" * 40}, "BOT_SECRET is missing"),
        (BASE | {"BOT_PORT": "eighty"}, "BOT_PORT='eighty': expected a whole number"),
        (BASE | {"RASA_PORT": "70000"}, "RASA_PORT='70000': expected a TCP port"),
        (BASE | {"RASA_LOCK_STORE_TYPE": "memcached"}, "expected one of in_memory, redis"),
    ],
)
def test_bad_settings_name_the_variable_and_expectation(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_the_action_server_token_is_shared_by_rasa_and_the_action_server() -> None:
    derived = load_settings(BASE)
    assert len(derived.action_server_token) >= 32
    assert derived.action_server_token not in BASE.values()
    assert derived.rasa_environment()["ACTION_SERVER_TOKEN"] == derived.action_server_token
    # an action server on another host is given the same token explicitly
    given = load_settings(BASE | {"ACTION_SERVER_TOKEN": "a" * 40})
    assert given.rasa_environment()["ACTION_SERVER_TOKEN"] == "a" * 40
    with pytest.raises(SettingsError, match="ACTION_SERVER_TOKEN"):
        load_settings(BASE | {"ACTION_SERVER_TOKEN": "short"})


def test_the_shop_is_built_in_unless_its_backend_is_configured_whole() -> None:
    assert load_settings(BASE).shop_connector == "builtin"
    http = BASE | {"SHOP_CONNECTOR": "http", "SHOP_URL": "https://shop.internal/bot-api/"}
    with pytest.raises(SettingsError, match="SHOP_SECRET is missing"):
        load_settings(http)
    with pytest.raises(SettingsError, match="SHOP_URL=''"):
        load_settings(BASE | {"SHOP_CONNECTOR": "http", "SHOP_SECRET": "s" * 40})
    with pytest.raises(SettingsError, match="SHOP_CONNECTOR='sap'"):
        load_settings(BASE | {"SHOP_CONNECTOR": "sap"})
    settings = load_settings(http | {"SHOP_SECRET": "s" * 40, "SHOP_MAX_ATTEMPTS": "3"})
    assert (settings.shop_url, settings.shop_timeout_seconds, settings.shop_max_attempts) == (
        "https://shop.internal/bot-api",
        3.0,
        3,
    )


def test_metrics_and_logs_settings() -> None:
    assert load_settings(BASE).metrics_token is None
    with pytest.raises(SettingsError, match="METRICS_TOKEN is missing or shorter"):
        load_settings(BASE | {"METRICS_TOKEN": "short"})
    with pytest.raises(SettingsError, match="LOG_FORMAT='xml'"):
        load_settings(BASE | {"LOG_FORMAT": "xml"})
    settings = load_settings(BASE | {"LOG_FORMAT": "json", "LOG_MESSAGE_TEXT": "on"})
    assert (settings.log_format, settings.log_message_text) == ("json", True)
