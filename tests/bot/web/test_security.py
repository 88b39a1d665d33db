"""Headers on every response the service sends, so pages can never run foreign scripts."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.bot.helpers import start


async def test_every_response_has_a_content_security_policy(client: TestClient) -> None:
    cid, auth = await start(client)
    responses = [
        await client.get("/healthz"),
        await client.get(f"/api/conversations/{cid}/messages", headers=auth),
        await client.get("/api/conversations/nope/messages", headers=auth),  # 401
        await client.get("/desk/api/me"),  # 401
        await client.get("/no/such/page"),  # 404
    ]
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert responses[1].headers["Cache-Control"] == "no-store"
