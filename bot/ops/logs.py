"""How the service logs: lines for a person at a terminal (LOG_FORMAT=text, the default), or one
JSON object a line for a log pipeline (LOG_FORMAT=json).

A JSON event carries the logger's fields (`ts`, `level`, `logger`, `event`), what the call put
in `extra` (always `conversation_id` where there is one), and the traceback as `exception`.
What customers wrote is personal data: an event's `text` field is dropped unless
LOG_MESSAGE_TEXT is on.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# a LogRecord's own attributes: everything else on it came from the call's `extra`
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, message_text: bool = False) -> None:
        super().__init__()
        self.message_text = message_text

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and (key != "text" or self.message_text):
                body[key] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def configure(settings: Settings) -> None:
    """The root logger writes to standard error in the chosen format, from INFO up."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(settings.log_message_text)
        if settings.log_format == "json"
        else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
