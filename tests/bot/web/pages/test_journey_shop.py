"""Issue 17's journey in a real browser: the real Rasa and action servers, and the bot service
with SHOP_CONNECTOR=http against the reference shop backend as its own process (its own SQLite
file). An agent gives credits that reach the shop exactly once: while it fails the first
attempts, and when the service is killed between the commit and the delivery."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.db.engine import create_engine, session_factory
from bot.desk.staff import create_user
from bot.ops import launcher
from bot.settings import ROOT, Settings, load_settings
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.people import DESK, DESKTOP, Agent, Customer
from tests.e2e.conftest import stack_environment

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not launcher.model_path().exists(), reason="no model for the current data: `make model`"
    ),
]


class ShopBackend:
    """tests/shop/backend.py as a process, told what to fail through its control routes."""

    def __init__(self, var: Path, secret: str) -> None:
        self.db = var / "shop.db"
        env = {**os.environ, "SHOP_SECRET": secret}
        command = [sys.executable, "-m", "tests.shop.backend", "--port", "0", "--db", str(self.db)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().decode().strip().rsplit(" ", 1)[-1]
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def control(self, **faults: Any) -> None:
        request = urllib.request.Request(
            f"{self.url}/_control", data=json.dumps(faults).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def remedies(self) -> list[tuple[Any, ...]]:
        """What the shop's own database says it executed."""
        with sqlite3.connect(self.db) as connection:
            query = "SELECT kind, amount_cents, customer_id FROM remedies ORDER BY executed_at"
            return connection.execute(query).fetchall()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def shop_stack(tmp_path: Path) -> Iterator[tuple[Settings, ShopBackend, Any, dict[str, str]]]:
    secret = secrets.token_urlsafe(32)
    backend = ShopBackend(tmp_path, secret)
    env = stack_environment(tmp_path) | {
        "SHOP_CONNECTOR": "http",
        "SHOP_URL": backend.url,
        "SHOP_SECRET": secret,
        "SHOP_TIMEOUT_SECONDS": "2",
    }
    settings = load_settings(env)
    services = launcher.services(settings, launcher.model_path())
    try:
        launcher.start(services, settings, timeout=180, env_overrides=env, logs=tmp_path / "log")
        bot = next(s for s in services if s.name == "bot")
        yield settings, backend, bot, launcher.child_environment(settings, env)
    finally:
        launcher.stop(services)
        backend.stop()


async def _staff(settings: Settings) -> None:
    """Only the desk's people: the customers, orders and credit are the shop backend's."""
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            for username, name, role in (("ana", "Ana Souza", "agent"),
                                         ("grace", "Grace Lin", "supervisor")):  # fmt: skip
                await create_user(
                    session, username=username, display_name=name, role=role, password=PASSWORD
                )
    finally:
        await engine.dispose()


def test_credits_reach_the_shops_backend_once_through_failures_and_a_killed_service(
    shop_stack: tuple[Settings, ShopBackend, Any, dict[str, str]], browser: Any, screenshots: Path
) -> None:
    settings, backend, bot, env = shop_stack
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _staff(settings)).result()
    base = f"http://127.0.0.1:{settings.port}"
    customer_context = browser.new_context(viewport=DESKTOP)
    desk_context = browser.new_context(viewport=DESK)
    supervisor_context = browser.new_context(viewport=DESK)
    try:
        agent = Agent(desk_context.new_page(), base)
        agent.sign_in("ana")
        customer = Customer(customer_context.new_page(), base)
        customer.visit("C1001")
        customer.say("I'd like to talk to a person please")
        expect(agent.page.locator(".queue-item")).to_have_count(1)
        agent.claim_first()
        desk = agent.page
        # the record is the shop's: its name, orders and balance
        expect(desk.locator("#conv-title")).to_have_text("Maya Thompson")
        expect(desk.locator(".order").first).to_contain_text("#71042388")
        expect(desk.locator("#credit-balance")).to_have_text("$0.00")

        # the shop fails the grant's read of its figures and the first two deliveries
        backend.control(fail_next=3)
        remedy = desk.locator("form.remedy")
        remedy.locator("input[name=amount]").fill("15")
        remedy.locator("input[name=reason]").fill("late delivery, asked twice")
        remedy.get_by_role("button", name="Give $15.00 credit").click()
        grant = desk.locator(".given .grant").first
        expect(grant).to_contain_text("Credit $15.00 on #71042388")
        expect(grant.locator(".badge-delivery")).to_have_text("Sending to the shop…")
        # the third attempt, after 2-4 s of backoff: confirmed live, read back from the shop
        expect(grant.locator(".badge-delivery")).to_have_text("Done by the shop", timeout=20_000)
        expect(desk.locator("#credit-balance")).to_have_text("$15.00")
        assert backend.remedies() == [("credit", 1500, "C1001")]

        # the shop is down; the grant is committed; the service dies before delivering it
        backend.control(fail_next=100_000)
        remedy = desk.locator("form.remedy")
        remedy.locator("input[name=amount]").fill("5")
        remedy.locator("input[name=reason]").fill("and the box was crushed")
        remedy.get_by_role("button", name="Give $5.00 credit").click()
        second = desk.locator(".given .grant").nth(1)
        expect(second.locator(".badge-delivery")).to_have_text("Sending to the shop…")
        desk.screenshot(path=str(screenshots / "desk-shop-pending.png"))
        bot.process.send_signal(signal.SIGKILL)
        bot.process.wait(timeout=10)
        assert backend.remedies() == [("credit", 1500, "C1001")]
        backend.control(fail_next=0)
        bot.spawn(env)  # as the launcher (or systemd) starts it again
        expect(desk.locator("#connection")).to_have_attribute("data-state", "open", timeout=30_000)
        expect(second.locator(".badge-delivery")).to_have_text("Done by the shop", timeout=30_000)
        expect(desk.locator("#credit-balance")).to_have_text("$20.00")
        desk.screenshot(path=str(screenshots / "desk-shop-done.png"))
        assert backend.remedies() == [("credit", 1500, "C1001"), ("credit", 500, "C1001")]

        # a refund the shop refuses: the order was refunded in full elsewhere, and the shop did
        # not answer the grant's read, so the desk's copy still shows it refundable
        with sqlite3.connect(backend.db) as connection:
            connection.execute("UPDATE orders SET refunded_cents = total_cents WHERE id = ?",
                               ("71042388",))  # fmt: skip
        backend.control(fail_next=1)
        remedy = desk.locator("form.remedy")
        remedy.get_by_role("radio", name="Refund").check()
        remedy.locator("input[name=amount]").fill("10")
        remedy.locator("input[name=reason]").fill("crushed box")
        remedy.get_by_role("button", name="Give $10.00 refund").click()
        refused = desk.locator(".given .grant").nth(2)
        expect(refused.locator(".badge-delivery")).to_have_text("Not done")
        expect(refused.locator(".delivery-error")).to_contain_text("Don't tell the customer")
        supervisor = Agent(supervisor_context.new_page(), base)
        supervisor.sign_in("grace", path="/desk/supervisor")
        failed = supervisor.page.locator("#deliveries tbody tr")
        expect(failed).to_have_count(1)
        expect(failed).to_contain_text("Refund $10.00")
        expect(failed).to_contain_text("Not done: refused by the shop: only 0 cents")
        supervisor.page.screenshot(path=str(screenshots / "supervisor-deliveries.png"))
        supervisor.page.get_by_role(
            "button", name="Cancel the refund of $10.00 on order 71042388"
        ).click()
        expect(supervisor.page.locator("#deliveries-card")).to_be_hidden()
        expect(refused.locator(".badge-delivery")).to_have_text("Cancelled")

        # the customer is told what the shop did, once, and nothing of the refused refund
        desk.get_by_role("button", name="Return to bot").click()
        desk.locator("#dialog [data-ok]").click()
        customer.expect_last("bot", "arranged a $20.00 credit to your account.", exact=False)
        expect(customer.texts("bot").last).not_to_contain_text("refund")
        assert backend.remedies() == [("credit", 1500, "C1001"), ("credit", 500, "C1001")]
    finally:
        for context in (customer_context, desk_context, supervisor_context):
            context.close()
