"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from actions.handoff.policy import load_policy
from bot.channel import views as channel
from bot.channel.intake import INTAKE, Intake
from bot.channel.limits import LIMITS, Limits
from bot.channel.positions import POSITIONS, QueuePositions
from bot.conversations.hub import Hub
from bot.db.engine import answers, create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import utcnow
from bot.designer import loop as designer_loop
from bot.designer import views as designer
from bot.desk import api as desk
from bot.desk.api.socket import SOCKETS, DeskSockets
from bot.desk.api.tools import FAQ
from bot.desk.faq import FaqIndex, load_answers
from bot.desk.queue import release_expired_leases
from bot.ops import metrics
from bot.rasa import client as rasa_client
from bot.rasa.health import ActionServerWatch
from bot.rasa.turn import TURNS, BotTurns
from bot.services import DESK_DETACH, DESK_FEED, SERVICES, Services
from bot.settings import Settings
from bot.shop.connector import SHOP, open_shop
from bot.web import http, pages
from bot.web.security import security_headers

SETTINGS = web.AppKey("settings", Settings)
RASA_HTTP = web.AppKey("rasa_http", aiohttp.ClientSession)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    policy = load_policy(settings.policy_file)
    app[FAQ] = FaqIndex(load_answers(settings.domain_file))
    app[LIMITS] = Limits.of(settings)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    hub = Hub(settings.redis_url)
    await hub.start()
    sockets = app[SOCKETS] = DeskSockets(hub)
    hub.listen(DESK_FEED, sockets.on_desk_feed)
    hub.listen(DESK_DETACH, sockets.on_detach)
    async with aiohttp.ClientSession(settings.rasa_url) as rasa_http:
        app[RASA_HTTP] = rasa_http
        actions = ActionServerWatch(settings.action_health_url)
        actions.start(rasa_http)
        services = app[SERVICES] = Services(settings, policy, session_factory(engine), hub)
        turns = app[TURNS] = BotTurns(services, rasa_http, actions)
        app[INTAKE] = Intake(services, turns)
        positions = app[POSITIONS] = QueuePositions(services)
        app[designer.DESIGNER] = studio = designer_loop.build(
            settings,
            services.sessions,
            rasa_http,
            policy,
            notify=services.publish_desk,
        )
        reaper = asyncio.create_task(_release_expired_leases(services))
        left_over = asyncio.create_task(turns.answer_left_over_at_start())
        async with open_shop(services) as app[SHOP]:
            yield
        await actions.stop()
        await studio.close()
        for task in (reaper, left_over):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await hub.close_sockets()  # their handlers' last work is drained next
        await asyncio.sleep(0)
        await turns.drain()
        await positions.drain()
        await hub.close()
    await engine.dispose()


async def _release_expired_leases(services: Services) -> None:
    """Return claimed conversations whose agent went silent to the queue, every few seconds."""
    interval = max(1.0, min(30.0, services.settings.lease_seconds / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            async with services.work() as work:
                await release_expired_leases(work)
        except Exception:
            logging.getLogger(__name__).exception("releasing expired leases failed")


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the service answers. What it depends on is /readyz's to say."""
    return web.json_response({"service": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness of what the service needs: its database, the Rasa server (a model loaded) and
    the action server. 503, naming the part, while any is down (restarting, say): customers who
    write then are handed to a person. With the shop's own backend, whether it answers too."""
    secret = request.app[SETTINGS].rasa_jwt_secret
    rasa_http = request.app[RASA_HTTP]
    try:
        status = await rasa_client.status(rasa_http, secret, 3)
    except rasa_client.RasaUnavailable:
        status = {}
    parts = {
        "database": await answers(request.app[SERVICES].sessions),
        "rasa": bool(status.get("model_id")),
        "actions": await request.app[TURNS].actions.check(rasa_http),
    }
    body = {"service": "ok"} | {k: "ok" if up else "unavailable" for k, up in parts.items()}
    # The shop's backend is reported, not required: without it customers are still answered and
    # handed over, and grants wait in the outbox (alert on bot_grants_outbox_lag_seconds).
    shop = await request.app[SHOP].reachable()
    if shop is not None:
        body["shop"] = "ok" if shop else "unavailable"
    return web.json_response(body, status=200 if all(parts.values()) else 503)


async def prometheus(request: web.Request) -> web.Response:
    """Prometheus metrics (bot/ops/metrics.py), for a scraper holding METRICS_TOKEN."""
    metrics.authorised(request, request.app[SETTINGS].metrics_token)
    services = request.app[SERVICES]
    async with services.sessions() as session:
        # the real time: what the queue's rows were stamped with (the app's clock may be moved)
        return await services.metrics.render(session, utcnow())


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    channel.setup_routes(app)
    desk.setup_routes(app)
    designer.setup_routes(app)
    pages.setup_routes(app)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, pages.cors, http.errors, desk.desk_auth],
        client_max_size=64 * 1024,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources)
    setup_routes(app)
    return app
