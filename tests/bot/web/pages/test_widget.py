"""The chat widget in a real browser, with the scripted Rasa stand-in: message text containing
HTML stays text on both sides, a dropped connection loses and duplicates nothing, a reload
restores the conversation, and it all fits a phone."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import func, select

from bot.db.models import Message
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import DESK, DESKTOP, PHONE, Agent, Customer, api_agent

HOSTILE = (
    '<img src=x onerror="window.pwned=1"><b>bold</b> <script>window.pwned=2</script> '
    "see https://example.com/a?b=1, not javascript:alert(1)"
)


def test_message_text_containing_html_is_shown_as_text(contexts: Any, live: LiveService) -> None:
    people = contexts(viewport=DESKTOP)
    page = people.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    customer = Customer(page, live.base)
    customer.visit("C1001")
    customer.say(HOSTILE)
    customer.expect_last("customer", HOSTILE)
    customer.expect_last("bot", f"echo: {HOSTILE}")
    assert page.locator(".fh-log img, .fh-log b, .fh-log script").count() == 0
    [link] = page.locator(".fh-bot .fh-text a").all()
    assert link.get_attribute("href") == "https://example.com/a?b=1"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.inner_text() == "https://example.com/a?b=1"

    # the agent sees it as text too, and what the agent writes reaches the customer as text
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()
    desk = contexts(viewport=DESK).new_page()
    agent = Agent(desk, live.base)
    agent.sign_in("ana")
    agent.claim_first()
    expect(agent.transcript().filter(has_text="bold")).to_have_text([HOSTILE, f"echo: {HOSTILE}"])
    assert desk.locator("#transcript img, #transcript b, #transcript script").count() == 0
    agent.reply("<i>Hi</i> I'm <u>Ana</u>")
    customer.expect_last("agent", "<i>Hi</i> I'm <u>Ana</u>")
    assert page.locator(".fh-log i, .fh-log u").count() == 0
    assert page.evaluate("window.pwned") is None and desk.evaluate("window.pwned") is None
    assert alerts == []


def _stored(live: LiveService, text: str) -> int:
    async def count(session: Any) -> int:
        query = select(func.count()).select_from(Message).where(Message.text == text)
        return int(await session.scalar(query) or 0)

    return live.in_session(count)


def test_widget_recovers_from_a_dropped_connection_without_losing_or_duplicating(
    contexts: Any, live: LiveService
) -> None:
    people = contexts(viewport=DESKTOP)
    page = people.new_page()
    network = {"down": False, "sockets": []}
    refused = {"socket": 0, "poll": 0}  # the widget's attempts while the network is down

    def websocket(route: Any) -> None:
        if network["down"]:
            refused["socket"] += 1
            route.close()
            return
        route.connect_to_server()
        network["sockets"].append(route)

    page.route_web_socket(re.compile(r"/api/conversations/[^/]+/ws$"), websocket)
    customer = Customer(page, live.base)
    customer.visit("C1001")
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()

    desk = contexts()
    csrf = api_agent(desk, live.base, "ana")
    [waiting] = desk.request.get(f"{live.base}/desk/api/queue").json()["waiting"]
    cid = waiting["conversation_id"]
    claim = desk.request.post(
        f"{live.base}/desk/api/tickets/{waiting['ticket_id']}/claim", headers=csrf
    )
    assert claim.ok, claim.text()
    expect(customer.status).to_have_text("Ana Souza · Customer Care")

    def agent_says(text: str) -> None:
        sent = desk.request.post(
            f"{live.base}/desk/api/conversations/{cid}/messages", data={"text": text}, headers=csrf
        )
        assert sent.ok, sent.text()

    agent_says("first")
    customer.expect_last("agent", "first")

    # the network goes: the socket drops, reconnecting fails, and so does plain HTTP
    network["down"] = True

    def cut_off(route: Any) -> None:
        refused["poll"] += route.request.method == "GET"
        route.abort()

    def refused_again(kind: str) -> None:
        """Wait until the widget tries to reach the service that way again, and is refused."""
        seen, deadline = refused[kind], time.monotonic() + 15
        while refused[kind] == seen:
            assert time.monotonic() < deadline, f"the widget did not try its {kind} again"
            page.wait_for_timeout(50)

    people.route(re.compile(r"/api/conversations/"), cut_off)
    for socket in network["sockets"]:
        socket.close()
    agent_says("second")
    agent_says("third")
    customer.say("are you still there?")
    expect(page.locator(".fh-banner")).to_contain_text("Reconnecting", timeout=10000)
    # the agent's messages are stored and sent to every socket of the conversation (the view
    # answered after that); the widget has since tried to reconnect and to catch up, and failed
    refused_again("socket")
    refused_again("poll")
    assert customer.all_texts("agent") == ["first"]  # nothing arrives while it is down
    expect(page.locator(".fh-customer").last).to_have_attribute("data-state", "sending")

    # back again: everything missed arrives once, in order; the waiting message goes once
    network["down"] = False
    people.unroute(re.compile(r"/api/conversations/"))
    expect(customer.texts("agent")).to_have_text(["first", "second", "third"], timeout=20000)
    expect(page.locator(".fh-customer").last).to_have_attribute("data-state", "sent")
    # the poll can catch up first; the banner goes when the socket is back, and the widget
    # retries its socket at most 10 s apart (scheduleReconnect)
    expect(page.locator(".fh-banner")).to_be_hidden(timeout=15000)
    assert customer.all_texts("customer") == ["hand me over", "are you still there?"]
    assert _stored(live, "are you still there?") == 1
    transcript = desk.request.get(f"{live.base}/desk/api/conversations/{cid}").json()["transcript"]
    seqs = [m["seq"] for m in transcript]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [m["text"] for m in transcript if m["role"] == "customer"] == [
        "hand me over", "are you still there?",
    ]  # fmt: skip

    # a reload restores the same conversation from the service, once
    page.reload()
    expect(customer.texts("agent")).to_have_text(["first", "second", "third"])
    assert customer.all_texts("customer") == ["hand me over", "are you still there?"]
    expect(customer.status).to_have_text("Ana Souza · Customer Care")


def test_widget_fits_a_phone_and_works_by_keyboard(
    contexts: Any, live: LiveService, screenshots: Path
) -> None:
    page = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{live.base}/demo/?as=C1002")
    launcher = page.locator(".fh-launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".fh-panel")).to_be_visible()
    expect(page.locator("#fh-input")).to_be_focused()
    box = page.locator(".fh-panel").bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.keyboard.type("show me buttons")
    page.keyboard.press("Enter")
    customer = Customer(page, live.base)
    customer.expect_last("bot", "echo: show me buttons")
    expect(page.locator(".fh-chip")).to_have_text(["Yes"])
    page.screenshot(path=str(screenshots / "widget-phone.png"))
    page.keyboard.press("Escape")
    expect(page.locator(".fh-panel")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_waiting_customer_leaves_contact_details_or_goes_back_to_the_bot(
    contexts: Any, live: LiveService
) -> None:
    customer = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    customer.visit()  # a guest
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()
    # nobody is on the desk: said plainly, with a way to be contacted
    expect(customer.queue).to_have_attribute("data-availability", "no_agents_online")
    expect(customer.queue.locator("h3")).to_have_text("Our team is away right now")
    customer.expect_last("system", "away from the chat", exact=False)
    form = customer.page.locator(".fh-callback")
    form.get_by_label("E-mail").fill("not an address")
    form.get_by_role("button", name="Send my details").click()
    expect(form.get_by_role("alert")).to_contain_text("doesn't look like an e-mail address")
    form.get_by_label("E-mail").fill("sam@example.com")
    form.get_by_label("Name (optional)").fill("Sam")
    form.get_by_role("button", name="Send my details").click()
    expect(customer.page.locator(".fh-thanks")).to_have_text(
        "We'll contact you at sam@example.com as soon as someone from our team is back."
    )
    customer.expect_last("system", "Thank you, we've saved your details", exact=False)

    customer.page.get_by_role("button", name="Back to the assistant").click()
    expect(customer.queue).to_be_hidden()
    customer.expect_last("system", "You're back with the Fetch & Home assistant", exact=False)
    expect(customer.status).to_have_text("Virtual assistant")
    customer.say("hello again")
    customer.expect_last("bot", "echo: hello again")
