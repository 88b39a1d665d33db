"""Desk resources one click away: canned replies, the bot's FAQ answers, customer lookup, who
is on the desk, call-back requests, and the supervisor's live figures."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import or_, select

from bot.db.models import AgentPresence, Customer, Order, User, utcnow
from bot.desk import remedies, stats
from bot.desk.api.auth import supervisor
from bot.desk.faq import FaqIndex
from bot.desk.presence import ONLINE_WINDOW
from bot.desk.queue import DESK_ROLES
from bot.services import SERVICES

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
    query = request.query.get("q", "").strip()[:100]
    if len(query) < 3:
        return web.json_response({"customers": []})
    like = f"%{query.lower()}%"
    async with request.app[SERVICES].sessions() as session:
        by_order = select(Order.customer_id).where(Order.id == query)
        found = await session.scalars(
            select(Customer)
            .where(
                or_(
                    Customer.email.ilike(like),
                    Customer.name.ilike(like),
                    Customer.phone.ilike(like),
                    Customer.id == query,
                    Customer.id.in_(by_order),
                )
            )
            .limit(10)
        )
        rows = [{"id": c.id, "name": c.name, "email": c.email, "phone": c.phone} for c in found]
    return web.json_response({"customers": rows})


async def customer(request: web.Request) -> web.Response:
    async with request.app[SERVICES].sessions() as session:
        record = await remedies.customer_record(session, request.match_info["id"])
    if record is None:
        raise web.HTTPNotFound()
    return web.json_response(record)


async def colleagues(request: web.Request) -> web.Response:
    """Desk users to transfer to, with who is online now, and the teams."""
    since = utcnow() - ONLINE_WINDOW
    services = request.app[SERVICES]
    async with services.sessions() as session:
        online = set(
            await session.scalars(
                select(AgentPresence.user_id).where(AgentPresence.last_seen >= since)
            )
        )
        users = await session.scalars(
            select(User).where(User.active, User.role.in_(DESK_ROLES)).order_by(User.display_name)
        )
        rows = [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "team": u.team,
                "online": u.id in online,
            }
            for u in users
        ]
    return web.json_response({"users": rows, "teams": list(services.policy.desk.teams)})


async def live_stats(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        return web.json_response(await stats.live(session))
