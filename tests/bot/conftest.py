"""The real bot service app on SQLite and on PostgreSQL, with a scripted stand-in for Rasa's REST
channel (the real Rasa server is used in tests/e2e)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.services import SERVICES
from bot.settings import ROOT, Settings, load_settings
from tests.bot.processes import scratch_stores

HANDOFF_BRIEF = {"version": 1, "reason": "frustration", "priority": "high", "summary": "test"}


# What the real Rasa says, ten times over, when a message arrives at a tracker that is not
# listening (after action_handoff, say): no rule matches, and it predicts fallbacks until its
# circuit breaker stops it.
LOOPING_FALLBACK = "Sorry, I'm not sure I understood that."


@dataclass
class FakeTracker:
    """The part of a Rasa tracker that decides whether a message gets a sensible answer."""

    paused: bool = False
    listening: bool = True  # the last action was action_listen
    sessions: int = 1
    resumes: int = 0


class FakeRasa:
    """Answers like Rasa's REST channel; what it does depends on the text it receives.

    It keeps each conversation's pause and whether the tracker is listening, as the real one does:
    a paused conversation gets no answer, and one whose tracker was left after action_handoff gets
    a run of identical fallbacks.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.tracker_events: dict[str, list[dict[str, Any]]] = {}
        self.trackers: dict[str, FakeTracker] = {}
        self.triggered: list[tuple[str, str]] = []
        self.refuse_admin = False
        self.actions_down = False
        self.model_file = "fetch-and-home-serving.tar.gz"
        self.loaded: list[str] = []

    def tracker(self, sender: str) -> FakeTracker:
        return self.trackers.setdefault(sender, FakeTracker())

    async def tracker_event(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.Response(status=401)
        if self.refuse_admin:
            return web.Response(status=500)
        events = await request.json()
        self.tracker_events[request.match_info["id"]] = events
        tracker = self.tracker(request.match_info["id"])
        for event in events:
            if event.get("event") == "resume":
                tracker.paused, tracker.resumes = False, tracker.resumes + 1
            elif event.get("event") == "action":
                tracker.listening = event.get("name") == "action_listen"
        return web.json_response({"events": []})

    async def execute(self, request: web.Request) -> web.Response:
        """Like the real bot's action_handed_back (confirm from the slots) and
        action_session_start; both end listening."""
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.Response(status=401)
        if self.refuse_admin:
            return web.Response(status=500)
        sender, action = request.match_info["id"], (await request.json())["name"]
        self.triggered.append((sender, action))
        tracker = self.tracker(sender)
        tracker.listening = True
        if action == "action_session_start":
            tracker.paused, tracker.sessions = False, tracker.sessions + 1
            return web.json_response({"tracker": {}, "messages": []})
        slots = {
            e["name"]: e["value"]
            for e in self.tracker_events.get(sender, [])
            if e.get("event") == "slot"
        }
        text = f"confirmed: {slots.get('handoff_outcome')} / {slots.get('remedy_summary')}"
        return web.json_response({"tracker": {}, "messages": [{"text": text}]})

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        text = body["message"]
        tracker = self.tracker(body["sender"])
        if tracker.paused:
            return web.json_response([])  # Rasa keeps the message and predicts nothing
        if not tracker.listening:
            looping = {"recipient_id": body["sender"], "text": LOOPING_FALLBACK}
            return web.json_response([looping] * 7)
        if "please fail" in text:
            return web.Response(status=500, text="action server error")
        if "please say nothing" in text:
            return web.json_response([])  # as Rasa does when a custom action fails
        if "please hang" in text:
            await asyncio.sleep(30)
        if "hand me over" in text:
            tracker.paused, tracker.listening = True, False  # as action_handoff leaves it
            return web.json_response(
                [
                    {"recipient_id": body["sender"], "text": "A person will take over."},
                    {"recipient_id": body["sender"], "custom": {"handoff": HANDOFF_BRIEF}},
                ]
            )
        answer = {"recipient_id": body["sender"], "text": f"echo: {text}"}
        if "buttons" in text:
            answer["buttons"] = [{"title": "Yes", "payload": "yes"}]
        return web.json_response([answer])

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=503 if self.actions_down else 200)

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": self.model_file, "model_id": "x"})

    async def load_model(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.Response(status=401)
        if self.refuse_admin:
            return web.Response(status=400, text="the model could not be loaded")
        path = (await request.json())["model_file"]
        self.loaded.append(path)
        self.model_file = path.rsplit("/", 1)[-1]
        return web.Response(status=204)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{id}/tracker/events", self.tracker_event)
        app.router.add_post("/conversations/{id}/execute", self.execute)
        app.router.add_get("/status", self.status)
        app.router.add_get("/health", self.health)
        app.router.add_put("/model", self.load_model)
        return app


def _fresh_postgres_database() -> Iterator[str]:
    admin = os.environ.get("TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    import asyncpg

    name = f"bot_test_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(admin)
    try:
        yield urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    else:
        yield from _fresh_postgres_database()


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[FakeRasa, int]]:
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, int(server.port or 0)
    await server.close()


def settings_for(database_url: str, rasa_port: int, **extra: str) -> Settings:
    return load_settings(
        {
            **scratch_stores(),
            "RASA_JWT_SECRET": "r" * 40,
            "BOT_SECRET": "s" * 40,
            "CUSTOMER_IDENTITY_SECRET": "c" * 40,
            "DATABASE_URL": database_url,
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(rasa_port),  # the fake answers the action server's /health too
            "RASA_TIMEOUT_SECONDS": "2",
            "MAX_MESSAGE_CHARS": "500",
            "ALLOWED_ORIGINS": "https://shop.example",
            "POLICY_FILE": str(ROOT / "policy.yml"),
            **extra,
        }
    )


# A Wednesday afternoon in New York: the desk is open (policy.yml desk.hours).
OPEN_HOURS = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
NO_AGENTS = (
    "All of our Customer Care team are away from the chat at the moment. You can wait here, or "
    "leave your e-mail address or phone number and we'll contact you; everything you've written "
    "is saved."
)


@pytest.fixture
async def client(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> TestClient:
    made: TestClient = await aiohttp_client(create_app(settings_for(database_url, fake_rasa[1])))
    made.app[SERVICES].now = lambda: OPEN_HOURS
    return made
