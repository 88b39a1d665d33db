"""The service's JSON logs: one event a line, the conversation id as a field, no customer text
unless LOG_MESSAGE_TEXT allows it; and the turn event the bot service writes for each answer."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest

from bot.app import create_app
from bot.ops.logs import JsonFormatter, configure
from bot.services import SERVICES
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for
from tests.bot.helpers import send, start, wait_for


def _record(**extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "bot.rasa.turn", "levelno": 20, "levelname": "INFO"})
    record.msg, record.args = "bot turn %s in %.3f s", ("answered", 0.25)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_an_event_is_one_json_line_with_its_fields_and_no_customer_text_by_default() -> None:
    line = JsonFormatter().format(_record(conversation_id="c-1", seconds=0.25, text="my card 4111"))
    assert "\n" not in line
    body = json.loads(line)
    assert body["event"] == "bot turn answered in 0.250 s"
    assert (body["level"], body["logger"]) == ("info", "bot.rasa.turn")
    assert (body["conversation_id"], body["seconds"]) == ("c-1", 0.25)
    assert "text" not in body and "4111" not in line
    assert body["ts"].endswith("+00:00")


def test_customer_text_is_logged_only_when_allowed_and_a_traceback_stays_on_the_line() -> None:
    allowed = json.loads(JsonFormatter(message_text=True).format(_record(text="hello")))
    assert allowed["text"] == "hello"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record(conversation_id="c-2")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


async def test_the_service_logs_each_bot_turn_as_json_with_its_conversation(
    aiohttp_client: Any,
    database_url: str,
    fake_rasa: tuple[FakeRasa, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(database_url, fake_rasa[1], LOG_FORMAT="json")
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    configure(settings)
    try:
        client = await aiohttp_client(create_app(settings))
        client.app[SERVICES].now = lambda: OPEN_HOURS
        cid, auth = await start(client)
        await send(client, cid, auth, "where is my parcel", "m1")
        await wait_for(client, cid, auth, 2)
    finally:
        root.handlers[:], level = kept
        root.setLevel(level)
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    turns = [e for e in events if e["event"].startswith("bot turn")]
    assert [(e["conversation_id"], e["outcome"], e["seq"]) for e in turns] == [(cid, "answered", 1)]
    assert not any("where is my parcel" in json.dumps(e) for e in events)
