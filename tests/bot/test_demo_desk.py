"""Demo desk accounts on a fresh machine: created once, with a password kept in .env."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import demo_desk
from bot.channel import CHAT
from bot.db.models import User
from bot.settings import load_settings

PASSWORD = "demo password 123"


async def test_demo_accounts_are_created_once(client: TestClient) -> None:
    async with client.app[CHAT].sessions.begin() as session:
        assert await demo_desk.ensure_accounts(session, PASSWORD) == ["ana", "sam", "grace", "dee"]
    async with client.app[CHAT].sessions.begin() as session:
        assert await demo_desk.ensure_accounts(session, PASSWORD) == []
        roles = dict((await session.execute(select(User.username, User.role))).all())
    assert roles == {"ana": "agent", "sam": "senior", "grace": "supervisor", "dee": "designer"}
    for username in ("grace", "dee"):
        login = await client.post(
            "/desk/api/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status == 200


def test_a_missing_demo_password_is_generated_into_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("BOT_PORT=9000")
    monkeypatch.setattr(demo_desk, "ROOT", tmp_path)
    env = {
        "RASA_JWT_SECRET": "r" * 40,
        "BOT_SECRET": "s" * 40,
        "CUSTOMER_IDENTITY_SECRET": "c" * 40,
    }
    password = demo_desk.demo_password(load_settings(env))
    assert len(password) >= 12
    assert (tmp_path / ".env").read_text() == f"BOT_PORT=9000\nDEMO_DESK_PASSWORD={password}\n"
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    again = load_settings(env | {"DEMO_DESK_PASSWORD": password})
    assert demo_desk.demo_password(again) == password
    assert password in demo_desk.sign_in_hint(
        again
    ) and "grace (supervisor)" in demo_desk.sign_in_hint(again)
    assert "password" not in demo_desk.sign_in_hint(load_settings(env | {"DEMO_PAGES": "off"}))
