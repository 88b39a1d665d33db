"""The chat widget in the conversation's language, in a real browser with the scripted Rasa
stand-in: its own words (placeholder, delivery states, queue card, wait, call-back form,
satisfaction question and scale) in the language the conversation started in, kept across a
reload on a page in another language, and changed when the service reports another one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import update

from bot.db.models import Conversation
from bot.web.pages import STATIC
from tests.bot.web.pages.live import LiveService
from tests.bot.web.pages.people import DESKTOP, Customer, api_agent

WIDGET = (STATIC / "widget" / "widget.js").read_text(encoding="utf-8")


def _table(language: str) -> list[str]:
    """The keys of one language's table of strings in widget.js (formatted by Biome)."""
    found = re.search(rf"^  {language}: \{{\n(.*?)^  \}},$", WIDGET, re.M | re.S)
    assert found, f"widget.js has no table of strings for {language}"
    return re.findall(r"^    (\w+):", found[1], re.M)


def test_every_language_has_every_word_of_the_english_table() -> None:
    english = _table("en")
    assert len(english) > 50
    for language in ("vi", "id", "zh"):
        assert _table(language) == english, language


def _open(page: Page, base: str, query: str, first_visit: bool = True) -> Customer:
    """The shop's page with the chat open (a later visit finds it as it was left: open)."""
    page.goto(f"{base}/demo/{query}")
    if first_visit:
        page.click(".fh-launcher")
    expect(page.locator(".fh-panel")).to_be_visible()
    return Customer(page, base)


def test_a_vietnamese_conversation_hears_the_widget_in_vietnamese(
    contexts: Any, live: LiveService, screenshots: Path
) -> None:
    page = contexts(viewport=DESKTOP).new_page()
    customer = _open(page, live.base, "?as=C1001&lang=vi")
    expect(page.locator(".fh-root")).to_have_attribute("lang", "vi")
    expect(customer.status).to_have_text("Trợ lý ảo")
    expect(page.locator("#fh-input")).to_have_attribute("placeholder", "Nhập tin nhắn…")
    expect(customer.texts("bot").first).to_contain_text("Mình là trợ lý ảo của Fetch & Home")
    expect(page.locator(".fh-chip").first).to_have_text("Đơn hàng của tôi đâu rồi?")
    expect(page.get_by_role("button", name="Gửi")).to_be_visible()

    # not sent: the service can't be reached, then is again
    page.route(re.compile(r"/api/conversations$"), lambda route: route.abort())
    customer.say("hand me over")
    failed = page.locator(".fh-customer").last
    expect(failed).to_have_attribute("data-state", "failed")
    expect(failed.locator(".fh-failed")).to_have_text("Chưa gửi được")
    page.unroute(re.compile(r"/api/conversations$"))
    failed.get_by_role("button", name="Gửi lại").click()
    expect(failed).to_have_attribute("data-state", "sent")
    expect(failed.locator(".fh-state")).to_have_text("· Đã gửi")

    # handed over with nobody on the desk: the queue card, the notice and the call-back form
    expect(customer.queue).to_be_visible()
    expect(customer.status).to_have_text("Đang kết nối bạn với nhân viên")
    expect(customer.queue.locator("h3")).to_have_text("Đội ngũ hiện đang vắng mặt")
    expect(customer.queue.get_by_role("button", name="Ẩn thông tin chờ")).to_be_visible()
    customer.expect_last("system", "Hiện tất cả nhân viên Chăm sóc khách hàng", exact=False)
    expect(page.get_by_role("button", name="Quay lại trợ lý ảo")).to_be_visible()
    form = page.locator(".fh-callback")
    expect(form.locator("h4")).to_have_text("Yêu cầu chúng mình liên hệ lại")
    form.get_by_label("Số điện thoại").fill("gọi cho tôi")
    form.get_by_role("button", name="Gửi thông tin").click()
    expect(form.get_by_role("alert")).to_have_text("Số điện thoại có vẻ chưa đúng.")
    form.get_by_label("Số điện thoại").fill("+1 614 555 0141")
    form.get_by_label("Họ tên (không bắt buộc)").fill("Maya")
    form.get_by_role("button", name="Gửi thông tin").click()
    expect(customer.queue.locator("h3")).to_have_text("Chúng mình sẽ liên hệ lại")
    expect(page.locator(".fh-thanks")).to_have_text(
        "Chúng mình sẽ liên hệ với bạn qua maya.t@example.com ngay khi có nhân viên quay lại."
    )
    customer.expect_last("system", "Cảm ơn bạn, chúng mình đã lưu thông tin", exact=False)
    page.screenshot(path=str(screenshots / "widget-vi.png"))

    # a person joins, then resolves: the satisfaction question and its scale in Vietnamese
    desk = contexts()
    csrf = api_agent(desk, live.base, "ana")
    [waiting] = desk.request.get(f"{live.base}/desk/api/queue").json()["waiting"]
    claim = desk.request.post(
        f"{live.base}/desk/api/tickets/{waiting['ticket_id']}/claim", headers=csrf
    )
    assert claim.ok, claim.text()
    expect(customer.status).to_have_text("Ana Souza · Chăm sóc khách hàng")
    customer.expect_last(
        "system", "Ana Souza từ bộ phận Chăm sóc khách hàng đã tham gia cuộc trò chuyện."
    )
    resolved = desk.request.post(
        f"{live.base}/desk/api/conversations/{waiting['conversation_id']}/resolve",
        data={"wrap_up": "resolved"},
        headers=csrf,
    )
    assert resolved.ok, resolved.text()
    customer.expect_last("system", "Bạn hài lòng thế nào với sự hỗ trợ hôm nay", exact=False)
    expect(page.locator(".fh-score-label")).to_have_text(["Hoàn toàn không", "Rất hài lòng"])
    expect(customer.status).to_have_text("Cuộc trò chuyện đã kết thúc · trợ lý ảo vẫn ở đây")
    page.get_by_role("button", name="5, Rất hài lòng").click()
    expect(page.locator(".fh-survey")).to_have_text(
        "Cảm ơn bạn! Bạn đã chấm cuộc trò chuyện này 5/5."
    )


def test_a_chinese_conversation_keeps_its_language_and_follows_the_service(
    contexts: Any, live: LiveService
) -> None:
    page = contexts(viewport=DESKTOP).new_page()
    customer = _open(page, live.base, "?lang=zh")
    expect(page.locator("#fh-input")).to_have_attribute("placeholder", "请输入消息…")
    customer.say("运费多少")
    customer.expect_last("bot", "echo: 运费多少")
    expect(page.locator(".fh-customer .fh-state").last).to_have_text("· 已发送")

    # the shop's page in English: the conversation goes on in Chinese
    customer = _open(page, live.base, "", first_visit=False)
    expect(page.locator(".fh-root")).to_have_attribute("lang", "zh")
    expect(customer.status).to_have_text("智能助手")
    expect(customer.texts("bot").first).to_contain_text("我是 Fetch & Home 智能助手")
    customer.say("hand me over")
    expect(customer.queue.locator("h3")).to_have_text("客服人员暂时不在线")
    expect(page.locator(".fh-queue-live")).to_be_hidden()
    expect(page.get_by_role("button", name="返回智能助手")).to_be_visible()
    expect(page.locator(".fh-callback h4")).to_have_text("请我们联系您")
    page.get_by_role("button", name="返回智能助手").click()
    expect(customer.queue).to_be_hidden()

    # the service now says the conversation is in Vietnamese: every word of the widget follows
    async def to_vietnamese(session: Any) -> None:
        await session.execute(update(Conversation).values(language="vi"))

    live.in_session(to_vietnamese)
    page.reload()
    expect(page.locator(".fh-panel")).to_be_visible()
    expect(page.locator(".fh-root")).to_have_attribute("lang", "vi", timeout=10000)
    expect(customer.status).to_have_text("Trợ lý ảo")
    expect(page.locator("#fh-input")).to_have_attribute("placeholder", "Nhập tin nhắn…")
    expect(page.locator(".fh-customer .fh-sender").first).to_have_text("Bạn")
    expect(page.locator(".fh-customer .fh-state").first).to_have_text("· Đã gửi")
    # what was said stays as it was said
    expect(customer.texts("bot").nth(1)).to_have_text("echo: 运费多少")


def test_a_tapped_button_shows_its_own_words_and_sends_the_bot_its_payload(
    contexts: Any, live: LiveService
) -> None:
    """A button from the bot (domain.yml's titles are translated, their payloads English): the
    customer's bubble, and the agent's transcript, say the title; the bot gets the payload,
    marked as a button's, so the conversation's language stays. (The widget's own welcome
    suggestions are the customer's words already: they are sent as they read.)"""
    page = contexts(viewport=DESKTOP).new_page()
    customer = _open(page, live.base, "?as=C1001&lang=vi")
    customer.say("show me buttons")  # the stand-in answers with a button: title Yes, payload yes
    page.get_by_role("button", name="Yes").click()
    expect(customer.texts("customer").last).to_have_text("Yes")
    customer.expect_last("bot", "echo: yes")
    tapped = live.fake.received[-1]
    assert (tapped["message"], tapped["metadata"]["button"]) == ("yes", True)
    assert "button" not in live.fake.received[0]["metadata"]  # what they typed is theirs
