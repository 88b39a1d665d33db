"""What the service itself tells a customer (policy.yml service_messages) is in the language the
conversation was started with, English when policy.yml has no text in it. Through the real app
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient

from bot.services import SERVICES
from tests.bot.helpers import claimed, poll, queued, sign_in, start, texts, wait_until

# 3 am in New York: the desk is closed (policy.yml desk.hours)
NIGHT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

# A few words of each language's texts, written out, so a translation that went missing (and
# fell back to English) fails here even though the policy would still "agree" with itself.
HOURS = {
    "vi": "hằng ngày từ 7 giờ sáng đến 11 giờ tối, giờ ET",
    "id": "setiap hari pukul 7 pagi-11 malam ET",
    "zh": "每天美东时间早上7点至晚上11点",
}
JOINED = {
    "vi": "Fay từ bộ phận Chăm sóc khách hàng đã tham gia cuộc trò chuyện.",
    "id": "Fay dari Customer Care telah bergabung di chat.",
    "zh": "客服 Fay 已加入对话。",
}
SCALE_ENDS = {
    "vi": ["Hoàn toàn không", "Rất hài lòng"],
    "id": ["Tidak puas", "Sangat puas"],
    "zh": ["完全不满意", "非常满意"],
}


@pytest.mark.parametrize("language", ["vi", "id", "zh"])
async def test_the_service_tells_the_customer_in_the_conversations_language(
    client: TestClient, language: str
) -> None:
    policy = client.app[SERVICES].policy
    client.app[SERVICES].now = lambda: NIGHT
    cid, auth = await queued(client, language=language)
    body = await wait_until(client, cid, auth, lambda b: b["messages"][-1]["role"] == "system")
    assert body["language"] == language
    notice = body["messages"][-1]
    assert notice["text"] == policy.message("out_of_hours", language).replace(
        "{hours}", HOURS[language]
    )
    saved = await client.post(
        f"/api/conversations/{cid}/callback", json={"phone": "+1 614 555 0141"}, headers=auth
    )
    assert saved.status == 201
    assert texts(await poll(client, cid, auth))[-1] == policy.message("callback_saved", language)

    agent = await sign_in(client, "fay")
    [waiting] = (await agent.json("GET", "/desk/api/queue"))["waiting"]
    await agent.json("POST", f"/desk/api/tickets/{waiting['ticket_id']}/claim")
    assert texts(await poll(client, cid, auth))[-1] == JOINED[language]
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "called_back"})
    question = (await poll(client, cid, auth))["messages"][-1]
    assert question["survey"] == "csat"
    assert question["text"] == policy.message("satisfaction_question", language)
    assert question["text"] != policy.message("satisfaction_question", "en")
    assert question["scale_ends"] == SCALE_ENDS[language]


async def test_transfers_and_going_back_to_the_bot_are_told_in_that_language(
    client: TestClient,
) -> None:
    policy = client.app[SERVICES].policy
    ana, bo = await sign_in(client, "ana"), await sign_in(client, "bo")
    cid, auth = await claimed(client, ana, language="zh")
    await ana.json("POST", f"/desk/api/conversations/{cid}/transfer", {"to_agent": "bo"})
    moved = texts(await poll(client, cid, auth))[-1]
    assert moved == policy.message("transferred_to_agent", "zh").replace("{name}", "Bo")
    assert moved.startswith("客服 Bo 将接手本次对话")
    await bo.json("POST", f"/desk/api/conversations/{cid}/transfer", {"to_team": "billing"})
    assert texts(await poll(client, cid, auth))[-1] == policy.message("transferred_to_team", "zh")

    waiting, waiting_auth = await queued(client, language="id")
    back = await client.post(f"/api/conversations/{waiting}/back-to-bot", headers=waiting_auth)
    assert back.status == 200
    assert texts(await poll(client, waiting, waiting_auth))[-1] == (
        "Kakak kembali terhubung dengan asisten Fetch & Home. Silakan tanya apa saja, "
        "atau minta dihubungkan ke petugas kapan pun."
    )


async def test_a_language_without_its_own_texts_is_told_in_english(client: TestClient) -> None:
    policy = client.app[SERVICES].policy
    cid, auth = await start(client, language="fr-CA")
    assert (await poll(client, cid, auth))["language"] == "fr"
    await client.post(
        f"/api/conversations/{cid}/messages",
        json={"client_msg_id": "m1", "text": "please fail"},
        headers=auth,
    )
    body = await wait_until(client, cid, auth, lambda b: b["mode"] == "queued")
    assert policy.message("bot_unavailable", "en") in texts(body, "system")
