"""The supervisor view in a real browser, with the scripted Rasa stand-in: the audit section says
one thing and states its threshold, and a new escalation raises a toast."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import (
    DESK,
    DESKTOP,
    Agent,
    Customer,
    add_supervisor_grace,
    api_agent,
)


def _held_by_ana(contexts: Any, live: LiveService) -> tuple[Any, dict[str, str], str]:
    """Maya handed over and claimed by Ana through the desk API: Ana's request context, her
    CSRF header and the conversation's id."""
    maya = Customer(contexts(viewport=DESKTOP).new_page(), live.base)
    maya.visit("C1001")
    maya.say("hand me over")
    expect(maya.queue).to_be_visible()
    ana = contexts()
    csrf = api_agent(ana, live.base, "ana")
    [ticket] = ana.request.get(f"{live.base}/desk/api/queue").json()["waiting"]
    claim = f"{live.base}/desk/api/tickets/{ticket['ticket_id']}/claim"
    claimed = ana.request.post(claim, headers=csrf)
    assert claimed.ok, claimed.text()
    return ana, csrf, ticket["conversation_id"]


def _escalate(ana: Any, csrf: dict[str, str], live: LiveService, cid: str, note: str) -> None:
    escalated = ana.request.post(
        f"{live.base}/desk/api/conversations/{cid}/escalate", data={"note": note}, headers=csrf
    )
    assert escalated.ok, escalated.text()


def test_the_audit_section_states_its_threshold_once(contexts: Any, live: LiveService) -> None:
    add_supervisor_grace(live)
    threshold = live.services.policy.audit_threshold_cents
    amount = f"${threshold / 100:,.2f}"
    grace = Agent(contexts(viewport=DESK).new_page(), live.base)
    grace.sign_in("grace", path="/desk/supervisor")
    page = grace.page
    expect(page.locator("#audit-title")).to_have_text(f"Audit: grants of {amount} or more")
    expect(page.locator("#audit")).to_have_text(
        f"No grants of {amount} or more yet. Such grants are made at once and listed here for "
        "review afterwards."
    )
    # said once on the page: not again under satisfaction
    expect(page.get_by_text("flagged for audit")).to_have_count(0)
    expect(page.locator("#overview")).not_to_contain_text("grants flagged")


def test_a_new_escalation_raises_a_toast_on_the_supervisors_desk(
    contexts: Any, live: LiveService
) -> None:
    add_supervisor_grace(live)
    grace = Agent(contexts(viewport=DESK).new_page(), live.base)
    grace.sign_in("grace", path="/desk/supervisor")
    expect(grace.page.locator("#connection")).to_have_attribute("data-state", "open")
    ana, csrf, conversation = _held_by_ana(contexts, live)
    expect(grace.page.locator("#open tbody tr")).to_contain_text("With Ana Souza")
    expect(grace.page.locator(".toast")).to_have_count(0)
    _escalate(ana, csrf, live, conversation, "wants a refund above my limit")
    expect(grace.page.locator(".toast-warn")).to_have_text(
        "Escalation: Ana Souza asks for a supervisor about Maya Thompson: "
        "“wants a refund above my limit”"
    )
    expect(grace.page.locator("#open tbody tr.is-escalated")).to_contain_text(
        "Escalation: wants a refund above my limit"
    )


def test_a_supervisor_at_the_desk_is_told_of_a_new_escalation(
    contexts: Any, live: LiveService
) -> None:
    add_supervisor_grace(live)
    grace = Agent(contexts(viewport=DESK).new_page(), live.base)
    grace.sign_in("grace")  # the conversations desk, not the supervisor view
    expect(grace.page.locator("#connection")).to_have_attribute("data-state", "open")
    ana, csrf, conversation = _held_by_ana(contexts, live)
    _escalate(ana, csrf, live, conversation, "wants a refund above my limit")
    expect(grace.page.locator(".toast-warn")).to_have_text(
        "Escalation: Ana Souza asks for a supervisor. The conversation is in your conversations."
    )
    expect(grace.page.locator(".mine-item", has_text="Maya Thompson")).to_be_visible()
