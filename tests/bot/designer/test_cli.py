"""`python -m bot designer ...`: the same loop from the command line, on a copy of the project."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.conversations.lifecycle import Work
from bot.conversations.lifecycle import start as start_conversation
from bot.conversations.messages import add_message
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import Role, utcnow
from bot.designer.nlu_files import examples_in
from bot.desk.queue import open_handoff
from bot.desk.staff import create_user
from tests.bot.conftest import FakeRasa
from tests.bot.helpers import PASSWORD
from tests.bot.processes import run_command, service_env

PHRASES = ["can you gift wrap it", "do u do gift wrapping", "gift wrap this please"]


async def _a_frustrated_conversation(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            await create_user(session, username="dee", display_name="Dee", role="designer",
                              password=PASSWORD)  # fmt: skip
            conversation = await start_conversation(session, language="en", customer_id=None)
            for text in PHRASES:
                await add_message(session, conversation.id, Role.CUSTOMER, text)
            await open_handoff(Work(session, utcnow()), conversation.id, {"reason": "frustration"},
                               actor="bot", policy_version=1)  # fmt: skip
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_review_label_retrain_and_promote_from_the_command_line(
    database_url: str, fake_rasa: tuple[FakeRasa, int], project: Path, rasa_venv: Path
) -> None:
    await _a_frustrated_conversation(database_url)
    env = service_env(database_url, fake_rasa[1], DESIGNER_PROJECT_DIR=str(project),
                      RASA_VENV=str(rasa_venv))  # fmt: skip
    code, output = await run_command(env, "designer", "inbox")
    assert code == 0, output
    assert output.decode().count("handoff_frustration") == 3
    code, output = await run_command(env, "designer", "groups")
    [group_id] = re.findall(r"^([0-9a-f]{12})  ", output.decode(), re.M)
    assert "3 messages" in output.decode()
    code, output = await run_command(
        env, "designer", "label", "--as", "dee", "--group", group_id, "--intent", "faq/nope"
    )
    assert code == 2 and "Error: there is no intent 'faq/nope'" in output.decode()
    code, output = await run_command(
        env, "designer", "label", "--as", "dee", "--group", group_id, "--out-of-scope"
    )
    assert code == 0, output
    assert "already known" in output.decode()
    heldout = examples_in((project / "tests" / "nlu" / "test_nlu.yml").read_text())
    training = examples_in((project / "data" / "nlu" / "out_of_scope.yml").read_text())
    assert sorted(
        t for i, t in heldout + training if i == "out_of_scope" and t in PHRASES
    ) == sorted(PHRASES)
    code, output = await run_command(env, "designer", "retrain", "--as", "dee")
    assert code == 0, output
    text = output.decode()
    assert "[100%] ready to review" in text and "the candidate is BETTER" in text
    code, output = await run_command(env, "designer", "promote", "--as", "dee", "1")
    assert code == 0, output
    assert fake_rasa[0].loaded and "promoted" in output.decode()
    code, output = await run_command(env, "designer", "undo", "--as", "dee", "1")
    assert code == 2 and "not yet promoted" in output.decode()
    code, output = await run_command(env, "designer", "inbox", "--days", "1")
    assert code == 0 and "handoff_frustration" not in output.decode()  # labelled: gone
