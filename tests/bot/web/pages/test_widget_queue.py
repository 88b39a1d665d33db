"""Waiting for a person in the widget (issue 12, items 1 and 2): a compact queue card that
folds away, the transcript kept on its newest message, the call-back form whole on a phone and a
desktop, and, with nobody online, one thing said about what happens now and next."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from bot.db.models import Customer as CustomerRow
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import DESKTOP, Customer

SMALL_PHONE = {"width": 375, "height": 667}  # an iPhone SE / 8, the smallest common phone
COMPACT_PX = 90  # the card's height: a title and a line, not a third of a phone


def _inside(inner: Locator, outer: Locator, page: Page) -> None:
    """`inner` is wholly on screen: inside `outer` (a scroll container) and the viewport."""
    box, frame = inner.bounding_box(), outer.bounding_box()
    viewport = page.viewport_size
    assert box is not None and frame is not None and viewport is not None
    assert (
        box["y"] >= frame["y"] - 1 and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
    )
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_queue_card_is_compact_and_the_call_back_form_is_shown_whole(
    contexts: Any, live: LiveService, viewport: dict[str, int]
) -> None:
    page = contexts(viewport=viewport, is_mobile=viewport is SMALL_PHONE).new_page()
    customer = Customer(page, live.base)
    customer.visit()
    for text in ("how much is shipping", "and to Alaska?", "where is my order"):
        customer.say(text)
        customer.expect_last("bot", f"echo: {text}")
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()
    form = page.locator(".fh-callback")
    expect(form).to_be_visible()
    page.wait_for_timeout(400)  # the scroll after the card and the form appeared
    card = customer.queue.bounding_box()
    assert card is not None and card["height"] <= COMPACT_PX, card
    scroller = page.locator(".fh-scroll")
    _inside(form.locator("h4"), scroller, page)
    _inside(form.get_by_role("button", name="Send my details"), scroller, page)

    # it folds to its title row and back, the transcript gaining the height
    toggle = customer.queue.locator(".fh-queue-toggle")
    back = page.get_by_role("button", name="Back to the assistant")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(back).to_be_visible()
    customer.queue.get_by_role("button", name="Hide the waiting details").click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(back).to_be_hidden()
    folded = customer.queue.bounding_box()
    assert folded is not None and folded["height"] < card["height"]
    customer.queue.get_by_role("button", name="Show the waiting details").click()
    expect(back).to_be_visible()

    # a message written while waiting is shown: the transcript stays on the newest message
    customer.say("are you there?")
    newest = customer.texts("customer").last
    expect(newest).to_have_text("are you there?")
    page.wait_for_timeout(400)
    _inside(newest, scroller, page)


def test_with_nobody_online_the_widget_says_one_thing_and_then_what_happens_next(
    contexts: Any, live: LiveService
) -> None:
    page = contexts(viewport=DESKTOP).new_page()
    customer = Customer(page, live.base)
    customer.visit()
    customer.say("hand me over")
    expect(customer.queue).to_have_attribute("data-availability", "no_agents_online")
    customer.expect_last("system", "away from the chat", exact=False)
    # the notice in the transcript says it: the card does not contradict it with a place in line
    expect(customer.queue).not_to_contain_text("in line")
    expect(customer.queue).not_to_contain_text("can't answer")
    assert len(customer.all_texts("system")) == 1

    form = page.locator(".fh-callback")
    form.get_by_label("E-mail").fill("sam@example.com")
    form.get_by_role("button", name="Send my details").click()
    expect(customer.queue.locator(".fh-thanks")).to_have_text(
        "We'll contact you at sam@example.com as soon as someone from our team is back."
    )
    expect(form).to_have_count(0)
    customer.expect_last("system", "Thank you, we've saved your details", exact=False)
    thanks = [t for t in page.locator(".fh-log").all_inner_texts()[0].split("\n") if "Thank" in t]
    assert len(thanks) == 1, thanks
    expect(customer.queue).not_to_contain_text("in line")

    page.reload()  # what happens next is still said after a reload
    expect(customer.queue.locator(".fh-thanks")).to_contain_text("sam@example.com")
    expect(page.locator(".fh-callback")).to_have_count(0)


def test_a_signed_in_customer_finds_their_e_mail_address_filled_in(
    contexts: Any, live: LiveService
) -> None:
    async def email_of(session: Any) -> str:
        return str(await session.scalar(select(CustomerRow.email).filter_by(id="C1001")))

    known = live.in_session(email_of)
    customer = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    customer.visit("C1001")
    customer.say("hand me over")
    expect(customer.page.locator(".fh-callback").get_by_label("E-mail")).to_have_value(known)
