"""Claims under contention: `python -m tests.bench.claim_contention [--agents N] [--rounds R]`.

Through the real app (HTTP, session cookies, CSRF) on SQLite and, when TEST_POSTGRES_URL is set,
on PostgreSQL: for each round a conversation is handed off, then N agents click "claim" on it at
the same moment. Prints the latency of those requests (the winner's and the losers') and checks
that exactly one won each round. Rasa is not involved; the handoff is written as the bot would.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.conversations.lifecycle import Work
from bot.conversations.lifecycle import start as start_conversation
from bot.db.models import utcnow
from bot.desk.queue import open_handoff
from bot.desk.staff import create_user
from bot.services import SERVICES
from bot.settings import ROOT, load_settings

PASSWORD = "correct horse battery"


async def measure(database_url: str, agents: int, rounds: int) -> dict[str, Any]:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "RASA_JWT_SECRET": "r" * 40,
            "BOT_SECRET": "s" * 40,
            "CUSTOMER_IDENTITY_SECRET": "c" * 40,
            "POLICY_FILE": str(ROOT / "policy.yml"),
        }
    )
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    try:
        services = client.app[SERVICES]
        sessions = []
        async with services.sessions.begin() as session:
            for i in range(agents):
                await create_user(session, username=f"a{i}", display_name=f"A{i}", role="agent",
                                  password=PASSWORD, max_concurrent=rounds + 1)  # fmt: skip
        for i in range(agents):
            response = await client.post(
                "/desk/api/login", json={"username": f"a{i}", "password": PASSWORD}
            )
            cookie = response.cookies["desk_session"].value
            headers = {"Cookie": f"desk_session={cookie}",
                       "X-CSRF-Token": (await response.json())["csrf_token"]}  # fmt: skip
            sessions.append(headers)
        client.session.cookie_jar.clear()
        winner_ms, loser_ms, wins = [], [], []
        for _ in range(rounds):
            async with services.sessions.begin() as session:
                conversation = await start_conversation(session, language="en", customer_id=None)
                ticket = await open_handoff(
                    Work(session, utcnow()), conversation.id, {"reason": "frustration"},
                    actor="bench",
                    policy_version=1,
                )  # fmt: skip
                assert ticket is not None
                await session.flush()
                ticket_id = ticket.id

            async def claim(headers: dict[str, str], ticket: int = ticket_id) -> tuple[int, float]:
                t0 = time.perf_counter()
                response = await client.post(f"/desk/api/tickets/{ticket}/claim", headers=headers)
                await response.read()
                return response.status, (time.perf_counter() - t0) * 1000

            results = await asyncio.gather(*(claim(h) for h in sessions))
            wins.append(sum(1 for status, _ in results if status == 200))
            winner_ms += [ms for status, ms in results if status == 200]
            loser_ms += [ms for status, ms in results if status == 409]
        return {"winner_ms": winner_ms, "loser_ms": loser_ms, "wins": wins}
    finally:
        await client.close()


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def fresh_postgres(admin: str) -> tuple[str, Any]:
    import asyncpg

    name = f"bench_claims_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    host = admin.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host}/{name}", drop


async def main(agents: int, rounds: int) -> None:
    targets: list[tuple[str, str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    targets.append(("SQLite", f"sqlite+aiosqlite:///{folder}/bot.db", None))
    if admin := os.environ.get("TEST_POSTGRES_URL"):
        url, drop = await fresh_postgres(admin)
        targets.append(("PostgreSQL", url, drop))
    print(f"{agents} agents claim the same ticket at once, {rounds} rounds")
    print(f"{'database':12} {'wins/round':>10} {'winner p50':>11} {'p95':>7} "
          f"{'all p50':>8} {'p95':>7} {'p99':>7}  (ms)")  # fmt: skip
    for name, url, drop in targets:
        try:
            r = await measure(url, agents, rounds)
        finally:
            if drop:
                await drop()
        everyone = r["winner_ms"] + r["loser_ms"]
        exact = "exactly 1" if set(r["wins"]) == {1} else f"WRONG {sorted(set(r['wins']))}"
        print(f"{name:12} {exact:>10} {statistics.median(r['winner_ms']):11.1f} "
              f"{p(r['winner_ms'], 0.95):7.1f} {statistics.median(everyone):8.1f} "
              f"{p(everyone, 0.95):7.1f} {p(everyone, 0.99):7.1f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    logging.getLogger("bot.rasa.health").setLevel(
        logging.ERROR
    )  # no action server here, on purpose
    asyncio.run(main(args.agents, args.rounds))
