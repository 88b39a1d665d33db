"""Malformed input is the client's mistake (4xx), never the service's (500), on every route that
reads a body, a path id, a query number or a socket frame; and a 500, when there is one, carries
the security headers like every other response."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.web.http import INTEGER_MAX, Unacceptable, parse_json, whole_number
from bot.web.security import HEADERS
from tests.bot.conftest import FakeRasa, settings_for
from tests.bot.helpers import claimed, seed_demo, sign_in, start

SURROGATE = '"\\ud800"'  # a lone surrogate, as JSON escapes it
HUGE = [str(2**31), str(2**63), "9" * 5000]  # past an INTEGER column, a BIGINT, int()'s digits
ODD_DIGITS = ["²", "\u0663", "\uff11"]  # superscript, Arabic-Indic, full-width: isdigit()


def obj(**raw: str) -> str:
    """A JSON object whose values are written as given, malformed or not."""
    return "{" + ", ".join(f'"{key}": {value}' for key, value in raw.items()) + "}"


async def _statuses(client: TestClient) -> list[tuple[int, str, str]]:
    await seed_demo(client)
    agent = await sign_in(client, "ana")
    boss = await sign_in(client, "sue", role="supervisor")
    designer = await sign_in(client, "dee", role="designer")
    cid, auth = await claimed(client, agent, customer="C1001")
    desk, chief, studio = agent.headers(), boss.headers(), designer.headers()

    def grant(amount: str, reason: str = '"late"') -> str:
        return obj(kind='"credit"', order_id='"71042388"', reason=reason, amount_cents=amount)

    cases: list[tuple[str, str, str | bytes, dict[str, str]]] = [
        ("POST", "/api/conversations", obj(language=SURROGATE), {}),
        ("POST", "/api/conversations", '{' + SURROGATE + ': "en"}', {}),
        ("POST", "/api/conversations", '{"language": "en", "x": "a\\u0000b"}', {}),
        ("POST", "/api/conversations", '{"customer": "C1001.².abc"}', {}),
        ("POST", "/api/conversations", "[" * 100_000, {}),
        ("POST", "/api/conversations", '{"language": NaN}', {}),
        ("POST", "/api/conversations", b'{"language": "\xff"}', {}),
        ("POST", f"/api/conversations/{cid}/satisfaction", obj(score=HUGE[1]), auth),
        ("GET", f"/api/conversations/{cid}/messages", "", {"Authorization": "Bearer ².abc"}),
        ("POST", "/desk/api/login", obj(username=SURROGATE, password='"x"'), {}),
        ("POST", f"/desk/api/conversations/{cid}/messages", obj(text=SURROGATE), desk),
        ("POST", f"/desk/api/conversations/{cid}/messages", '{"text": "a\\u0000b"}', desk),
        ("POST", f"/desk/api/conversations/{cid}/notes", obj(text=SURROGATE), desk),
        ("POST", f"/desk/api/conversations/{cid}/escalate", obj(note=SURROGATE), desk),
        ("POST", f"/desk/api/conversations/{cid}/transfer", obj(to_agent=SURROGATE), desk),
        ("POST", f"/desk/api/conversations/{cid}/customer", obj(customer_id=SURROGATE),
         desk),
        ("POST", f"/desk/api/conversations/{cid}/grants", grant("100", SURROGATE), desk),
        ("POST", "/desk/api/designer/labels",
         obj(kind='"intent"', intent='"greet"', items="[" + obj(key='"k"', text=SURROGATE) + "]"),
         studio),
    ]  # fmt: skip
    for number in HUGE + ODD_DIGITS:
        cases += [
            ("GET", f"/api/conversations/{cid}/messages?since_seq={number}", "", auth),
            ("POST", f"/desk/api/tickets/{number}/claim", "{}", desk),
            ("POST", f"/desk/api/tickets/{number}/heartbeat", "{}", desk),
            ("POST", f"/desk/api/approvals/{number}/decide", '{"approve": true}', chief),
            ("GET", f"/desk/api/designer/runs/{number}", "", studio),
            ("POST", f"/desk/api/designer/labels/{number}/undo", "{}", studio),
            ("GET", f"/desk/api/designer/inbox?days={number}", "", studio),
        ]
    for number in HUGE:
        cases += [
            ("POST", f"/desk/api/conversations/{cid}/grants", grant(number), desk),
            ("POST", f"/desk/api/conversations/{cid}/approvals", grant(number), desk),
        ]
    found = []
    for method, path, body, headers in cases:
        data = body.encode() if isinstance(body, str) else body
        response = await client.request(
            method, path, data=data, headers={"Content-Type": "application/json", **headers}
        )
        shown = body if isinstance(body, bytes) else body[:70]
        found.append((response.status, f"{method} {path[:80]}", repr(shown)))
    return found


async def test_malformed_input_gets_4xx_never_500(client: TestClient) -> None:
    for status, route, body in await _statuses(client):
        assert 400 <= status < 500, (status, route, body)


async def test_a_charset_that_names_no_codec_is_read_as_utf8(client: TestClient) -> None:
    started = await client.post(
        "/api/conversations",
        data=b'{"language": "en"}',
        headers={"Content-Type": "application/json; charset=no-such-codec"},
    )
    assert started.status == 201  # JSON is UTF-8 whatever the header says (RFC 8259)


async def test_a_closed_conversation_told_a_unicode_digit_is_not_a_500(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "ana")
    cid, auth = await claimed(client, agent)
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    for index, text in enumerate(ODD_DIGITS):  # is it the answer to the satisfaction question?
        response = await client.post(
            f"/api/conversations/{cid}/messages",
            json={"client_msg_id": f"d{index}", "text": text},
            headers=auth,
        )
        assert response.status == 201, text


async def test_ws_hello_with_a_number_no_column_holds_is_refused(client: TestClient) -> None:
    cid, auth = await start(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    for since in [*HUGE, "1e999"]:
        socket = await client.ws_connect(f"/api/conversations/{cid}/ws")
        await socket.send_str(obj(type='"hello"', token=f'"{token}"', since_seq=since))
        frame = await socket.receive()
        assert (frame.type, frame.data) == (WSMsgType.CLOSE, 4401), since
        await socket.close()
    socket = await client.ws_connect(f"/api/conversations/{cid}/ws")
    await socket.send_json({"type": "hello", "token": token, "since_seq": 0})
    assert (await socket.receive_json())["type"] == "mode"  # the same socket, well formed
    await socket.send_str(obj(type='"message"', client_msg_id='"m1"', text=SURROGATE))
    refused = await socket.receive_json()
    assert refused["error"] == "invalid_json" and "U+D800" in refused["message"]
    await socket.close()


async def test_an_unexpected_error_is_a_500_with_the_security_headers(
    aiohttp_client: Any, tmp_path: Any, fake_rasa: tuple[FakeRasa, int]
) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = create_app(settings_for(f"sqlite+aiosqlite:///{tmp_path}/bot.db", fake_rasa[1]))
    app.router.add_get("/api/broken", broken)
    client: TestClient = await aiohttp_client(app)
    response = await client.get("/api/broken")
    assert response.status == 500
    assert (await response.json())["error"] == "internal"  # the message is for the log only
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("42", 42), (str(INTEGER_MAX), INTEGER_MAX), (str(INTEGER_MAX + 1), None),
     ("", None), ("-1", None), ("+1", None), (" 1", None), ("1_0", None), ("²", None),
     ("\u0663", None), ("\uff11", None), ("9" * 5000, None)],
)  # fmt: skip
def test_whole_number_takes_ascii_digits_a_column_holds(raw: str, expected: int | None) -> None:
    assert whole_number(raw) == expected


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None), max_size=8),  # lone surrogates and NUL included
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def _storable(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= INTEGER_MAX
    return True


@settings(derandomize=True, max_examples=300, deadline=None)
@given(JSON)
def test_json_is_read_or_refused_as_unacceptable_never_anything_else(value: Any) -> None:
    text = json.dumps(value)  # escapes every non-ASCII character, surrogates too
    if _storable(value):
        assert parse_json(text) == json.loads(text)
        json.dumps(parse_json(text), ensure_ascii=False).encode("utf-8")  # storable as UTF-8
    else:
        with pytest.raises(Unacceptable):
            parse_json(text)
