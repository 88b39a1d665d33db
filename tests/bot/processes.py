"""The bot service as a real process (`python -m bot`), for replica and fault tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest

from bot.settings import ROOT

# Tests and benchmarks write from 127.0.0.1 faster than people do; the per-address and
# per-conversation limits have their own tests (tests/bot/channel/test_chat.py).
NO_RATE_LIMITS = {
    "RATE_STARTS_PER_ADDRESS": "1000000",
    "RATE_MESSAGES_PER_ADDRESS": "1000000",
    "RATE_MESSAGES_PER_CONVERSATION": "1000000",
    "RATE_CALLBACKS_PER_CONVERSATION": "1000000",
    "SOCKETS_PER_CONVERSATION": "1000000",
    "SOCKETS_PER_ADDRESS": "1000000",
}


def scratch_stores() -> dict[str, str]:
    """Never the developer's own tracker store or project files: after `make run` they hold
    their conversations and labels. A scratch folder instead."""
    scratch = Path(tempfile.mkdtemp(prefix="bot-test-"))
    return {
        "RASA_TRACKER_STORE_URL": f"sqlite:///{scratch}/tracker.db",
        "DESIGNER_PROJECT_DIR": str(scratch / "project"),
    }


def service_env(database_url: str, rasa_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(rasa_port),  # the fake Rasa answers /health for the action server
        "RASA_JWT_SECRET": secrets.token_urlsafe(32),
        "BOT_SECRET": secrets.token_urlsafe(32),
        "CUSTOMER_IDENTITY_SECRET": secrets.token_urlsafe(32),
        **scratch_stores(),
        **extra,
    }


async def run_command(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[int, bytes]:
    """`python -m bot <args>` to completion: exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate(stdin)
    return process.returncode or 0, output


async def start_service(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    """Start the service on `port` and wait until it answers HTTP."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env={**env, "BOT_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                pytest.fail(f"the service on {port} exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz"):
                    return process  # answering (whether a fake Rasa is "ready" does not matter)
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    process.kill()
    pytest.fail(f"the service on {port} did not start within 30 s")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await asyncio.wait_for(process.wait(), timeout=15)
