"""The two people in a browser test: a customer on the shop's page, an agent at the desk."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from bot.desk.staff import create_user
from tests.bot.helpers import PASSWORD

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
DESK = {"width": 1440, "height": 900}


class Customer:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def visit(self, customer: str | None = None) -> None:
        self.page.goto(f"{self.base}/demo/" + (f"?as={customer}" if customer else ""))
        self.page.click(".fh-launcher")
        expect(self.page.locator(".fh-panel")).to_be_visible()

    def say(self, text: str) -> None:
        self.page.fill("#fh-input", text)
        self.page.press("#fh-input", "Enter")

    def texts(self, role: str) -> Locator:
        """What the customer sees from `role` (customer, bot, agent, system), as text."""
        return self.page.locator(f".fh-{role} .fh-text")

    def expect_last(self, role: str, text: str, exact: bool = True, timeout: float = 15000) -> None:
        last = self.texts(role).last
        if exact:
            expect(last).to_have_text(text, timeout=timeout)
        else:
            expect(last).to_contain_text(text, timeout=timeout)

    @property
    def status(self) -> Locator:
        return self.page.locator(".fh-status")

    @property
    def queue(self) -> Locator:
        return self.page.locator(".fh-queue")

    def all_texts(self, role: str) -> list[str]:
        return [t.strip() for t in self.texts(role).all_inner_texts()]


class Agent:
    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def sign_in(self, username: str, password: str = PASSWORD, path: str = "/desk/") -> None:
        self.page.goto(self.base + path)
        self.page.fill("#login-username", username)
        self.page.fill("#login-password", password)
        self.page.click(".login-card button[type=submit]")
        expect(self.page.locator("#workspace")).to_be_visible()

    def claim_first(self) -> None:
        self.page.locator(".queue-item .claim").first.click()
        expect(self.page.locator("#conv-title")).to_be_visible()

    def reply(self, text: str) -> None:
        composer = self.page.locator("#composer-text")
        composer.fill(text)
        expect(composer).to_have_value(text)  # nothing on the page took the keystrokes elsewhere
        composer.press("Enter")

    def transcript(self) -> Locator:
        return self.page.locator("#transcript .item-text")


def api_agent(context: Any, base: str, username: str) -> dict[str, str]:
    """Sign `username` in through the desk API of a browser context; the CSRF header to send."""
    login = context.request.post(
        f"{base}/desk/api/login", data={"username": username, "password": PASSWORD}
    )
    assert login.ok, login.text()
    return {"X-CSRF-Token": login.json()["csrf_token"]}


def waiting_customer(contexts: Any, live: Any, who: str | None) -> Customer:
    """A customer (`who`: a demo customer's id, or None for a guest) whom the scripted bot has
    handed over, on their own page."""
    customer = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    customer.visit(who)
    customer.say("hand me over")
    expect(customer.queue).to_be_visible()
    return customer


def add_supervisor_grace(live: Any) -> None:
    """Grace Lin, a supervisor, on the desk's staff."""

    async def supervisor(session: Any) -> None:
        await create_user(
            session, username="grace", display_name="Grace Lin", role="supervisor",
            password=PASSWORD,
        )  # fmt: skip

    live.in_session(supervisor)
