"""The desk's case brief in a real browser (issue 12, item 8): by default a few lines (the reason,
the signals, the next steps) that leave the transcript most of the column, the rest on demand."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from bot.db.models import Ticket
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import DESKTOP, Agent, Customer

STEPS = [
    "Check the tracking of order 71042388 with the carrier before answering.",
    "Offer a replacement or a refund if the box is lost.",
    "Apologise once for the wait, without blaming the carrier.",
    "Confirm the delivery address on the order.",
    "Tell the customer when they will hear from us next.",
]


def test_the_brief_is_compact_by_default_and_the_transcript_gets_most_of_the_height(
    contexts: Any, live: LiveService
) -> None:
    customer = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    customer.visit("C1001")
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()

    async def long_brief(session: Any) -> None:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        ticket.brief = {
            **ticket.brief,
            "summary": "Customer wrote 6 messages about: order status, a refund. " * 6,
            "signals": [
                {"name": "all_caps", "turn": 1, "weight": 1, "text": "WHERE IS IT"},
                {"name": "repeated_question", "turn": 1, "weight": 2, "text": "again"},
            ],
            "answered": [{"turn": 1, "response": "utter_faq/order_status"}],
            "suggested_next_steps": STEPS,
        }

    live.in_session(long_brief)
    agent = Agent(contexts(viewport=DESKTOP).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    page = agent.page
    brief, thread = page.locator(".brief"), page.locator(".thread")
    # the compact default: the reason, the signals and the first two steps, one line each
    expect(brief.locator(".badge-reason")).to_be_visible()
    expect(brief.locator(".chip-signal")).to_have_count(2)
    expect(brief.locator(".brief-compact .steps li")).to_have_text(STEPS[:2])
    expect(brief.locator(".brief-summary")).to_be_hidden()
    expect(thread).to_be_visible()  # drawn again after the claim's own render
    compact, shown = brief.bounding_box(), thread.bounding_box()
    assert compact is not None and shown is not None
    assert compact["height"] <= 140, compact
    # the header and the composer take their share; of the rest the transcript gets most
    assert shown["height"] >= 2 * compact["height"], (shown, compact)

    # on demand, all of it: the summary, what the bot answered, every step
    page.get_by_role("button", name="Show the whole brief").click()
    expect(brief.locator(".brief-summary")).to_be_visible()
    expect(brief.locator("#brief-answered + ul")).to_contain_text("Order status")
    expect(brief.locator(".brief-more .steps li")).to_have_text(STEPS)
    expect(page.locator(".brief-toggle")).to_have_attribute("aria-expanded", "true")
    # a re-render (a new message) keeps it as the agent left it
    customer.say("still there?")
    expect(agent.transcript().last).to_have_text("still there?")
    expect(brief.locator(".brief-summary")).to_be_visible()
    page.get_by_role("button", name="Show less of the brief").click()
    expect(brief.locator(".brief-summary")).to_be_hidden()
