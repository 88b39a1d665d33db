"""The designer's loop through the real app on SQLite and PostgreSQL, on a copy of the project,
with the Rasa environment's commands scripted (tests/bot/designer/conftest.py)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Message, Role
from bot.designer import labels
from bot.designer.nlu_files import Project, examples_in
from bot.services import SERVICES
from bot.settings import RASA_VENV
from tests.bot.conftest import FakeRasa
from tests.bot.designer.conftest import SERVING
from tests.bot.designer.test_labels import GIFT_WRAP, HELDOUT
from tests.bot.helpers import Agent, queued, sign_in


def labelled(project: Path) -> list[tuple[str, str]]:
    """Every example of the training file and the held-out set that labels here touch."""
    files = (project / "data" / "nlu" / "handoff.yml", project / "tests" / "nlu" / "test_nlu.yml")
    return [pair for path in files for pair in examples_in(path.read_text())]


def mark(project: Path, name: str, text: str) -> None:
    (project / name).write_text(text)


def model_files(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "models").glob("*.tar.gz"))


async def finished(designer: Agent, run: int) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = await designer.json("GET", f"/desk/api/designer/runs/{run}")
        if body["status"] != "running":
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not finish")


async def test_only_designers_and_supervisors_use_the_designer_tools(
    designer_client: TestClient,
) -> None:
    agent = await sign_in(designer_client, "ag")
    for path in ("inbox", "groups", "intents", "labels", "runs", "insights"):
        assert (await agent.get(f"/desk/api/designer/{path}")).status == 403, path
    assert (await agent.post("/desk/api/designer/runs")).status == 403
    boss = await sign_in(designer_client, "su", role="supervisor")
    assert (await boss.get("/desk/api/designer/inbox")).status == 200


async def test_label_a_group_then_it_leaves_the_inbox_and_undo_brings_it_back(
    designer_client: TestClient, project: Path
) -> None:
    designer = await sign_in(designer_client, "dee", role="designer")
    for _ in range(2):
        await queued(designer_client)  # "hand me over", handed off for frustration
    [group] = (await designer.json("GET", "/desk/api/designer/groups"))["groups"]
    assert group["size"] == 2 and group["reasons"] == {"handoff_frustration": 2}
    items = [{"key": i["key"], "text": i["text"]} for i in group["items"]]
    wanted = {"kind": "intent", "intent": "request_human", "items": items}
    label = await designer.json("POST", "/desk/api/designer/labels", wanted, 201)
    assert label["training"] + label["heldout"] == ["hand me over"]  # the same text, once
    assert len(label["skipped"]) == 1
    assert ("request_human", "hand me over") in labelled(project)
    assert (await designer.json("GET", "/desk/api/designer/inbox"))["items"] == []
    again = await designer.post("/desk/api/designer/labels", wanted)
    assert again.status == 409
    await designer.json("POST", f"/desk/api/designer/labels/{label['id']}/undo")
    assert ("request_human", "hand me over") not in labelled(project)
    assert len((await designer.json("GET", "/desk/api/designer/inbox"))["items"]) == 2


def files_of(project: Path) -> dict[str, str]:
    """Every YAML file of the project, and any temporary file left beside one."""
    found = [*project.rglob("*.yml"), *project.rglob("*.tmp")]
    return {str(p.relative_to(project)): p.read_text() for p in found}


async def test_a_label_that_fails_to_write_leaves_no_row_and_no_lines(
    designer_client: TestClient, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe's new topic failed at domain.yml, after the training and held-out files."""
    designer = await sign_in(designer_client, "ida", role="designer")
    await queued(designer_client, "hand me over, and can you gift wrap it")
    [item] = (await designer.json("GET", "/desk/api/designer/inbox"))["items"]
    before = files_of(project)
    replace = os.replace

    def full_disk(source: Any, target: Any) -> None:
        if Path(target).name == "domain.yml":
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(labels.os, "replace", full_disk)
    wanted = {
        "kind": "new_topic", "topic": "gift_wrap", "file": "faq_orders.yml",
        "answer": "We don't gift wrap yet.", "examples": GIFT_WRAP, "heldout": HELDOUT,
        "items": [{"key": item["key"], "text": item["text"]}],
    }  # fmt: skip
    failed = await designer.post("/desk/api/designer/labels", wanted)
    assert failed.status == 503
    assert files_of(project) == before
    assert (await designer.json("GET", "/desk/api/designer/labels"))["labels"] == []
    assert len((await designer.json("GET", "/desk/api/designer/inbox"))["items"]) == 1
    monkeypatch.setattr(labels.os, "replace", replace)
    await designer.json("POST", "/desk/api/designer/labels", wanted, 201)  # it can be redone


async def test_two_labels_of_one_phrasing_at_once_write_it_once(
    designer_client: TestClient, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa refuses duplicate examples: the second label must see what the first one wrote."""
    designer = await sign_in(designer_client, "jo", role="designer")
    bodies = [
        {"kind": "intent", "intent": "request_human", "items": [{"key": key, "text": text}]}
        for key, text in (("k1", "get me a real person"), ("k2", "Get me a real person!"))
    ]
    flush = AsyncSession.flush

    async def slow_flush(self: AsyncSession, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)  # a busy database: the other label plans meanwhile
        await flush(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "flush", slow_flush)
    answers = await asyncio.gather(
        *(designer.post("/desk/api/designer/labels", body) for body in bodies)
    )
    assert sorted(a.status for a in answers) == [201, 409]
    written = [text for intent, text in labelled(project) if intent == "request_human"]
    assert [t for t in written if t.lower().startswith("get me a real person")] == [
        "get me a real person"
    ]


async def test_a_bad_label_is_refused_with_the_reason(designer_client: TestClient) -> None:
    designer = await sign_in(designer_client, "dot", role="designer")
    for body in ({"kind": "intent"}, {"kind": "intent", "items": [{"key": 1}]}, []):
        assert (await designer.post("/desk/api/designer/labels", body)).status == 400
    items = [{"key": "k", "text": "hello"}]
    for body, reason in (
        ({"kind": "intent", "intent": "faq/nope", "items": items}, "no intent 'faq/nope'"),
        ({"kind": "guess", "items": items}, "kind must be one of"),
    ):
        refused = await designer.post("/desk/api/designer/labels", body)
        answer = await refused.json()
        assert refused.status == 400 and answer["error"] == "invalid_label"
        assert reason in answer["message"]
    intents = await designer.json("GET", "/desk/api/designer/intents")
    assert {"name": "faq/order_status", "file": "faq_orders.yml"} in intents["intents"]
    assert "faq_orders.yml" in intents["faq_files"]


async def test_retrain_compares_the_candidate_and_promotion_switches_rasa(
    designer_client: TestClient, project: Path, fake_rasa: tuple[FakeRasa, int]
) -> None:
    designer = await sign_in(designer_client, "dan", role="designer")
    started = await designer.json("POST", "/desk/api/designer/runs", None, 202)
    busy = await designer.post("/desk/api/designer/runs")
    assert busy.status == 409  # one run at a time
    run = await finished(designer, started["id"])
    assert (run["status"], run["progress"], run["verdict"]) == ("ready", 100, "better")
    assert run["current"] == SERVING
    headline = run["report"]["comparison"]["headline"][0]
    assert (headline["current"], headline["candidate"]) == (0.90, 0.93)
    assert fake_rasa[0].loaded == []  # nothing changes for customers until promoted
    fake_rasa[0].refuse_admin = True
    refused = await designer.post(f"/desk/api/designer/runs/{run['id']}/promote")
    assert refused.status == 409
    assert "did not load the model: Rasa answered HTTP 400" in (await refused.json())["message"]
    assert (await designer.json("GET", f"/desk/api/designer/runs/{run['id']}"))["status"] == "ready"
    fake_rasa[0].refuse_admin = False  # the run can still be promoted
    promoted = await designer.json("POST", f"/desk/api/designer/runs/{run['id']}/promote")
    assert promoted["status"] == "promoted"
    [loaded] = fake_rasa[0].loaded
    assert Path(loaded) == project / "models" / run["candidate"]
    assert model_files(project) == sorted([SERVING, run["candidate"]])
    twice = await designer.post(f"/desk/api/designer/runs/{run['id']}/promote")
    assert twice.status == 409


async def test_a_worse_candidate_is_reported_worse(
    designer_client: TestClient, project: Path
) -> None:
    mark(project, ".candidate-accuracy", "0.80")
    designer = await sign_in(designer_client, "eli", role="designer")
    run = await finished(
        designer, (await designer.json("POST", "/desk/api/designer/runs", None, 202))["id"]
    )
    assert run["verdict"] == "worse"
    assert run["report"]["comparison"]["worse"] == [
        "held-out accuracy fell from 0.900 to 0.800",
        "held-out macro-F1 fell from 0.900 to 0.800",
    ]


async def test_a_failed_validation_ends_the_run_with_the_reason_and_serves_on(
    designer_client: TestClient, project: Path, fake_rasa: tuple[FakeRasa, int]
) -> None:
    mark(project, ".fail-validate", "")
    designer = await sign_in(designer_client, "fay", role="designer")
    run = await finished(
        designer, (await designer.json("POST", "/desk/api/designer/runs", None, 202))["id"]
    )
    assert run["status"] == "failed" and "duplicate example" in run["error"]
    assert model_files(project) == [SERVING]
    assert fake_rasa[0].model_file == SERVING
    again = await designer.json("POST", "/desk/api/designer/runs", None, 202)  # not stuck
    assert again["status"] == "running"
    await finished(designer, again["id"])


async def test_insights_over_a_period(designer_client: TestClient) -> None:
    designer = await sign_in(designer_client, "gil", role="designer")
    await queued(designer_client)
    await queued(designer_client, "please fail")
    body = await designer.json("GET", "/desk/api/designer/insights?days=7")
    assert body["conversations"] == 2 and body["containment"] == 0.0
    assert body["handoffs_by_reason"] == {"frustration": 1, "bot_unavailable": 1}
    assert sum(body["messages_by_hour"]) == 2 and len(body["messages_by_hour"]) == 24
    assert body["top_unanswered"][0]["size"] == 1
    assert (await designer.get("/desk/api/designer/insights?days=0")).status == 400


# Stored before intake refused control characters (or written straight into the database): ESC,
# DEL, C1 (CSI, NEL), whitespace-like C0, a noncharacter and a line separator.
HOSTILE = "where\x1b is\x7f my\x9b order\x85now\x0b\x0c\x1cplease\ufffe\u2028thanks"


async def test_labelling_a_stored_message_with_control_characters_cannot_break_training(
    designer_client: TestClient, project: Path, database_url: str
) -> None:
    designer = await sign_in(designer_client, "hex", role="designer")
    cid, _ = await queued(designer_client)
    async with designer_client.app[SERVICES].sessions.begin() as session:
        await session.execute(
            update(Message).filter_by(conversation_id=cid, role=Role.CUSTOMER).values(text=HOSTILE)
        )
    [group] = (await designer.json("GET", "/desk/api/designer/groups"))["groups"]
    items = [{"key": i["key"], "text": i["text"]} for i in group["items"]]
    assert [i["text"] for i in items] == [HOSTILE]  # the inbox shows what is stored
    wanted = {"kind": "intent", "intent": "request_human", "items": items}
    label = await designer.json("POST", "/desk/api/designer/labels", wanted, 201)
    written = Project(project)
    for path in [*written.nlu_files(), written.heldout]:
        yaml.safe_load(path.read_text("utf-8"))  # PyYAML refuses control characters
    clean = "where is my order now please thanks"
    assert label["training"] + label["heldout"] == [clean]
    assert ("request_human", clean) in labelled(project)  # read back by the project's reader
    rasa = RASA_VENV / "bin" / "rasa"
    if not database_url.startswith("sqlite"):
        return  # the files do not depend on the database: Rasa reads them once, on SQLite's run
    if not rasa.exists():
        pytest.skip("the Rasa environment is not installed")
    validate = await asyncio.create_subprocess_exec(
        str(rasa), "data", "validate", "--fail-on-warnings", cwd=project,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(project)},
    )  # fmt: skip
    output, _ = await asyncio.wait_for(validate.communicate(), timeout=300)
    assert validate.returncode == 0, output.decode()[-3000:]


async def test_answers_must_map_languages_to_texts_and_english_is_needed(
    designer_client: TestClient, project: Path
) -> None:
    designer = await sign_in(designer_client, "jo", role="designer")
    await queued(designer_client, "hand me over, and can you gift wrap it")
    [item] = (await designer.json("GET", "/desk/api/designer/inbox"))["items"]
    wanted = {
        "kind": "new_topic", "topic": "gift_wrap", "file": "faq_orders.yml",
        "examples": GIFT_WRAP, "heldout": HELDOUT,
        "items": [{"key": item["key"], "text": item["text"]}],
    }  # fmt: skip
    before = files_of(project)
    for answers, why in (
        (["We don't gift wrap yet."], "answers must map language codes to texts"),
        ({"vi": "Chưa có gói quà."}, "needs its answer in 'en'"),
    ):
        refused = await designer.post("/desk/api/designer/labels", wanted | {"answers": answers})
        assert refused.status == 400
        assert why in (await refused.json())["message"]
    assert files_of(project) == before
    both = {"en": "We don't gift wrap yet.", "zh": "我们暂不提供礼品包装。"}
    await designer.json("POST", "/desk/api/designer/labels", wanted | {"answers": both}, 201)
    domain = yaml.safe_load((project / "domain.yml").read_text())
    texts = [v["text"] for v in domain["responses"]["utter_faq/gift_wrap"]]
    assert texts == ["We don't gift wrap yet.", "我们暂不提供礼品包装。"]
