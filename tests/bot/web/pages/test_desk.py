"""The desk in a real browser, with the scripted Rasa stand-in: several conversations at once
with unread markers and a title notice, and a supervisor joining an agent's conversation."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select, update

from bot.db.models import Conversation
from bot.desk.staff import create_user
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import (
    DESK,
    DESKTOP,
    Agent,
    Customer,
    add_supervisor_grace,
    waiting_customer,
)


def test_agent_holds_several_conversations_with_unread_markers(
    contexts: Any, live: LiveService
) -> None:
    maya = waiting_customer(contexts, live, "C1001")
    daniel = waiting_customer(contexts, live, "C1002")
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    expect(agent.page.locator(".queue-item")).to_have_count(2)
    for page in ("Supervisor view", "Designer", "Insights"):  # not for agents
        expect(agent.page.locator(".topnav a", has_text=page)).to_be_hidden()
    agent.claim_first()
    agent.claim_first()
    mine = agent.page.locator(".mine-item")
    expect(mine).to_have_count(2)
    expect(agent.page.locator("#conv-title")).to_have_text("Daniel Okafor")

    maya.say("my order is still not here")
    unread = mine.filter(has_text="Maya Thompson").locator(".unread")
    expect(unread).to_have_text("1")
    expect(agent.page).to_have_title("(1) Fetch & Home Desk")
    daniel.say("thanks for taking this")
    expect(agent.transcript().last).to_have_text("thanks for taking this")
    expect(mine.filter(has_text="Daniel Okafor").locator(".unread")).to_have_count(0)

    mine.filter(has_text="Maya Thompson").click()
    expect(agent.page.locator("#conv-title")).to_have_text("Maya Thompson")
    expect(agent.transcript().last).to_have_text("my order is still not here")
    expect(unread).to_have_count(0)
    expect(agent.page).to_have_title("Fetch & Home Desk")
    agent.reply("Hi Maya, I'm on it.")
    maya.expect_last("agent", "Hi Maya, I'm on it.")
    daniel_texts = daniel.all_texts("agent")
    assert "Hi Maya, I'm on it." not in daniel_texts
    # a reply misrouted to Daniel would reach him before a later one of his own
    mine.filter(has_text="Daniel Okafor").click()
    expect(agent.page.locator("#conv-title")).to_have_text("Daniel Okafor")
    agent.reply("Glad to help, Daniel.")
    daniel.expect_last("agent", "Glad to help, Daniel.")
    assert daniel.all_texts("agent") == ["Glad to help, Daniel."]


def test_supervisor_joins_an_agents_conversation_from_the_supervisor_view(
    contexts: Any, live: LiveService
) -> None:
    add_supervisor_grace(live)
    maya = waiting_customer(contexts, live, "C1001")
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    grace = Agent(contexts(viewport=DESK).new_page(), live.base)
    grace.sign_in("grace", path="/desk/supervisor")
    for page in ("Designer", "Insights"):  # a supervisor may use the designer's pages too
        expect(grace.page.locator(".topnav a", has_text=page)).to_be_visible()
    row = grace.page.locator("#open tbody tr")
    expect(row).to_contain_text("With Ana Souza")
    row.get_by_role("button", name="Join the conversation with Maya Thompson").click()
    expect(grace.page.locator("#conv-title")).to_have_text("Maya Thompson")
    maya.expect_last("system", "Grace Lin, a Customer Care supervisor, has joined the chat.")
    grace.reply("Hello Maya, I'm Grace, Ana's supervisor.")
    maya.expect_last("agent", "Hello Maya, I'm Grace, Ana's supervisor.")
    expect(agent.transcript().last).to_have_text("Hello Maya, I'm Grace, Ana's supervisor.")


def test_a_claim_made_while_the_desk_is_still_loading_keeps_what_the_agent_types(
    contexts: Any, live: LiveService
) -> None:
    """The queue shows before the desk has finished starting; an agent who claims and types at
    once keeps the conversation, the text and the focus when the rest of the start-up lands."""
    maya = waiting_customer(contexts, live, "C1001")
    waiting_customer(contexts, live, "C1002")
    desk = contexts(viewport=DESK).new_page()
    held: list[Any] = []
    desk.route("**/desk/api/approvals", lambda route: held.append(route))
    agent = Agent(desk, live.base)
    agent.sign_in("ana")
    expect(desk.locator(".queue-item")).to_have_count(2)
    agent.claim_first()  # the one waiting longest: Maya
    expect(desk.locator("#conv-title")).to_have_text("Maya Thompson")
    desk.fill("#composer-text", "Hi Maya, I'm")
    assert len(held) == 1  # the start-up is still waiting
    with desk.expect_response(lambda response: response.url.endswith("/desk/api/mine")):
        held[0].continue_()  # the start-up goes on: its own look at the agent's conversations
    desk.wait_for_timeout(300)  # and time to draw whatever it would draw after that
    expect(desk.locator("#conv-title")).to_have_text("Maya Thompson")
    expect(desk.locator("#composer-text")).to_have_value("Hi Maya, I'm")
    expect(desk.locator("#composer-text")).to_be_focused()
    desk.press("#composer-text", "End")
    desk.keyboard.type(" on it.")
    desk.keyboard.press("Enter")
    maya.expect_last("agent", "Hi Maya, I'm on it.")


def test_after_the_bot_fails_the_brief_counts_its_answers_and_a_resolved_chat_goes_on(
    contexts: Any, live: LiveService
) -> None:
    """The bot_unavailable brief lists what the bot had answered (not "Nothing yet"); after
    Resolve the widget says the assistant is there, and writing again gets one answer."""
    customer = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    customer.visit("C1001")
    for text in ("how much is shipping", "and to Alaska?"):
        customer.say(text)
        customer.expect_last("bot", f"echo: {text}")
    customer.say("please fail")
    expect(customer.queue).to_be_visible()

    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    desk = agent.page
    # built from the transcript: each question and the bot's answer (issue 12, item 6)
    desk.get_by_role("button", name="Show the whole brief").click()
    expect(desk.locator("#brief-answered + ul li")).to_have_text(
        [
            "Turn 1“how much is shipping” → echo: how much is shipping",
            "Turn 2“and to Alaska?” → echo: and to Alaska?",
        ]
    )
    expect(desk.locator(".brief-summary")).to_contain_text("asked 2 questions before")
    desk.get_by_role("button", name="Resolve").click()
    desk.locator("#dialog [data-ok]").click()
    expect(customer.status).to_have_text("Chat ended · the assistant is here")
    expect(customer.page.locator(".fh-input")).to_have_attribute(
        "placeholder", "Anything else? Ask the assistant…"
    )
    customer.say("how long does a refund take")
    customer.expect_last("bot", "echo: how long does a refund take")
    assert customer.all_texts("bot").count("echo: how long does a refund take") == 1
    expect(customer.status).to_contain_text("Virtual assistant")


def test_the_queue_offers_a_conversation_first_to_agents_who_speak_its_language(
    contexts: Any, live: LiveService
) -> None:
    async def linh(session: Any) -> None:
        await create_user(
            session, username="linh", display_name="Linh Tran", role="agent",
            password=PASSWORD, languages=("en", "vi"),
        )  # fmt: skip

    live.in_session(linh)
    waiting_customer(contexts, live, "C1001")  # English, waiting longest
    waiting_customer(contexts, live, "C1002")

    async def in_vietnamese(session: Any) -> None:
        # as a handoff brief from a customer writing in Vietnamese leaves it; the newest one
        newest = select(Conversation.id).order_by(Conversation.created_at.desc()).limit(1)
        await session.execute(
            update(Conversation)
            .where(Conversation.id == newest.scalar_subquery())
            .values(language="vi")
        )

    live.in_session(in_vietnamese)
    ana = Agent(contexts(viewport=DESK).new_page(), live.base)
    ana.sign_in("ana")  # English only; nobody who speaks Vietnamese is online yet
    cards = ana.page.locator(".queue-item")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".badge-lang")).to_have_text("English: you speak it")
    expect(cards.nth(1).locator(".badge-lang")).to_have_text("Vietnamese: nobody online speaks it")

    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("linh")
    linh_cards = agent.page.locator(".queue-item")
    expect(linh_cards).to_have_count(2)
    # both are hers to take; waiting shorter, the Vietnamese one is still offered to her first
    expect(linh_cards.first.locator(".badge-lang")).to_have_text("Vietnamese: you speak it")
    agent.claim_first()
    expect(agent.page.locator("#conv-title")).to_have_text("Daniel Okafor")
    expect(agent.page.locator(".brief .badge-lang")).to_have_text("Writes in Vietnamese")
