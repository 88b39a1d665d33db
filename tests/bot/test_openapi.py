"""docs/openapi.yaml is the service's HTTP reference: it names exactly the routes the app
registers, and no request built from it, valid or not, gets a 500 (issue 18, item 9).

The bounded fuzz (schemathesis's cases from the document, Hypothesis's JSON bodies with lone
surrogates, huge integers and odd digits) runs in `make test`; `make fuzz` runs it longer with
FUZZ_EXAMPLES. Both sockets' frames, which the document cannot describe, get the same hostile
JSON. It prints its probe counts: requests sent and 500s found.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from bot.app import create_app
from tests.bot.conftest import ROOT, settings_for
from tests.bot.helpers import claimed, sign_in, ticket_of

SPEC = ROOT / "docs" / "openapi.yaml"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Starting a training run spawns `rasa train`, and logging out ends the session the rest of the
# run signs with: both are sent only by the tests of their own (tests/bot/designer, desk/api).
NOT_FUZZED = {("POST", "/desk/api/designer/runs"), ("POST", "/desk/api/logout")}


def _document_routes() -> set[tuple[str, str]]:
    paths = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["paths"]
    methods = {"get", "post", "put", "patch", "delete"}
    return {(m.upper(), path) for path, item in paths.items() for m in item if m in methods}


def _app_routes() -> set[tuple[str, str]]:
    app = create_app(settings_for("sqlite+aiosqlite:///:memory:", 1))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)  # {path:.+} is {path} in OpenAPI
        if route.method != "HEAD":  # aiohttp adds HEAD to every GET by itself
            found.add((route.method, path))
    return found


def test_the_openapi_document_names_every_route_and_no_other() -> None:
    documented, registered = _document_routes(), _app_routes()
    assert registered - documented == set(), "routes missing from docs/openapi.yaml"
    assert documented - registered == set(), "docs/openapi.yaml names routes the app lacks"


# JSON values as a hostile client writes them: lone surrogates, NUL and other control
# characters, Unicode digits, integers far past 2^63, deep nesting.
HOSTILE_TEXT = st.text(st.characters(codec=None, categories=None), max_size=12) | st.sampled_from(
    ["\ud800", "²", "٣", "\x00", "\x1b", "9" * 30, "-1", "1e400", "NaN"]
)
HOSTILE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63, 2**64, -(2**63) - 1, 2**31])
    | st.floats()
    | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4),
    max_leaves=12,
)


@dataclass
class Probe:
    base: str
    ids: dict[str, list[str]]  # path id values that pass the lookups: real rows of this run
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def check(self, method: str, path: str, response: requests.Response, what: Any) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{method} {path} -> {response.status_code}: {what!r}")

    def fuzz(self, identities: dict[str, dict[str, str]]) -> None:
        schema = schemathesis.openapi.from_path(str(SPEC))
        for result in schema.get_all_operations():
            operation = result.ok()
            route = (operation.method.upper(), operation.path)
            if route in NOT_FUZZED:
                continue
            for headers in identities.values():
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    self._cases(operation, headers, mode)
                if route[0] == "POST":
                    self._bodies(operation.path, headers)

    def _real_ids(self, path: str) -> st.SearchStrategy[dict[str, str]]:
        if "{id}" not in path:
            return st.just({})
        kind = "numeric" if re.search(r"/(tickets|approvals|labels|runs)/", path) else "text"
        return st.sampled_from(self.ids[kind]).map(lambda v: {"id": v})

    def _cases(self, operation: Any, headers: dict[str, str], mode: GenerationMode) -> None:
        strategy = operation.as_strategy(generation_mode=mode)
        ids = self._real_ids(operation.path)

        @settings(**_bounded())
        @given(case=strategy, real=st.booleans(), path_ids=ids)
        def run(case: Any, real: bool, path_ids: dict[str, str]) -> None:
            if real and path_ids:
                case.path_parameters = {**(case.path_parameters or {}), **path_ids}
            response = case.call(base_url=self.base, headers=headers, timeout=15)
            self.check(case.method, case.formatted_path, response, case.body)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # a route without inputs has no wrong ones

    def _bodies(self, path: str, headers: dict[str, str]) -> None:
        @settings(**_bounded())
        @given(
            body=HOSTILE_JSON,
            path_ids=self._real_ids(path) if "{id}" in path else st.just({}),
            charset=st.sampled_from(["utf-8", "no-such-codec", "latin-1"]),
        )
        def run(body: Any, path_ids: dict[str, str], charset: str) -> None:
            url = self.base + path.replace("{id}", path_ids.get("id", "1"))
            raw = json.dumps(body).encode()  # lone surrogates travel as \ud800 escapes
            sent = headers | {"Content-Type": f"application/json; charset={charset}"}
            response = requests.post(url, data=raw, headers=sent, timeout=15)
            self.check("POST", path, response, raw[:200])

        run()


def _bounded() -> dict[str, Any]:
    """Seeded and small: the same cases on every run of make test."""
    return {
        "max_examples": EXAMPLES,
        "derandomize": True,
        "database": None,
        "deadline": None,
        "phases": [Phase.explicit, Phase.generate],
        "suppress_health_check": list(HealthCheck),
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the input is the point
async def test_no_request_built_from_the_openapi_document_gets_a_500(client: TestClient) -> None:
    agent = await sign_in(client, "ana")
    supervisor = await sign_in(client, "sue", role="supervisor")
    designer = await sign_in(client, "dee", role="designer")
    cid, customer = await claimed(client, agent)
    ticket = await ticket_of(client, cid)
    identities = {
        "anonymous": {},
        "customer": customer,
        "agent": agent.headers(),
        "supervisor": supervisor.headers(),
        "designer": designer.headers(),
    }
    ids = {"text": [cid, "C1001"], "numeric": [str(ticket.id), "1"]}
    probe = Probe(str(client.make_url("")).rstrip("/"), ids)
    await asyncio.to_thread(probe.fuzz, identities)
    print(f"probe counts: {probe.requests} requests, {len(probe.failures)} answered 500")
    print("by status:", dict(sorted(probe.statuses.items())))
    assert probe.failures == []


def _frames(token: str, cid: str) -> st.SearchStrategy[Any]:
    """Hostile frames, alone or in the shapes the sockets expect (hello, message, watch)."""
    return HOSTILE_JSON | st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["hello", "message", "typing"]) | HOSTILE_TEXT,
            "token": st.just(token) | HOSTILE_JSON,
            "since_seq": HOSTILE_JSON,
            "client_msg_id": HOSTILE_JSON,
            "text": HOSTILE_JSON,
            "watch": st.just(cid) | HOSTILE_JSON,
            "typing": st.just(cid) | HOSTILE_JSON,
        },
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_websocket_frame_breaks_either_socket(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The document cannot describe frames: these go to the customer's and the desk's sockets
    straight, and each must be answered or refused (an error frame, a 44xx close), never an
    unhandled error (aiohttp logs it and drops the connection)."""
    agent = await sign_in(client, "ana")
    cid, customer = await claimed(client, agent)
    token = customer["Authorization"].removeprefix("Bearer ")
    loop, sent = asyncio.get_running_loop(), Counter[str]()

    async def exchange(path: str, headers: dict[str, str], frame: Any) -> None:
        async with client.ws_connect(path, headers=headers) as socket:
            await socket.send_str(json.dumps(frame))
            with contextlib.suppress(TimeoutError):
                await socket.receive(timeout=0.3)
            assert socket.close_code in (None, 4400, 4401, 4403, 4429), (path, frame)
        sent[path] += 1

    @settings(**_bounded() | {"max_examples": EXAMPLES * 20})  # one request each, and quick
    @given(frame=_frames(token, cid), desk=st.booleans())
    def run(frame: Any, desk: bool) -> None:
        path, headers = (
            ("/desk/ws", agent.headers()) if desk else (f"/api/conversations/{cid}/ws", {})
        )
        asyncio.run_coroutine_threadsafe(exchange(path, headers, frame), loop).result(30)

    with caplog.at_level(logging.ERROR):
        await asyncio.to_thread(run)
    print(f"probe counts: {sum(sent.values())} frames, {dict(sent)}")
    # the handlers' own errors; asyncio's are left aside: a socket closed while its handler
    # awaits the database leaves aiosqlite's close task pending, logged and harmless
    broke = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != "asyncio"]
    assert [r.getMessage() for r in broke] == []
