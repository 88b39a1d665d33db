"""The action server: rasa-sdk's own (`python -m rasa_sdk`), refusing calls without the token.

rasa-sdk answers anyone who reaches its port, and an action server on another host would be an
open door to every custom action. Rasa sends endpoints.yml's `token` as a `?token=` query
parameter with every call; this checks it on every route but /health (which the bot service
and the launcher poll), through rasa-sdk's own extension point for Sanic middleware.

    python -m actions.serve --actions actions.server --port 5055    (ACTION_SERVER_TOKEN set)
"""

from __future__ import annotations

import hmac
import os
import sys
from typing import Any

import pluggy
from sanic import Sanic, response

OPEN_PATHS = frozenset({"/health"})
hookimpl = pluggy.HookimplMarker("rasa_sdk")


class RequireToken:
    """A rasa-sdk plugin: a request middleware answering 401 unless the token matches."""

    def __init__(self, token: str) -> None:
        self.token = token

    @hookimpl  # type: ignore[misc]
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        async def require_token(request: Any) -> Any:
            if request.path in OPEN_PATHS:
                return None
            given = request.args.get("token") or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"error": "a valid token is required"}, status=401)
            return None

        app.register_middleware(require_token, "request")


def main() -> None:
    from rasa_sdk.__main__ import main as rasa_sdk_main
    from rasa_sdk.plugin import plugin_manager

    token = os.environ.get("ACTION_SERVER_TOKEN", "").strip()
    if len(token) < 32:
        sys.exit(
            "Error: ACTION_SERVER_TOKEN is missing or shorter than 32 characters: the action "
            "server refuses to run open (`make run` sets it)"
        )
    plugin_manager().register(RequireToken(token))
    rasa_sdk_main()


if __name__ == "__main__":
    main()
