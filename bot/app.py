"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.rasa_auth import authorization
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
RASA_HTTP = web.AppKey("rasa_http", aiohttp.ClientSession)


async def _rasa_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(settings.rasa_url, timeout=timeout) as http:
        app[RASA_HTTP] = http
        yield


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


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_rasa_client)
    setup_routes(app)
    return app
