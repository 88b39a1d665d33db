"""Desk resources one click away: canned replies, the bot's FAQ answers, customer lookup, who
is on the desk, call-back requests, and the supervisor's live figures."""

from __future__ import annotations

from aiohttp import web

from bot.desk import presence, stats
from bot.desk.api.auth import sees_customers, supervisor
from bot.desk.faq import FaqIndex
from bot.errors import Unavailable
from bot.services import SERVICES
from bot.shop.connector import SHOP
from bot.shop.http import ShopUnavailable

FAQ = web.AppKey("faq", FaqIndex)


async def canned_replies(request: web.Request) -> web.Response:
    replies = request.app[SERVICES].policy.desk.canned_replies
    return web.json_response({"replies": [r.__dict__ for r in replies]})


async def faq(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:200]
    language = request.query.get("language", "en")[:8]
    found = request.app[FAQ].search(query, language)
    return web.json_response({"answers": [a.__dict__ for a in found]})


async def customers(request: web.Request) -> web.Response:
    """Look a customer up by e-mail, name, phone or one of their order numbers."""
    sees_customers(request)
    query = request.query.get("q", "").strip()[:100]
    if len(query) < 3:
        return web.json_response({"customers": []})
    try:
        rows = await request.app[SHOP].records.search(query)
    except ShopUnavailable as error:
        raise Unavailable(
            f"the shop's systems are not answering ({error}): search again in a moment",
            code="shop_unavailable",
        ) from None
    return web.json_response({"customers": rows})


async def customer(request: web.Request) -> web.Response:
    """A customer's record from the shop's systems (marked stale when they do not answer)."""
    sees_customers(request)
    record = await request.app[SHOP].records.record(request.match_info["id"])
    if record is None:
        raise web.HTTPNotFound()
    return web.json_response(record)


async def colleagues(request: web.Request) -> web.Response:
    """Desk users to transfer to, with who is online now, and the teams."""
    services = request.app[SERVICES]
    async with services.sessions() as session:
        found = await presence.colleagues(session)
    rows = [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "team": u.team,
            "online": online,
        }
        for u, online in found
    ]
    return web.json_response({"users": rows, "teams": list(services.policy.desk.teams)})


async def live_stats(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        return web.json_response(await stats.live(session))
