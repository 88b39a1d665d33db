"""The desk's conversation view in a real browser: a reply and a private note are never mistaken
for each other (issue 12, item 7), and the brief's signals carry the service's labels (item 10)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from bot.db.models import Ticket
from bot.desk.staff import create_user
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import (
    DESK,
    Agent,
    add_supervisor_grace,
    api_agent,
    waiting_customer,
)


def test_each_conversation_opens_on_reply_and_note_mode_is_unmistakable(
    contexts: Any, live: LiveService
) -> None:
    maya = waiting_customer(contexts, live, "C1001")
    guest = waiting_customer(contexts, live, None)
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    expect(agent.page.locator(".queue-item")).to_have_count(2)
    agent.claim_first()
    agent.claim_first()
    page = agent.page
    mine = page.locator(".mine-item")
    expect(mine).to_have_count(2)
    expect(page.locator("#conv-title")).to_have_text("Guest customer")  # the second claim opened

    mine.filter(has_text="Maya Thompson").click()
    expect(page.locator("#conv-title")).to_have_text("Maya Thompson")
    page.get_by_role("button", name="Private note").click()
    text = page.locator("#composer-text")
    expect(text).to_have_attribute("placeholder", "Private note: only colleagues see it…")
    expect(page.locator("#composer-hint")).to_have_text(
        "Private note: the customer does not see this."
    )
    expect(page.locator("#composer-send")).to_have_text("Add note")

    # the other conversation opens on Reply, whatever the last one was left on
    mine.filter(has_text="Guest customer").click()
    expect(page.locator("#conv-title")).to_have_text("Guest customer")
    expect(page.get_by_role("button", name="Reply")).to_have_attribute("aria-pressed", "true")
    expect(text).to_have_attribute(
        "placeholder", "Write to the customer… (Enter sends, Shift+Enter for a new line)"
    )
    expect(page.locator("#composer-hint")).to_have_text("The customer sees this.")
    agent.reply("Hello, I'm Ana from Customer Care.")
    guest.expect_last("agent", "Hello, I'm Ana from Customer Care.")

    # and so does the first one, opened again
    mine.filter(has_text="Maya Thompson").click()
    expect(page.get_by_role("button", name="Reply")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#composer-hint")).to_have_text("Maya sees this.")
    expect(maya.page.locator(".fh-agent")).to_have_count(0)


def test_the_brief_names_every_signal_in_the_words_the_service_gives(
    contexts: Any, live: LiveService
) -> None:
    waiting_customer(contexts, live, "C1001")

    async def threatened_to_leave(session: Any) -> None:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        ticket.brief = {
            **ticket.brief,
            "signals": [
                {"name": "threat_to_leave", "turn": 1, "weight": 3, "text": "I'm done with you"}
            ],
        }

    live.in_session(threatened_to_leave)
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    expect(agent.page.locator(".brief .chip-signal")).to_have_text(
        "Threatens to leave · turn 1 · +3"
    )


def test_the_queue_card_and_the_claimed_conversation_show_who_and_the_call_back_details(
    contexts: Any, live: LiveService
) -> None:
    """Issue 12, items 5 and 11: the customer's name on the card, and the details and note a
    customer left stay in view after the claim."""
    waiting_customer(contexts, live, "C1001")
    guest = waiting_customer(contexts, live, None)
    form = guest.page.locator(".fh-callback")
    form.get_by_label("Name (optional)").fill("Sam")
    form.get_by_label("E-mail").fill("sam@example.com")
    form.get_by_label("Anything we should know? (optional)").fill("please call after 5pm")
    form.get_by_role("button", name="Send my details").click()
    expect(guest.page.locator(".fh-thanks")).to_be_visible()

    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    cards = agent.page.locator(".queue-item")
    expect(cards).to_have_count(2)
    expect(cards.locator(".queue-who")).to_have_text(["Maya Thompson", "Sam (guest)"])
    expect(cards.nth(1).locator(".queue-callback")).to_have_text(
        "Left contact details: sam@example.com · “please call after 5pm”"
    )
    cards.nth(1).locator(".claim").click()
    card = agent.page.locator(".callback-card")
    expect(card).to_contain_text("sam@example.com")
    expect(card).to_contain_text("please call after 5pm")
    expect(card.get_by_role("link", name="sam@example.com")).to_have_attribute(
        "href", "mailto:sam@example.com"
    )


def test_a_joined_conversation_takes_no_seat_and_the_answer_search_has_one_way_out(
    contexts: Any, live: LiveService
) -> None:
    """Issue 12, item 11: the sidebar counted "0/3" beside a conversation a supervisor had
    joined, and the search dialog offered both Cancel and Close."""

    add_supervisor_grace(live)
    waiting_customer(contexts, live, "C1001")
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    expect(agent.page.locator("#mine-count")).to_have_text("1/3")
    grace = Agent(contexts(viewport=DESK).new_page(), live.base)
    grace.sign_in("grace", path="/desk/supervisor")
    grace.page.get_by_role("button", name="Join the conversation with Maya Thompson").click()
    expect(grace.page.locator("#conv-title")).to_have_text("Maya Thompson")
    expect(grace.page.locator("#mine-count")).to_have_text("1 · seats 0/3")

    page = agent.page
    page.get_by_role("button", name="Search answers").click()
    actions = page.locator("#dialog .dialog-actions button:visible")
    expect(actions).to_have_text(["Close"])
    search = page.locator("#faq-q")
    search.fill("refund")
    search.press("Enter")  # searches; does not close
    expect(page.locator("#dialog .faq-result").first).to_be_visible()
    expect(page.locator("#dialog")).to_be_visible()
    actions.click()
    expect(page.locator("#dialog")).to_be_hidden()


def test_the_words_agents_see_after_a_grant_a_decision_and_in_the_brief(
    contexts: Any, live: LiveService
) -> None:
    """Issue 12, item 9: "Credit of $10.00 done.", "A supervisor decided your credit request",
    "pet wont eat", and a "Credit added" reply without the amount just given."""

    async def supervisor_and_brief(session: Any) -> None:
        await create_user(
            session, username="grace", display_name="Grace Lin", role="supervisor",
            password=PASSWORD,
        )  # fmt: skip
        ticket = (await session.execute(select(Ticket))).scalar_one()
        ticket.brief = {
            **ticket.brief,
            "answered": [{"turn": 1, "response": "utter_faq/pet_wont_eat"}],
        }

    waiting_customer(contexts, live, "C1001")
    live.in_session(supervisor_and_brief)
    agent = Agent(contexts(viewport=DESK).new_page(), live.base)
    agent.sign_in("ana")
    agent.claim_first()
    page = agent.page
    expect(page.locator("#brief-answered + ul")).to_contain_text("Pet won't eat")

    remedy = page.locator("form.remedy")
    remedy.locator("input[name=amount]").fill("10")
    remedy.locator("input[name=reason]").fill("late box")
    remedy.get_by_role("button", name="Give $10.00 credit").click()
    expect(page.locator(".toast").last).to_have_text(
        "$10.00 credit added to the customer's account."
    )
    expect(page.locator(".given")).to_contain_text("Credit $10.00")
    page.locator("#canned").select_option(label="Credit added")
    expect(page.locator("#composer-text")).to_have_value(
        "I've added a $10.00 credit to your Fetch & Home account; it will be used automatically "
        "on your next order."
    )

    remedy = page.locator("form.remedy")
    remedy.locator("input[name=amount]").fill("40")
    remedy.locator("input[name=reason]").fill("second late box")
    remedy.get_by_role("button", name="Ask a supervisor to approve $40.00").click()
    expect(page.locator(".approval")).to_contain_text("waiting for a supervisor")
    desk = contexts()
    csrf = api_agent(desk, live.base, "grace")
    [pending] = desk.request.get(f"{live.base}/desk/api/approvals").json()["approvals"]
    decided = desk.request.post(
        f"{live.base}/desk/api/approvals/{pending['id']}/decide",
        data={"approve": False},
        headers=csrf,
    )
    assert decided.ok, decided.text()
    expect(page.locator(".toast", has_text="A supervisor declined")).to_have_text(
        "A supervisor declined your credit of $40.00."
    )
