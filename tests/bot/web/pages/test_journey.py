"""The whole product in a real browser, against the real Rasa and action servers: a customer on
the shop's page and an agent at the desk, each in their own browser context, checking what each
of them sees. `make screenshots` saves the README's pictures from this run (docs/*.png)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.db.engine import create_engine, session_factory
from bot.desk.staff import create_user
from bot.ops import launcher
from bot.ops.demo import seed
from bot.settings import Settings
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.people import DESK, DESKTOP, Agent, Customer
from tests.e2e.conftest import domain_text

# `make test` trains the model first; a bare `pytest tests/bot` while the training data is being
# edited has none for the current data, and says so instead of failing
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not launcher.model_path().exists(), reason="no model for the current data: `make model`"
    ),
]


# (username, display name, role, languages spoken)
STAFF = (("ana", "Ana Souza", "agent", ("en",)), ("grace", "Grace Lin", "supervisor", ("en",)))


async def _shop_with_staff(
    settings: Settings, staff: tuple[tuple[str, str, str, tuple[str, ...]], ...] = STAFF
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            await seed(session)
            for username, name, role, languages in staff:
                await create_user(
                    session, username=username, display_name=name, role=role,
                    password=PASSWORD, languages=languages,
                )  # fmt: skip
    finally:
        await engine.dispose()


def _snap(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name))


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_customer_and_agent_from_faq_to_frustration_to_a_credit_and_back_to_the_bot(
    stack: Settings, browser: Any, screenshots: Path
) -> None:
    # Playwright's sync API runs an event loop in this thread: set up the shop in another one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _shop_with_staff(stack)).result()
    base = f"http://127.0.0.1:{stack.port}"
    customer_context = browser.new_context(viewport=DESKTOP)
    desk_context = browser.new_context(viewport=DESK)
    supervisor_context = browser.new_context(viewport=DESK)
    try:
        agent = Agent(desk_context.new_page(), base)
        agent.sign_in("ana")  # on the desk, so the customer is told a person is available
        expect(agent.page.locator("#queue-empty")).to_be_visible()
        expect(agent.page.locator("#connection")).to_have_attribute("data-state", "open")

        # FAQ answers from the real bot
        customer = Customer(customer_context.new_page(), base)
        customer.visit("C1001")
        customer.say("how much is shipping?")
        customer.expect_last("bot", domain_text("utter_faq/shipping_cost"))
        customer.say("where is my order 71042388")
        customer.expect_last("bot", domain_text("utter_faq/order_status"))
        expect(customer.page.locator(".fh-customer").last).to_have_attribute("data-state", "sent")
        _snap(customer.page, screenshots, "widget.png")

        # frustration: the bot hands over, honestly, and the customer sees their place in line
        customer.say("that didn't help. WHERE IS IT???")
        customer.expect_last("bot", domain_text("utter_handoff_frustration"))
        expect(customer.queue).to_be_visible()
        # the desk's real opening hours decide which one the customer is told (once the
        # service has said where they are in line)
        expect(customer.queue).to_have_attribute("data-availability", re.compile(r"\w"))
        if customer.page.locator(".fh-queue").get_attribute("data-availability") == "open":
            expect(customer.queue.locator("h3")).to_have_text("Connecting you to a person")
            expect(customer.page.locator(".fh-queue-text")).to_have_text("You're next in line.")
            # first in line with an agent free: not a fixed "about 6 minutes"
            expect(customer.page.locator(".fh-queue-eta")).to_have_text(
                "Estimated wait: a few minutes."
            )
        else:  # the notice in the transcript says what happens; the card no place in line
            expect(customer.queue.locator("h3")).to_have_text("Our team is away right now")
        expect(customer.page.get_by_role("button", name="Back to the assistant")).to_be_visible()
        expect(customer.status).to_have_text("Connecting you to a person")
        _snap(customer.page, screenshots, "widget-queue.png")

        # the agent sees why, claims in one click, and the customer is told who joined
        item = agent.page.locator(".queue-item")
        expect(item).to_have_count(1)
        expect(item.locator(".badge-reason")).to_have_text("Frustration")
        expect(item.locator(".badge-lang")).to_have_text("English: you speak it")
        agent.claim_first()
        expect(customer.status).to_have_text("Ana Souza · Customer Care")
        customer.expect_last("system", "Ana Souza from Customer Care has joined the chat.")
        expect(customer.queue).to_be_hidden()

        desk = agent.page
        expect(desk.locator("#conv-title")).to_have_text("Maya Thompson")
        expect(desk.locator(".brief-summary")).to_contain_text("71042388")
        expect(desk.locator(".brief .chip-signal").first).to_be_visible()
        expect(desk.locator("#transcript .has-signal").first).to_contain_text("WHERE IS IT")
        expect(desk.locator("#brief-answered + ul")).to_contain_text("Order status")
        expect(desk.locator(".order").first).to_contain_text("#71042388")

        # a credit within the agent's authority, visible in the customer's record at once
        remedy = desk.locator("form.remedy")
        expect(remedy.locator("select[name=order]")).to_have_value("71042388")
        remedy.locator("input[name=amount]").fill("15")
        remedy.locator("input[name=reason]").fill("late delivery, asked twice")
        expect(remedy.locator("#remedy-limit")).to_contain_text("$25.00 in this conversation")
        remedy.get_by_role("button", name="Give $15.00 credit").click()
        expect(desk.locator("#credit-balance")).to_have_text("$15.00")
        expect(desk.locator(".given")).to_contain_text("Credit $15.00 on #71042388")

        # above the authority: an approval request, decided by a supervisor in one click
        remedy = desk.locator("form.remedy")
        remedy.locator("input[name=amount]").fill("40")
        remedy.locator("input[name=reason]").fill("second late box this month")
        remedy.get_by_role("button", name="Ask a supervisor to approve $40.00").click()
        expect(desk.locator(".approval")).to_contain_text("waiting for a supervisor")

        agent.reply("I've added a $15 credit to your account. Your box is out for delivery today.")
        customer.expect_last(
            "agent", "I've added a $15 credit to your account. Your box is out for delivery today."
        )
        # a signal in the brief leads to the message that carried it
        desk.locator(".brief .chip-signal").first.click()
        expect(desk.locator("#transcript .has-signal").first).to_be_focused()
        _snap(desk, screenshots, "desk.png")

        supervisor = Agent(supervisor_context.new_page(), base)
        supervisor.sign_in("grace", path="/desk/supervisor")
        page = supervisor.page
        expect(page.locator("#approvals tbody tr")).to_have_count(1)
        expect(page.locator("#approvals")).to_contain_text("Credit $40.00")
        expect(page.locator("#open")).to_contain_text("With Ana Souza")
        expect(page.locator(".tile").nth(2)).to_contain_text("Agents online")
        expect(page.locator("#reasons")).to_contain_text("Frustration")
        _snap(page, screenshots, "supervisor.png")
        page.get_by_role("button", name="Approve Credit of $40.00 for Ana Souza").click()
        expect(page.locator("#approvals .empty")).to_be_visible()
        expect(desk.locator("#credit-balance")).to_have_text("$55.00")

        # back to the bot, which confirms in writing what was done
        desk.get_by_role("button", name="Return to bot").click()
        expect(desk.locator("#dialog select[name=code]")).to_have_value("credited")
        desk.locator("#dialog [data-ok]").click()
        # the $15 and the approved $40 are one credit to the customer, not one sentence twice
        customer.expect_last("bot", "arranged a $55.00 credit to your account.", exact=False)
        expect(customer.status).to_contain_text("Virtual assistant")

        # asked for a person again, resolved, and the satisfaction question at the end
        customer.say("I'd like to talk to a person please")
        customer.expect_last("bot", domain_text("utter_handoff_explicit_request"))
        expect(agent.page.locator(".queue-item")).to_have_count(1)
        agent.claim_first()
        expect(customer.status).to_have_text("Ana Souza · Customer Care")
        desk.get_by_role("button", name="Resolve").click()
        desk.locator("#dialog [data-ok]").click()
        expect(customer.page.locator(".fh-scale button")).to_have_count(5)
        expect(customer.status).to_contain_text("Chat ended")
        customer.page.get_by_role("button", name="4").click()
        expect(customer.page.locator(".fh-survey")).to_contain_text(
            "You rated this chat 4 out of 5"
        )
        expect(desk.locator("#placeholder")).to_be_visible()
    finally:
        for context in (customer_context, desk_context, supervisor_context):
            context.close()


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_vietnamese_customer_on_an_english_page_from_faq_to_an_agent_who_speaks_it(
    stack: Settings, browser: Any
) -> None:
    """Issue 14's journey in Vietnamese on the real bot: the page says nothing of the language,
    the customer just writes it (without tone marks, as many do)."""
    with ThreadPoolExecutor(1) as pool:
        linh = (("linh", "Linh Tran", "agent", ("en", "vi")),)
        pool.submit(asyncio.run, _shop_with_staff(stack, linh)).result()
    base = f"http://127.0.0.1:{stack.port}"
    customer_context = browser.new_context(viewport=DESKTOP)
    desk_context = browser.new_context(viewport=DESK)
    try:
        agent = Agent(desk_context.new_page(), base)
        agent.sign_in("linh")
        expect(agent.page.locator("#queue-empty")).to_be_visible()

        customer = Customer(customer_context.new_page(), base)
        customer.visit()
        customer.say("phi ship bao nhieu vay shop")
        customer.expect_last("bot", domain_text("utter_faq/shipping_cost", "vi"))
        customer.say("cho minh noi chuyen voi nhan vien duoc khong")
        customer.expect_last("bot", domain_text("utter_handoff_explicit_request", "vi"))
        expect(customer.queue).to_be_visible()
        expect(customer.page.locator(".fh-root")).to_have_attribute("lang", "vi")

        item = agent.page.locator(".queue-item")
        expect(item).to_have_count(1)
        expect(item.locator(".badge-lang")).to_have_text("Vietnamese: you speak it")
        agent.claim_first()
        desk = agent.page
        expect(desk.locator(".brief .badge-lang")).to_have_text("Writes in Vietnamese")
        expect(customer.status).to_have_text("Linh Tran · Chăm sóc khách hàng")
        customer.expect_last(
            "system", "Linh Tran từ bộ phận Chăm sóc khách hàng đã tham gia cuộc trò chuyện."
        )
        agent.reply("Chào bạn, mình là Linh. Mình xem đơn giúp bạn nhé.")
        customer.expect_last("agent", "Chào bạn, mình là Linh. Mình xem đơn giúp bạn nhé.")
        customer.say("cam on ban nhieu")
        expect(agent.transcript().last).to_have_text("cam on ban nhieu")

        desk.get_by_role("button", name="Resolve").click()
        desk.locator("#dialog [data-ok]").click()
        # told the person has left, then asked how it went
        expect(
            customer.texts("system").filter(has_text="Linh Tran đã rời cuộc trò chuyện.")
        ).to_have_count(1)
        survey = customer.texts("system").filter(has_text="Bạn hài lòng thế nào với sự hỗ trợ")
        expect(survey).to_have_count(1)
        expect(customer.page.locator(".fh-score-label")).to_have_text(
            ["Hoàn toàn không", "Rất hài lòng"]
        )
        customer.page.get_by_role("button", name="5, Rất hài lòng").click()
        expect(customer.page.locator(".fh-survey")).to_have_text(
            "Cảm ơn bạn! Bạn đã chấm cuộc trò chuyện này 5/5."
        )
    finally:
        for context in (customer_context, desk_context):
            context.close()
