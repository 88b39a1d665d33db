"""A real browser (Debian's Chromium, driven by Playwright) against the service's pages.

Playwright's own browser download cannot work here, so `playwright install` is never run: the
setup step installs /usr/bin/chromium from Debian's packages. Each test module gets one browser;
each person in a test gets their own context (cookies, storage), as two real people would.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.desk.staff import create_user
from bot.ops.demo import seed

# the designer's project copy and scripted Rasa environment, for the designer's pages
from tests.bot.designer.conftest import project, rasa_venv  # noqa: F401
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.live import LiveService

# The real Rasa and action servers for the journey test (tests/e2e/conftest.py starts them).
from tests.e2e.conftest import production_stores, stack  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveService]:
    """The service with the scripted Rasa stand-in, demo customers and a desk agent (Ana)."""
    with LiveService(tmp_path) as service:
        service.in_session(seed)

        async def agent(session: object) -> None:
            await create_user(
                session,  # type: ignore[arg-type]
                username="ana", display_name="Ana Souza", role="agent", password=PASSWORD,
            )  # fmt: skip

        service.in_session(agent)
        yield service


@pytest.fixture
def contexts(browser: Any, live: LiveService) -> Iterator[Callable[..., Any]]:
    """A new browser context per person; all closed before the service stops."""
    made: list[Any] = []

    def new(**options: Any) -> Any:
        context = browser.new_context(**options)
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/ when SCREENSHOTS=docs (`make screenshots`), else tmp."""
    target = os.environ.get("SCREENSHOTS")
    if target:
        folder = Path(__file__).resolve().parents[4] / target
        folder.mkdir(exist_ok=True)
        return folder
    return tmp_path
