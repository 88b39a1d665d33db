"""Desk views for the queue and one conversation: claim, read, reply, hand on, close."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.conversations.messages import get_conversation, messages_since
from bot.db.models import Mode, Ticket, User
from bot.desk import customers, queue, remedies, staff
from bot.desk.api.auth import current_user, lease, sees_customers, supervisor
from bot.errors import BadRequest, Conflict, Forbidden
from bot.rasa.turn import TURNS
from bot.services import SERVICES
from bot.shop.connector import SHOP
from bot.web.http import json_body, path_id


async def _field(request: web.Request, name: str, limit: int, required: bool = True) -> str:
    data = await json_body(request) if request.can_read_body else {}
    value = data.get(name, "") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise BadRequest(f"invalid_{name}", f"{name} must be a string of 1-{limit} characters")
    return value


def _takes_conversations(request: web.Request) -> User:
    user = current_user(request)
    if user.role not in queue.DESK_ROLES:
        raise Forbidden(f"a {user.role} does not work the queue")
    return user


async def waiting(request: web.Request) -> web.Response:
    _takes_conversations(request)
    async with request.app[SERVICES].sessions() as session:
        tickets = await queue.waiting(session)
    return web.json_response({"waiting": [t.as_dict() for t in tickets]})


async def mine(request: web.Request) -> web.Response:
    """The conversations this person holds now (supervisors: also the escalated ones)."""
    user = _takes_conversations(request)
    async with request.app[SERVICES].sessions() as session:
        assigned, escalated = await queue.held(session, user)
    return web.json_response(
        {"assigned": [_ticket(t) for t in assigned], "escalated": [_ticket(t) for t in escalated]}
    )


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "status": ticket.status,
        "reason": ticket.reason,
        "priority": ticket.priority,
        "team": ticket.team,
        "agent_id": ticket.agent_id,
        "waiting_since": ticket.created_at.isoformat(),
        "claimed_at": ticket.claimed_at.isoformat() if ticket.claimed_at else None,
        "escalated_at": ticket.escalated_at.isoformat() if ticket.escalated_at else None,
        "escalation_note": ticket.escalation_note,
        "summary": str(ticket.brief.get("summary") or ""),
    }


async def claim(request: web.Request) -> web.Response:
    services, user = request.app[SERVICES], current_user(request)
    async with services.work() as work:
        ticket = await queue.claim(work, path_id(request), user, lease(request))
        template = await services.say(work.session, ticket.conversation_id, "agent_joined")
        joined = await queue.announce(work.session, ticket.conversation_id, template, user)
        work.said(ticket.conversation_id, joined)
    return web.json_response({"ticket_id": ticket.id, "conversation_id": ticket.conversation_id})


async def heartbeat(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    async with services.sessions.begin() as session:
        await queue.heartbeat(
            session, path_id(request), current_user(request), lease(request), services.now()
        )
    return web.json_response({"renewed": True})


async def view(request: web.Request) -> web.Response:
    """Everything an agent needs on one screen: brief, transcript, customer, notes, authority."""
    conversation_id = request.match_info["id"]
    services, user = request.app[SERVICES], sees_customers(request)
    async with services.sessions() as session:
        await queue.owned_ticket(session, conversation_id, user)
        customer_id = (await get_conversation(session, conversation_id)).customer_id
    # read through to the shop's systems (and copied here) before the rest is read
    customer = await request.app[SHOP].records.record(customer_id)
    async with services.sessions() as session:
        ticket = await queue.owned_ticket(session, conversation_id, user)
        found = await get_conversation(session, conversation_id)
        transcript = await messages_since(session, conversation_id, 0, limit=5000)
        authority = await remedies.remaining_authority(
            session, user, conversation_id, services.policy, services.now()
        )
        notes = await queue.notes_of(session, conversation_id)
        grants = await remedies.grants_of(session, conversation_id)
        events = await queue.events_of(session, conversation_id)
        callback = await queue.open_callback(session, conversation_id)
        return web.json_response(
            {
                "conversation_id": conversation_id,
                "mode": found.mode,
                "language": found.language,
                "ticket": _ticket(ticket),
                "brief": ticket.brief,
                "transcript": [m.as_dict() for m in transcript],
                "customer": customer,
                "authority": authority,
                "audit_threshold_cents": services.policy.audit_threshold_cents,
                "notes": notes,
                "callback": callback,
                "grants": [remedies.grant_body(g, d) for g, d in grants],
                "events": [
                    {
                        "kind": e.kind,
                        "actor": e.actor,
                        "to_mode": e.to_mode,
                        "at": e.created_at.isoformat(),
                    }
                    for e in events
                ],
            }
        )


async def reply(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    text = await _field(request, "text", services.settings.max_message_chars)
    conversation_id = request.match_info["id"]
    async with services.work() as work:
        stored = await queue.reply(
            work.session, conversation_id, current_user(request), text, lease(request), work.now
        )
        work.said(conversation_id, stored)
    return web.json_response({"id": stored.id, "seq": stored.seq}, status=201)


async def note(request: web.Request) -> web.Response:
    text = await _field(request, "text", 4000)
    conversation_id, services = request.match_info["id"], request.app[SERVICES]
    async with services.sessions.begin() as session:
        made = await queue.add_note(session, conversation_id, current_user(request), text)
    body = {
        "type": "note",
        "conversation_id": conversation_id,
        "id": made.id,
        "text": made.text,
        "author": current_user(request).display_name,
        "created_at": made.created_at.isoformat(),
    }
    await services.hub.publish(f"notes:{conversation_id}", body)
    return web.json_response(body, status=201)


async def return_to_bot(request: web.Request) -> web.Response:
    """Back to the bot, which is told what was done (as slots) and confirms it to the customer.

    Rasa first: if the bot cannot be resumed, the conversation stays with the person.
    """
    outcome = await _field(request, "outcome", 32, required=False) or "resolved"
    services, user = request.app[SERVICES], current_user(request)
    conversation_id = request.match_info["id"]
    if outcome not in services.policy.desk.wrap_ups:
        raise Conflict(f"the outcome must be one of {', '.join(services.policy.desk.wrap_ups)}")
    async with services.sessions() as session:
        await queue.owned_ticket(session, conversation_id, user)
        slots = await remedies.outcome_slots(session, conversation_id, outcome)
    await request.app[TURNS].resume_bot(conversation_id, slots)
    async with services.work() as work:
        await queue.return_to_bot(
            work, conversation_id, user, outcome, services.policy.desk.wrap_ups
        )
    await request.app[TURNS].confirm_outcome(conversation_id)
    return web.json_response({"mode": Mode.BOT, "slots": slots})


async def resolve(request: web.Request) -> web.Response:
    wrap_up = await _field(request, "wrap_up", 32)
    services, conversation_id = request.app[SERVICES], request.match_info["id"]
    async with services.work() as work:
        await queue.resolve(
            work,
            conversation_id,
            current_user(request),
            wrap_up,
            services.policy.desk.wrap_ups,
            await services.say(work.session, conversation_id, "satisfaction_question"),
            [
                await services.say(work.session, conversation_id, "satisfaction_low"),
                await services.say(work.session, conversation_id, "satisfaction_high"),
            ],
            left=await services.say(work.session, conversation_id, "agent_left"),
        )
    return web.json_response({"mode": Mode.CLOSED})


async def transfer(request: web.Request) -> web.Response:
    """{"to_agent": username} keeps it with a person; {"to_team": team} puts it in the queue."""
    data = await json_body(request)
    if not isinstance(data, dict) or len({"to_agent", "to_team"} & data.keys()) != 1:
        raise BadRequest("invalid_transfer", "send either to_agent (a username) or to_team")
    services, user = request.app[SERVICES], current_user(request)
    conversation_id = request.match_info["id"]
    async with services.work() as work:
        if "to_agent" in data:
            target = await staff.user_named(work.session, str(data["to_agent"]))
            if target is None:
                raise Conflict(f"there is no desk user {data['to_agent']!r}")
            await queue.transfer_to_agent(
                work,
                conversation_id,
                user,
                target,
                lease(request),
                (await services.say(work.session, conversation_id, "transferred_to_agent")).replace(
                    "{name}", target.display_name
                ),
            )
            mode = Mode.ASSIGNED
        else:
            await queue.transfer_to_team(
                work,
                conversation_id,
                user,
                str(data["to_team"]),
                services.policy.desk.teams,
                await services.say(work.session, conversation_id, "transferred_to_team"),
            )
            mode = Mode.QUEUED
    return web.json_response({"transferred": True, "mode": mode})


async def escalate(request: web.Request) -> web.Response:
    note_text = await _field(request, "note", 500)
    services, conversation_id = request.app[SERVICES], request.match_info["id"]
    user = current_user(request)
    async with services.work() as work:
        ticket = await queue.escalate(work.session, conversation_id, user, note_text, work.now)
        # who asks, for the supervisors' toast; the note stays behind the supervisors' own API
        work.tell_desks(
            {
                "type": "escalation",
                "conversation_id": conversation_id,
                "ticket_id": ticket.id,
                "by": user.display_name,
            }
        )
    return web.json_response({"escalated": True})


async def join(request: web.Request) -> web.Response:
    user = supervisor(request)
    services, conversation_id = request.app[SERVICES], request.match_info["id"]
    async with services.work() as work:
        await queue.join(
            work,
            conversation_id,
            user,
            (await services.say(work.session, conversation_id, "supervisor_joined")).replace(
                "{name}", user.display_name
            ),
        )
    return web.json_response({"joined": True})


async def link_customer(request: web.Request) -> web.Response:
    """The agent has checked who the customer is (e.g. order number and e-mail) and links them."""
    customer_id = await _field(request, "customer_id", 32)
    services, conversation_id = request.app[SERVICES], request.match_info["id"]
    try:
        await request.app[SHOP].records.refresh(customer_id)  # the shop's record, copied here
    except KeyError:
        raise Conflict(f"there is no customer {customer_id!r}") from None
    async with services.sessions.begin() as session:
        await queue.owned_ticket(session, conversation_id, current_user(request))
        await customers.link_customer(session, conversation_id, customer_id, current_user(request))
    return web.json_response({"customer_id": customer_id})
