"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot import channel
from bot.chat import Chat
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.hub import Hub
from bot.policy import load_service_policy
from bot.rasa_auth import authorization
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
RASA_HTTP = web.AppKey("rasa_http", aiohttp.ClientSession)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    policy = load_service_policy(settings.policy_file)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    hub = Hub()
    async with aiohttp.ClientSession(settings.rasa_url) as http:
        app[RASA_HTTP] = http
        app[channel.CHAT] = Chat(settings, policy, session_factory(engine), hub, http)
        yield
        await app[channel.CHAT].drain()
        await hub.close_all()
    await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    """Liveness of the service and readiness of the Rasa server behind it."""
    http = request.app[RASA_HTTP]
    headers = authorization(request.app[SETTINGS].rasa_jwt_secret)
    try:
        async with http.get("/status", headers=headers) as response:
            rasa_ok = response.status == 200 and bool((await response.json()).get("model_id"))
    except (aiohttp.ClientError, TimeoutError):
        rasa_ok = False
    body = {"service": "ok", "rasa": "ok" if rasa_ok else "unavailable"}
    return web.json_response(body, status=200 if rasa_ok else 503)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    channel.setup_routes(app)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[channel.errors], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources)
    setup_routes(app)
    return app
