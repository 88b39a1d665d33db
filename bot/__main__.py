"""`python -m bot`: serve the bot service."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import create_app
from bot.settings import load_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings()
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


if __name__ == "__main__":
    main()
