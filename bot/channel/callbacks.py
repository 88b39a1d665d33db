"""Call-back requests: a customer who can't reach a person now leaves a way to be contacted.

They stay attached to the waiting ticket (agents see them in the queue when they come online) and
are done when that ticket closes. Data functions take a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.controls import first_control
from bot.db.models import CallbackRequest, CallbackStatus, Ticket, TicketStatus
from bot.errors import Conflict, Invalid

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}[0-9]")


class InvalidContact(Invalid):
    pass


@dataclass(frozen=True)
class Contact:
    name: str | None
    email: str | None
    phone: str | None
    note: str | None


def parse_contact(data: Any) -> Contact:
    """A contact with an e-mail address or a phone number, or InvalidContact saying what's wrong."""
    if not isinstance(data, dict):
        raise InvalidContact("expected a JSON object with email or phone")
    fields: dict[str, str | None] = {}
    for key, limit in (("name", 100), ("email", 200), ("phone", 40), ("note", 500)):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidContact(f"{key} must be a string")
        value = (value or "").strip()
        if control := first_control(value):
            raise InvalidContact(f"{key} must not contain control characters (found {control})")
        if len(value) > limit:
            raise InvalidContact(f"{key} is limited to {limit} characters")
        fields[key] = value or None
    if fields["email"] and not EMAIL.fullmatch(fields["email"]):
        raise InvalidContact("that doesn't look like an e-mail address")
    if fields["phone"] and not PHONE.fullmatch(fields["phone"]):
        raise InvalidContact("that doesn't look like a phone number")
    if not fields["email"] and not fields["phone"]:
        raise InvalidContact("leave an e-mail address or a phone number")
    return Contact(fields["name"], fields["email"], fields["phone"], fields["note"])


async def request_callback(
    session: AsyncSession, conversation_id: str, contact: Contact
) -> CallbackRequest:
    """Attach the contact to the conversation's waiting ticket (a later request replaces it)."""
    ticket = await session.scalar(
        select(Ticket).where(
            Ticket.conversation_id == conversation_id, Ticket.status == TicketStatus.WAITING
        )
    )
    if ticket is None:
        raise Conflict("this conversation is not waiting for a person")
    for earlier in await session.scalars(
        select(CallbackRequest).where(
            CallbackRequest.conversation_id == conversation_id,
            CallbackRequest.status == CallbackStatus.OPEN,
        )
    ):
        earlier.status = CallbackStatus.REPLACED
    request = CallbackRequest(
        conversation_id=conversation_id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        note=contact.note,
    )
    session.add(request)
    await session.flush()
    return request
