"""The conversation designer's pages in a real browser, with the scripted Rasa stand-in and the
scripted Rasa environment of tests/bot/designer/conftest.py: a designer signs in, finds handed-off
messages grouped, labels a group with an existing intent, sees what was written, undoes it,
labels again, trains, reads the report and its verdict, promotes, and the insights page draws its
charts with the API's numbers. `make screenshots` saves docs/designer*.png and docs/insights.png.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Page, expect

from actions.handoff.policy import ROOT, load_policy
from bot.db.models import Conversation, Message, Role, Satisfaction, Ticket, utcnow
from bot.desk.staff import create_user
from tests.bot.designer.conftest import SERVING
from tests.bot.helpers import PASSWORD
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import PHONE, Agent

STUDIO = {"width": 1440, "height": 1000}
CLIP = {"x": 0, "y": 0, "width": 1440, "height": 1500}
# What customers asked before a person took over (the scripted Rasa hands over on these words).
HANDED_OVER = [
    "please hand me over to a person",
    "hand me over to someone real",
    "just hand me over to an agent",
]
# Earlier days: questions the bot has no topic for, and late orders that made customers cross.
LOYALTY = [
    "do you have a rewards program",
    "how do reward points work",
    "do I earn reward points on orders",
    "can I redeem my reward points",
    "do reward points expire",
    "is there a rewards program for regular customers",
]
LATE = [
    "my order is late again and nobody tells me anything",
    "my delivery is late again, this is ridiculous",
    "the order is late and the tracking has not moved",
]
# What the NLU made of some messages, as Rasa's tracker store keeps it: an FAQ guess it was unsure
# of, with its ranking (the intent, then the topic's own confidence): answered (the topic at
# policy.yml's min_faq_confidence or more), but short of confident_faq.
POLICY = load_policy(ROOT / "policy.yml")
PRICE_MATCH = [
    ("do you price match other shops", 0.52, 0.5),
    ("will you match a lower price I found elsewhere", 0.47, 0.47),
    ("can you price match chewy", 0.58, 0.55),
]
assert all(
    POLICY.min_intent_confidence <= intent < POLICY.confident_faq
    and POLICY.min_faq_confidence <= topic < POLICY.confident_faq
    for _, intent, topic in PRICE_MATCH
)
OTHER = [
    "where is my order",
    "how much is shipping",
    "can I pause my autoship",
    "do you ship to Canada",
]


@pytest.fixture
def live(tmp_path: Path, project: Path, rasa_venv: Path) -> Iterator[LiveService]:
    """The service on a copy of the project, with a designer (Dee) and two weeks of history."""
    with LiveService(
        tmp_path, DESIGNER_PROJECT_DIR=str(project), RASA_VENV=str(rasa_venv)
    ) as service:
        service.in_session(_designer_and_history)
        _tracker_store(service.services.settings.rasa_tracker_store_url)
        yield service


def _tracker_store(url: str) -> None:
    """The rows of Rasa's SQL tracker store that the inbox reads (the `events` table)."""
    path = url.removeprefix("sqlite:///")
    started = utcnow().timestamp() - 6 * 86400
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
            " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
        )
        for i, (text, intent, topic) in enumerate(PRICE_MATCH):
            parse = {
                "intent": {"name": "faq", "confidence": intent},
                "intent_ranking": [
                    {"name": "faq", "confidence": intent},
                    {"name": "out_of_scope", "confidence": round((1 - intent) * 0.6, 2)},
                    {"name": "request_human", "confidence": round((1 - intent) * 0.3, 2)},
                ],
                "response_selector": {
                    "faq": {
                        "response": {"intent_response_key": "faq/promo_code", "confidence": topic}
                    }
                },
            }
            event = {"event": "user", "text": text, "parse_data": parse}
            db.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data)"
                " VALUES (?, 'user', ?, 'faq', ?)",
                (f"tracker-{i}", started + i * 3600, json.dumps(event)),
            )


async def _designer_and_history(session: Any) -> None:
    await create_user(
        session, username="dee", display_name="Dee Novak", role="designer", password=PASSWORD
    )
    now = utcnow()
    plan: list[tuple[int, int, str, str | None, int | None, int | None]] = []
    # (days ago, hour offset, what the customer wrote, handoff reason, frustration, satisfaction)
    for i, text in enumerate(LOYALTY):  # all within the last 7 days of the desk's calendar
        plan.append((min(1 + i, 5), 3 + i, text, "nlu_failure", None, None))
    for i, text in enumerate(LATE):
        plan.append((1 + i * 2, 6 + i, text, "frustration", 5 + i * 2, 2 + i % 2))
    plan.append((4, 2, "I want a refund for the broken bowl", "out_of_policy", None, 4))
    plan.append((9, 7, "can I talk to a human", "explicit_request", None, 5))
    for day in range(1, 14):
        for j in range(day % 3 + 1):
            text = OTHER[(day + j) % len(OTHER)]
            plan.append((day, (day * 5 + j * 7) % 20, text, None, None, 5 - (day + j) % 3))
    for ago, hour, text, reason, frustration, score in plan:
        at = now - timedelta(days=ago, hours=hour)
        cid = str(uuid.uuid4())
        session.add(Conversation(id=cid, mode="closed", created_at=at, last_seq=1))
        session.add(
            Message(conversation_id=cid, seq=1, role=Role.CUSTOMER, text=text, created_at=at)
        )
        if reason:
            brief = {"version": 1, "reason": reason, "summary": text}
            if frustration is not None:
                brief["frustration_score"] = frustration
            session.add(
                Ticket(conversation_id=cid, status="closed", reason=reason, brief=brief,
                       created_at=at + timedelta(seconds=20), closed_at=at + timedelta(minutes=9))
            )  # fmt: skip
        if score is not None:
            who = "agent" if reason else "bot"
            session.add(
                Satisfaction(conversation_id=cid, score=score, handled_by=who,
                             created_at=at + timedelta(minutes=10))
            )  # fmt: skip


async def _customer_hands_over(base: str, text: str) -> None:
    """A customer writes through the website API; the scripted Rasa hands the chat over."""
    async with aiohttp.ClientSession(base) as http:
        async with http.post("/api/conversations", json={"language": "en"}) as started:
            body = await started.json()
        cid, auth = body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}
        sent = {"client_msg_id": "m1", "text": text}
        async with http.post(f"/api/conversations/{cid}/messages", json=sent, headers=auth) as r:
            assert r.status == 201, await r.text()
        for _ in range(100):
            async with http.get(f"/api/conversations/{cid}/messages", headers=auth) as r:
                if (await r.json())["mode"] == "queued":
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} was not handed over")


def _snap(page: Page, folder: Path, name: str, **options: Any) -> None:
    page.screenshot(path=str(folder / name), **options)


def _watch_errors(page: Page) -> list[str]:
    """Script errors and console errors (a refused inline style or script shows as one); not
    the API's refusals, which the page shows in words (401 before signing in, 409 and so on)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    return errors


def _fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # the charts redraw for the new width
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def _percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def test_designer_labels_undoes_retrains_promotes_and_reads_the_insights(
    contexts: Any,
    live: LiveService,
    project: Path,
    screenshots: Path,
) -> None:
    for text in HANDED_OVER:
        live.call(_customer_hands_over(live.base, text))
    dee = Agent(contexts(viewport=STUDIO).new_page(), live.base)
    page = dee.page
    errors = _watch_errors(page)
    dee.sign_in("dee", path="/desk/designer")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    expect(page.locator(".topnav a", has_text="Insights")).to_be_visible()
    expect(page.locator(".topnav a", has_text="Supervisor view")).to_be_hidden()

    # the inbox, grouped, largest first: the missing topic is one group, not six messages
    groups = page.locator(".group")
    expect(groups.first.locator(".group-size")).to_have_text("6 messages")
    expect(groups.first).to_contain_text("rewards program")
    handed = groups.filter(has_text="hand me over")
    expect(handed).to_have_count(1)
    expect(handed.locator(".group-size")).to_have_text("3 messages")
    expect(handed.locator(".chip-reason")).to_have_text(
        "3 In a conversation handed over because the customer was frustrated"
    )

    # label it with an existing intent: all its messages are selected, the odd one can go
    files = [project / "data" / "nlu" / "handoff.yml", project / "tests" / "nlu" / "test_nlu.yml"]
    before = [f.read_text() for f in files]
    handed.get_by_role("button", name="Label this group of 3 messages").click()
    expect(handed.locator(".message")).to_have_count(3)
    expect(handed.locator(".message-check:checked")).to_have_count(3)
    expect(page.locator("#selection")).to_contain_text("3 messages selected from 1 group")
    page.fill("#intent-filter", "request hum")
    expect(page.locator("#intent-select")).to_have_value("request_human")
    expect(page.locator("#label-submit")).to_have_text("Label 3 messages")
    # what the NLU made of a message, where Rasa's tracker store has it
    price = groups.filter(has_text="price match")
    expect(price.locator(".group-intent")).to_have_text("Likely faq/promo_code")
    expect(price.locator(".chip-reason")).to_have_text("3 Answered, but the bot was not sure")
    price.get_by_role("button", name="Show 3 messages").click()
    expect(price.locator(".message-nlu").first).to_have_text(
        "The bot read it as faq 52%, out_of_scope 29%, request_human 14%"
    )
    _snap(page, screenshots, "designer.png", full_page=True, clip=CLIP)
    page.locator("#label-submit").click()
    result = page.locator("#label-result")
    expect(result).to_contain_text("request_human")
    written = result.locator(".written li").all_inner_texts()
    assert sorted(t.strip("“”") for t in written) == sorted(HANDED_OVER)
    after = "".join(f.read_text() for f in files)
    assert all(f"- {t}\n" in after for t in HANDED_OVER)
    expect(page.locator(".group", has_text="hand me over")).to_have_count(0)
    expect(page.locator("#labels .label-row").first).to_contain_text("Written, not trained yet")

    # undo takes out exactly what it wrote, and the messages come back
    result.get_by_role("button", name="Undo this label").click()
    expect(result).to_contain_text("undone")
    expect(page.locator(".group", has_text="hand me over")).to_have_count(1)
    assert [f.read_text() for f in files] == before
    expect(page.locator("#labels .label-row").first).to_contain_text("Undone")

    # labelled again, one message left out this time (single messages can be picked)
    handed = page.locator(".group", has_text="hand me over")
    handed.get_by_role("button", name="Label this group of 3 messages").click()
    handed.get_by_label(HANDED_OVER[2]).uncheck()
    expect(page.locator("#selection")).to_contain_text("2 messages selected")
    page.fill("#intent-filter", "request_human")
    page.locator("#label-submit").click()
    expect(page.locator("#label-result .written li")).to_have_count(2)
    expect(page.locator(".group", has_text=HANDED_OVER[2])).to_have_count(1)

    # train and compare: progress while it runs, then the report with its verdict
    page.get_by_role("button", name="Train and compare").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class("verdict verdict-better", timeout=20000)
    expect(verdict).to_contain_text("Held-out accuracy rose from 0.900 to 0.930")
    headline = page.locator("table.headline tbody tr").first
    expect(headline).to_contain_text("0.900")
    expect(headline).to_contain_text("0.930")
    expect(headline.locator(".change")).to_contain_text("+0.030")
    labels = page.locator("table.per-label tbody tr th")
    expect(labels.first).to_have_text("faq/shipping_cost")  # the biggest drop first
    expect(labels.last).to_have_text("request_human")
    expect(page.locator(".report")).to_contain_text("how long does shipping take to alaska")
    promote = page.get_by_role("button", name="Promote this model")
    expect(promote).to_be_enabled()
    expect(page.locator("#runs tbody tr").first).to_contain_text("Ready to review")
    page.locator("#retrain").screenshot(path=str(screenshots / "designer-report.png"))

    # promoting asks first, then Rasa switches and the labels are in the serving model
    promote.click()
    expect(page.locator(".confirm")).to_contain_text("Customers will be answered by")
    assert live.fake.loaded == []
    # a training frame arriving late re-reads the run: the open question stays
    run_id = int(page.locator("#runs tbody tr td").first.inner_text())
    with page.expect_response(lambda r: r.url.endswith(f"/designer/runs/{run_id}")):
        live.call(live.services.publish_desk({"type": "training", "run": run_id}))
    expect(page.locator(".confirm")).to_contain_text("Customers will be answered by")
    page.get_by_role("button", name="Yes, promote it").click()
    expect(page.get_by_role("button", name="Promoted")).to_be_disabled()
    expect(page.locator("#runs tbody tr").first).to_contain_text("Promoted")
    expect(page.locator("#labels .label-row").first).to_contain_text("In the serving model")
    [loaded] = live.fake.loaded
    assert Path(loaded).parent == project / "models" and Path(loaded).name != SERVING

    # insights: the charts and their tables carry the API's own numbers
    page.get_by_role("link", name="Insights").click()
    expect(page.locator("#charts")).to_have_attribute("aria-busy", "false")
    figures = page.request.get(f"{live.base}/desk/api/designer/insights?days=30").json()
    expect(page.locator("#tile-conversations .tile-value")).to_have_text(
        str(figures["conversations"])
    )
    shown = _percent(page.locator("#tile-containment .tile-value").inner_text())
    assert abs(shown - figures["containment"]) <= 0.005
    for reason, count in figures["handoffs_by_reason"].items():
        row = page.locator(f'#chart-reasons tr[data-reason="{reason}"] td').first
        assert row.text_content() == str(count), reason
    hours = page.locator("#chart-hours tbody tr td")
    assert [int(t) for t in hours.all_text_contents()] == figures["messages_by_hour"]
    expect(page.locator("#chart-hours .chart-bars rect")).to_have_count(24)
    for day in figures["days"]:
        cells = page.locator(f'#chart-conversations tr[data-day="{day["day"]}"] td')
        assert cells.first.text_content() == str(day["conversations"]), day
    days_drawn = page.locator("#chart-conversations .chart-bars rect").count()
    assert days_drawn == page.locator("#chart-conversations tbody tr").count() >= 30
    for who, entry in figures["satisfaction"].items():
        cells = page.locator(f'#chart-satisfaction tr[data-who="{who}"] td')
        assert cells.all_text_contents() == [f"{entry['average']:.2f}", str(entry["answers"])]
    summary = page.locator("#chart-hours svg").get_attribute("aria-label") or ""
    assert f"{sum(figures['messages_by_hour'])} in all" in summary
    expect(page.locator(".unanswered > li")).to_have_count(len(figures["top_unanswered"]))
    _snap(page, screenshots, "insights.png", full_page=True)

    # another period: the picker loads it
    page.get_by_text("7 days", exact=True).click()
    expect(page).to_have_url(f"{live.base}/desk/insights?days=7")
    week = page.request.get(f"{live.base}/desk/api/designer/insights?days=7").json()
    expect(page.locator("#tile-conversations .tile-value")).to_have_text(str(week["conversations"]))

    # both pages work on a 375 px phone: nothing wider than the screen
    _fits_a_phone(page)
    expect(page.locator("#chart-hours .chart-bars rect")).to_have_count(24)
    page.get_by_role("link", name="Review and label them in the designer").click()
    expect(page.locator("#period")).to_have_value("7")  # the same period
    expect(page.locator(".group").first).to_be_visible()
    _fits_a_phone(page)
    assert errors == []


def test_a_refused_new_topic_and_a_failed_training_say_why(
    contexts: Any,
    live: LiveService,
    project: Path,
) -> None:
    (project / ".fail-validate").write_text("")  # the scripted `rasa data validate` fails
    dee = Agent(contexts(viewport=STUDIO).new_page(), live.base)
    page = dee.page
    errors = _watch_errors(page)
    dee.sign_in("dee", path="/desk/")  # a designer has no queue: the desk sends them on
    expect(page).to_have_url(f"{live.base}/desk/designer")

    # a new topic from six messages alone is refused, with the rule, and nothing is written
    page.get_by_role("button", name="Label this group of 6 messages").click()
    page.get_by_label("A new FAQ topic, with its answer").check()
    expect(page.locator("#topic-rule")).to_contain_text("at least 5 training and 5 held-out")
    page.fill("#topic-name", "rewards_program")
    page.select_option("#topic-file", "faq_orders.yml")
    page.fill(
        "#topic-answer-en", "We have no points programme, but Autoship saves 5% on every order."
    )
    page.fill("#topic-heldout", "is there a loyalty club\ndo you reward repeat customers")
    expect(page.locator("#topic-counts")).to_contain_text("2 held-out phrasings")
    domain = (project / "domain.yml").read_text()
    page.locator("#label-submit").click()
    expect(page.locator("#label-error")).to_contain_text(
        "a new topic needs at least 5 training and 5 held-out examples"
    )
    assert (project / "domain.yml").read_text() == domain
    expect(page.locator(".group").first.locator(".message-check:checked")).to_have_count(6)

    # a failed validation ends the run with the reason; the serving model stays
    page.get_by_role("button", name="Train and compare").click()
    failed = page.locator("#run .failed")
    expect(failed).to_contain_text("Run 1 failed", timeout=15000)
    expect(failed.locator("pre")).to_contain_text("duplicate example")
    expect(failed).to_contain_text("keeps answering")
    expect(page.get_by_role("button", name="Train and compare")).to_be_enabled()
    expect(page.locator("#runs tbody tr").first).to_contain_text("Failed")
    assert live.fake.loaded == []
    assert errors == []


def _more_tracker_rows(url: str, rows: list[tuple[str, str, float, float]]) -> None:
    """Add (text, topic, intent confidence, topic confidence) FAQ messages to the tracker store."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        for i, (text, topic, intent, confidence) in enumerate(rows):
            parse = {
                "intent": {"name": "faq", "confidence": intent},
                "intent_ranking": [{"name": "faq", "confidence": intent}],
                "response_selector": {
                    "faq": {"response": {"intent_response_key": topic, "confidence": confidence}}
                },
            }
            event = {"event": "user", "text": text, "parse_data": parse}
            db.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data)"
                " VALUES (?, 'user', ?, 'faq', ?)",
                (f"more-{i}", utcnow().timestamp() - 3600 - i, json.dumps(event)),
            )


def test_copies_of_a_message_are_one_group_and_an_unsure_reason_says_why(
    contexts: Any, live: LiveService
) -> None:
    """The same question, handed over in conversations whose language was told apart, is one
    group; a group "not sure" beside "faq 97%" says what the bot was unsure of."""
    copies = [
        ("how do I change my delivery address", "en"),
        ("How do I change my delivery address?", "id"),  # a short message's language misread
        ("how do i  change my delivery address", "en"),
    ]

    async def handed_over(session: Any) -> None:
        for i, (text, language) in enumerate(copies):
            at, cid = utcnow() - timedelta(hours=5 + i), str(uuid.uuid4())
            session.add(
                Conversation(id=cid, mode="closed", created_at=at, last_seq=1, language=language)
            )
            session.add(
                Message(conversation_id=cid, seq=1, role=Role.CUSTOMER, text=text, created_at=at)
            )
            session.add(
                Ticket(conversation_id=cid, status="closed", reason="nlu_failure",
                       brief={"version": 1, "reason": "nlu_failure"},
                       created_at=at + timedelta(seconds=20))
            )  # fmt: skip

    live.in_session(handed_over)
    wrapping = ["is gift wrapping free", "is the gift wrapping free?"]
    _more_tracker_rows(
        live.services.settings.rasa_tracker_store_url,
        [(text, "faq/gift_wrap", 0.97, 0.5) for text in wrapping],
    )
    dee = Agent(contexts(viewport=STUDIO).new_page(), live.base)
    dee.sign_in("dee", path="/desk/designer")
    page = dee.page
    address = page.locator(".group", has_text="change my delivery address")
    expect(address).to_have_count(1)  # one group, whatever similar messages join it
    address.get_by_role("button", name="Show").click()
    shown = address.locator(".message-text").all_inner_texts()
    assert {text for text, _ in copies} <= set(shown), shown

    gift = page.locator(".group", has_text="gift wrapping")
    expect(gift.locator(".group-size")).to_have_text("2 messages")
    expect(gift.locator(".chip-reason")).to_have_text("2 Answered, but the bot was not sure")
    expect(gift.locator(".group-why")).to_have_text(
        "Why the bot was unsure: the bot was surer that these are FAQ questions than of their "
        "topic: the ranking shows the first, the bot counts as sure only when both are high."
    )
    gift.get_by_role("button", name="Show 2 messages").click()
    expect(gift.locator(".message-nlu").first).to_have_text("The bot read it as faq 97%")
    expect(gift.locator(".message-why").first).to_have_text(
        "The bot answered, 97% sure it is an FAQ question but only 50% sure of the topic "
        f"(faq/gift_wrap); it counts as sure at {POLICY.confident_faq:.0%} or more of both."
    )
    expect(gift.locator(".message-why")).to_have_count(2)


def test_the_designer_and_insights_show_the_same_figures_for_a_period(
    contexts: Any, live: LiveService
) -> None:
    """Over the same data and days, the designer's messages, groups and conversations are the
    ones Insights shows; Insights never shows more handoffs than conversations without saying
    why (a conversation handed back to the bot and over again)."""

    async def handed_over_three_times(session: Any) -> None:
        cid, at = str(uuid.uuid4()), utcnow() - timedelta(days=2)
        # started long before the period: counted for what happened in it
        session.add(Conversation(id=cid, mode="closed", created_at=at - timedelta(days=40),
                                 last_seq=1))  # fmt: skip
        session.add(Message(conversation_id=cid, seq=1, role=Role.CUSTOMER,
                            text="this is the third time I ask", created_at=at))  # fmt: skip
        for n in range(3):
            session.add(
                Ticket(conversation_id=cid, status="closed", reason="frustration",
                       brief={"version": 1, "reason": "frustration"},
                       created_at=at + timedelta(minutes=n), closed_at=at + timedelta(minutes=n))
            )  # fmt: skip

    live.in_session(handed_over_three_times)
    dee = Agent(contexts(viewport=STUDIO).new_page(), live.base)
    dee.sign_in("dee", path="/desk/designer?days=7")
    page = dee.page
    summary = page.locator("#groups-summary")
    expect(summary).to_contain_text("largest first")
    found = re.match(
        r"(\d+) messages? from (\d+) conversations?, in (\d+) groups?", summary.inner_text()
    )
    assert found, summary.inner_text()
    messages, conversations, groups = (int(n) for n in found.groups())
    expect(page.locator(".group")).to_have_count(groups)

    page.goto(f"{live.base}/desk/insights?days=7")
    expect(page.locator("#charts")).to_have_attribute("aria-busy", "false")
    inbox = page.locator("#tile-inbox")
    expect(inbox.locator(".tile-value")).to_have_text(str(messages))
    expect(inbox.locator(".tile-note")).to_have_text(
        f"messages from {conversations} conversations, in {groups} groups"
    )
    shown = int(page.locator("#tile-conversations .tile-value").inner_text())
    handed = int(page.locator("#tile-handoffs .tile-value").inner_text())
    assert conversations <= shown and handed <= shown
    expect(page.locator("#tile-handoffs .tile-note")).to_contain_text(
        "some were handed over more than once"
    )
    per_day = page.locator("#chart-conversations tbody tr td:first-of-type").all_text_contents()
    assert sum(int(n) for n in per_day) == shown  # each conversation on one day

    # and the two APIs behind the pages, for the same days
    grouped = page.request.get(f"{live.base}/desk/api/designer/groups?days=7").json()
    figures = page.request.get(f"{live.base}/desk/api/designer/insights?days=7").json()
    assert grouped["figures"] == figures["inbox"]
    assert grouped["period"]["since"] == figures["since"]
    assert sum(g["size"] for g in grouped["groups"]) == figures["inbox"]["messages"]
    assert figures["handoffs"] == sum(figures["handoffs_by_reason"].values())
    assert figures["handed_over"] < figures["handoffs"]
