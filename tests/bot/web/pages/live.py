"""The real service app with the scripted Rasa stand-in, on real loopback ports, in a thread of
its own, so a real browser (driven by Playwright's sync API from the test) can use it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.services import SERVICES, Services
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for
from tests.e2e.conftest import free_port

T = TypeVar("T")


class LiveService:
    def __init__(self, tmp_path: Path, **extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.fake = FakeRasa()
        self._extra = extra
        self._tmp = tmp_path
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._rasa: TestServer | None = None
        self.app: web.Application | None = None

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run `work` on the service's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app[SERVICES]

    async def _start(self) -> None:
        self._rasa = TestServer(self.fake.app(), host="127.0.0.1")
        await self._rasa.start_server()
        settings = settings_for(
            f"sqlite+aiosqlite:///{self._tmp}/bot.db",
            int(self._rasa.port or 0),
            BOT_PORT=str(self.port),
            ALLOWED_ORIGINS=self.base,
            **self._extra,
        )
        self.app = create_app(settings)
        self._runner = web.AppRunner(self.app, shutdown_timeout=2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.services.now = lambda: OPEN_HOURS

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._rasa is not None:
            await self._rasa.close()

    def __enter__(self) -> LiveService:
        self._thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def in_session(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run `work(session)` in one committed transaction."""

        async def run() -> T:
            async with self.services.sessions.begin() as session:
                return await work(session)

        return self.call(run())
