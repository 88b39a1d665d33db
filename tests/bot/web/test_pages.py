"""The pages people use: served by the service, under its security headers, with no inline code;
the demo page's signed identity; CORS for the embedded widget, and only where it belongs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.channel import identity
from bot.web.pages import STATIC
from tests.bot.conftest import FakeRasa, settings_for
from tests.bot.helpers import IDENTITY_SECRET, start

PAGES = {
    "/demo/": "text/html",
    "/widget.js": "javascript",
    "/desk/": "text/html",
    "/desk/supervisor": "text/html",
    "/desk/designer": "text/html",
    "/desk/insights": "text/html",
    "/static/designer/charts.js": "javascript",
    "/static/widget/widget.css": "text/css",
    "/static/desk/desk.js": "javascript",
    "/static/shared/fonts/inter-latin-wght-normal.woff2": "font/woff2",
    "/static/shared/fonts/inter-vietnamese-wght-normal.woff2": "font/woff2",
}


async def test_every_page_is_served_under_the_content_security_policy(
    client: TestClient,
) -> None:
    for path, kind in PAGES.items():
        response = await client.get(path)
        assert response.status == 200, path
        assert kind in response.headers["Content-Type"], (path, response.headers["Content-Type"])
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, path
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_home_leads_to_the_demo_shop_and_desk_to_its_page(client: TestClient) -> None:
    home = await client.get("/", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (302, "/demo/")
    desk = await client.get("/desk", allow_redirects=False)
    assert (desk.status, desk.headers["Location"]) == (302, "/desk/")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.mark.parametrize("page", sorted(STATIC.rglob("*.html")), ids=lambda p: p.name)
def test_pages_have_no_inline_scripts_styles_or_handlers(page: Path) -> None:
    tags = _Tags()
    tags.feed(page.read_text())
    assert not tags.inline, "inline script"
    for tag, attrs in tags.found:
        assert tag != "style", "inline stylesheet"
        assert "style" not in attrs, f"style attribute on <{tag}>"
        assert not [a for a in attrs if a.startswith("on")], f"event handler on <{tag}>"
        if tag == "script":
            assert attrs.get("src", "").startswith("/"), "scripts come from the service itself"
        if tag == "link" and attrs.get("href"):
            assert str(attrs["href"]).startswith("/"), "no third-party origins"


@pytest.mark.parametrize("script", sorted(STATIC.rglob("*.js")), ids=lambda p: p.name)
def test_scripts_never_turn_text_into_markup(script: Path) -> None:
    code = script.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, f"{script.name} uses {sink}"
    # links in message text are built only for http(s), and the opened page can't reach back
    if "function linkify" in code:
        assert 'url.protocol !== "http:" && url.protocol !== "https:"' in code
        assert "noopener noreferrer" in code


async def test_demo_page_signs_the_chosen_demo_customer(client: TestClient) -> None:
    body = await (await client.get("/demo/?as=C1002")).text()
    [token] = re.findall(r'data-customer="([^"]*)"', body)
    assert identity.verify(IDENTITY_SECRET, token) == "C1002"
    assert '<option value="C1002" selected>' in body
    assert "{{" not in body


@pytest.mark.parametrize(
    ("query", "language"),
    [("?lang=vi", "vi"), ("?as=C1001&lang=zh", "zh"), ("?lang=id", "id"), ("", "en"),
     ("?lang=fr", "en"), ('?lang="><script>x</script>', "en")],
)  # fmt: skip
async def test_demo_page_chats_in_the_chosen_language(
    client: TestClient, query: str, language: str
) -> None:
    body = await (await client.get(f"/demo/{query}")).text()
    assert re.findall(r'data-language="([^"]*)"', body) == [language]
    assert f'<option value="{language}" selected>' in body
    assert "{{" not in body and "<script>x" not in body


@pytest.mark.parametrize("query", ["", "?as=", "?as=C9999", '?as="><script>x</script>'])
async def test_demo_page_without_a_demo_customer_is_anonymous(
    client: TestClient, query: str
) -> None:
    body = await (await client.get(f"/demo/{query}")).text()
    assert re.findall(r'data-customer="([^"]*)"', body) == [""]
    assert "<script>x" not in body


async def test_demo_pages_can_be_switched_off_for_production(
    aiohttp_client: Any, tmp_path: Path, fake_rasa: tuple[FakeRasa, int]
) -> None:
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path}/bot.db", fake_rasa[1], DEMO_PAGES="off"
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    assert (await client.get("/demo/?as=C1001")).status == 404
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/desk/"
    assert (await client.get("/widget.js")).status == 200  # the widget itself stays


async def test_static_files_do_not_reach_outside_their_folder(client: TestClient) -> None:
    for path in ("/static/../settings.py", "/static/%2e%2e/settings.py", "/static/"):
        response = await client.get(path)
        assert response.status in (403, 404), path


async def test_cors_lets_the_shops_own_site_use_the_customer_api(client: TestClient) -> None:
    origin = "https://shop.example"  # ALLOWED_ORIGINS in tests/bot/conftest.py
    preflight = await client.options(
        "/api/conversations",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    started = await client.post("/api/conversations", json={}, headers={"Origin": origin})
    assert started.status == 201
    assert started.headers["Access-Control-Allow-Origin"] == origin
    cid, _ = await start(client)
    refused = await client.get(f"/api/conversations/{cid}/messages", headers={"Origin": origin})
    assert refused.status == 401  # no token: the error still reaches the widget, readably
    assert refused.headers["Access-Control-Allow-Origin"] == origin


async def test_cors_refuses_a_foreign_origin(client: TestClient) -> None:
    evil = "https://evil.example"
    preflight = await client.options(
        "/api/conversations",
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    started = await client.post("/api/conversations", json={}, headers={"Origin": evil})
    assert "Access-Control-Allow-Origin" not in started.headers


async def test_cors_never_opens_the_desk(client: TestClient) -> None:
    origin = "https://shop.example"
    for method, path in (("OPTIONS", "/desk/api/login"), ("POST", "/desk/api/login")):
        response = await client.request(
            method,
            path,
            json={},
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert "Access-Control-Allow-Origin" not in response.headers, (method, path)
