"""The designer's whole loop once, for real: customers ask about something the bot does not know,
the designer finds them grouped in the inbox, labels a new FAQ topic with its answer and the
fewest examples the designer page accepts (five, and five held out), in a copy of the project,
retrains, reads the before/after report, promotes, and the running Rasa server answers a customer
asking as taught with the new answer; how many asking in other words get it is printed."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.designer.labels import MIN_NEW_TOPIC, heldout_turn
from bot.desk.staff import create_user
from bot.ops import launcher
from bot.rasa import client as rasa_client
from bot.rasa.auth import authorization
from bot.services import SERVICES
from bot.settings import RASA_VENV, ROOT, Settings, load_settings
from tests.e2e.test_service import start_conversation

pytestmark = pytest.mark.e2e

COPIED = ("actions", "data", "tests", "config.yml", "domain.yml", "policy.yml", "endpoints.yml")
ASKED = [
    "do you have a rewards program",
    "how do i earn loyalty points",
    "do I get points on orders",
    "is there a loyalty scheme for regular customers",
    "can I redeem my reward points",
    "how many points do i have",
    "do points expire",
    "what are paw points worth",
    "do autoship orders earn extra points",
    "rewards card?",
]
MORE = [
    "do you have a points system",
    "loyalty program?",
    "do you do reward points like other shops",
    "any perks for loyal customers",
]
HELD_OUT = [
    "is there some kind of loyalty club",
    "do you reward repeat customers",
    "where can I see my points balance",
    "what can I spend points on",
    "do I collect points when I buy litter",
]
ANSWER = (
    "Fetch & Home doesn't have a points or rewards programme. Instead, Autoship saves you 5% on "
    "every repeat delivery, and new customers get 30% off their first Autoship order."
)


def copy_project(target: Path, serving: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    (target / "models").mkdir()
    shutil.copy(serving, target / "models" / serving.name)
    return target


async def ask(stack: Settings, *texts: str) -> list[dict[str, Any]]:
    """One conversation: each text is sent once the previous one was answered."""
    started = start_conversation(stack)
    url = f"http://127.0.0.1:{stack.port}/api/conversations/{started['conversation_id']}"
    messages: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {started['token']}"}
        for number, text in enumerate(texts):
            async with http.post(
                f"{url}/messages",
                json={"client_msg_id": f"q{number}", "text": text},
                headers=headers,
            ) as response:
                assert response.status == 201
            for _ in range(200):
                async with http.get(f"{url}/messages", headers=headers) as response:
                    messages = (await response.json())["messages"]
                if messages[-1]["role"] in ("bot", "system"):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"no answer to {text!r}")
    return messages


async def keep_asking(stack: Settings, stop: asyncio.Event) -> list[float]:
    """Ask Rasa a question every 0.1 s until `stop`; how long each answer took (all must come)."""
    latencies = []
    async with aiohttp.ClientSession(stack.rasa_url) as http:
        number = 0
        while not stop.is_set():
            number += 1
            started = time.monotonic()
            body = {"sender": f"switch-{number}", "message": "how much is shipping?"}
            async with http.post("/webhooks/rest/webhook", json=body) as response:
                assert response.status == 200 and await response.json()
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.1)
    return latencies


async def test_the_designer_loop_teaches_the_running_bot_a_new_topic(
    stack: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if "postgres" in request.node.callspec.id:
        pytest.skip("the loop is the same on PostgreSQL; once is enough for its minute")
    serving = launcher.model_path()
    project = copy_project(tmp_path / "project", serving)
    for text in ASKED:
        # the bot has no answer for these today: it asks again, or answers something else and
        # the customer says so
        await ask(stack, text, "no, that's not what I asked")

    settings = load_settings(
        {
            "DATABASE_URL": stack.database_url,
            "RASA_TRACKER_STORE_URL": stack.rasa_tracker_store_url,
            "RASA_PORT": str(stack.rasa_port),
            "RASA_JWT_SECRET": stack.rasa_jwt_secret,
            "BOT_SECRET": stack.secret,
            "CUSTOMER_IDENTITY_SECRET": stack.customer_identity_secret,
            "DESIGNER_PROJECT_DIR": str(project),
            "RASA_VENV": str(RASA_VENV),
        }
    )
    desk = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await desk.start_server()
    try:
        async with desk.app[SERVICES].sessions.begin() as session:
            await create_user(
                session,
                username=f"des{stack.port}",
                display_name="Dee",
                role="designer",
                password="correct horse battery",
            )
        login = await desk.post(
            "/desk/api/login",
            json={"username": f"des{stack.port}", "password": "correct horse battery"},
        )
        csrf = {"X-CSRF-Token": (await login.json())["csrf_token"]}

        groups = (await (await desk.get("/desk/api/designer/groups?days=1")).json())["groups"]
        items = [i for g in groups for i in g["items"] if i["text"] in ASKED]
        # found as not understood, weakly understood, out of scope, or called unhelpful
        assert len(items) == len(ASKED), [[i["text"] for i in g["items"]] for g in groups]
        assert all(i["reasons"] for i in items)
        # what a new topic starts with: the fewest training examples the designer accepts (one
        # customer message in four goes to the held-out set instead)
        items = [i for i in items if not heldout_turn(i["text"])][:MIN_NEW_TOPIC]
        label = await desk.post(
            "/desk/api/designer/labels",
            headers=csrf,
            json={
                "kind": "new_topic",
                "topic": "rewards_program",
                "file": "faq_promos.yml",
                "answer": ANSWER,
                "heldout": HELD_OUT,
                "items": [{"key": i["key"], "text": i["text"]} for i in items],
            },
        )
        assert label.status == 201, await label.text()
        taught = (await label.json())["training"]

        started = await (await desk.post("/desk/api/designer/runs", headers=csrf)).json()
        for _ in range(1200):
            run = await (await desk.get(f"/desk/api/designer/runs/{started['id']}")).json()
            if run["status"] != "running":
                break
            await asyncio.sleep(0.5)
        assert run["status"] == "ready", run.get("error")
        comparison = run["report"]["comparison"]
        learned = next(r for r in comparison["per_label"] if r["label"] == "faq/rewards_program")
        assert learned["current"]["recall"] == 0.0  # the serving model never heard of it
        assert learned["candidate"]["recall"] > 0  # and now it has (a small topic: some)
        assert run["current"] == serving.name

        # customers keep being answered while Rasa loads the new model and switches to it
        stop = asyncio.Event()
        during = asyncio.create_task(keep_asking(stack, stop))
        promoted = await desk.post(f"/desk/api/designer/runs/{run['id']}/promote", headers=csrf)
        stop.set()
        latencies = await during
        assert promoted.status == 200, await promoted.text()
        assert latencies and max(latencies) < 5.0, latencies
        print(f"answers during the switch: {len(latencies)}, slowest {max(latencies):.2f} s")
        async with aiohttp.ClientSession(stack.rasa_url) as http:
            status = await rasa_client.status(http, stack.rasa_jwt_secret, 10)
        assert status["model_file"] == run["candidate"]
        # a customer asking as the designer taught it now gets the new answer
        answer = await ask(stack, taught[0])
        assert [m["text"] for m in answer if m["role"] == "bot"] == [ANSWER]
        # customers asking in other words: a figure, not yet a promise (issue 15's done-when asks
        # for it; one fresh-clone run answered 3 of these 5)
        heard = [
            [m["text"] for m in await ask(stack, text) if m["role"] == "bot"] for text in HELD_OUT
        ]
        answered = sum(said == [ANSWER] for said in heard)
        print(f"customers asking in other words answered with the new topic: {answered} of 5")
    finally:
        await desk.close()
        async with aiohttp.ClientSession(stack.rasa_url) as http:  # serve the suite's model again
            await http.put(
                "/model",
                json={"model_file": str(serving)},
                headers=authorization(stack.rasa_jwt_secret),
            )
