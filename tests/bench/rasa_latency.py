"""Speed on loopback: `python -m tests.bench.rasa_latency [--messages N]`.

Starts the action server, the Rasa server and the bot service with the current model on free
ports, and prints: how long until the model is loaded and answering (cold start, model already
trained); the answer latency of N customer messages sent one after another straight to Rasa's
REST channel; and the same messages through the bot service's websocket (stored, acknowledged,
forwarded, answer stored and pushed), with the ratio. The messages are the held-out NLU texts,
so they exercise NLU, rules and the gate action. Handoffs end a conversation, so a new one
starts every 5 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from bot import launcher
from bot.settings import ROOT, load_settings
from tests.e2e.conftest import free_port

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")  # "[71042388](order_id)" -> "71042388"


def held_out_texts() -> list[str]:
    data = yaml.safe_load((ROOT / "tests" / "nlu" / "test_nlu.yml").read_text())
    texts = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip().removeprefix("- ")
            if line:
                texts.append(
                    line.replace("[", "").replace("]", "").split("(")[0] if "](" in line else line
                )
    return texts


def post(url: str, body: dict[str, object]) -> list[dict[str, object]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.loads(response.read()))


async def through_service(port: int, texts: list[str]) -> list[float]:
    import aiohttp

    latencies: list[float] = []
    base = f"http://127.0.0.1:{port}/api/conversations"
    async with aiohttp.ClientSession() as http:
        for first in range(0, len(texts), 5):
            async with http.post(base, json={"language": "en"}) as response:
                started = await response.json()
            async with http.ws_connect(f"{base}/{started['conversation_id']}/ws") as ws:
                await ws.send_json({"type": "hello", "token": started["token"]})
                await ws.receive_json(timeout=10)  # the mode
                for i, text in enumerate(texts[first : first + 5]):
                    t0 = time.perf_counter()
                    await ws.send_json({"type": "message", "client_msg_id": f"b{i}", "text": text})
                    while True:  # until the bot (or the service) answers, or a handoff
                        frame = await ws.receive_json(timeout=30)
                        if frame.get("role") in ("bot", "system") or frame.get("type") == "mode":
                            break
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if frame.get("type") == "mode" or frame.get("text", "").startswith("I'm "):
                        break
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    model = launcher.train_if_changed()
    var = Path(tempfile.mkdtemp(prefix="bench-"))
    settings = load_settings(
        {
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "RASA_JWT_SECRET": secrets.token_urlsafe(32),
            "BOT_SECRET": secrets.token_urlsafe(32),
            "CUSTOMER_IDENTITY_SECRET": secrets.token_urlsafe(32),
            "RASA_TRACKER_STORE_URL": f"sqlite:///{var}/tracker.db",
            "BOT_PORT": str(free_port()),
            "DATABASE_URL": f"sqlite+aiosqlite:///{var}/bot.db",
        }
    )
    env = {
        "BOT_PORT": str(settings.port),
        "RASA_PORT": str(settings.rasa_port),
        "ACTION_PORT": str(settings.action_port),
        "RASA_JWT_SECRET": settings.rasa_jwt_secret,
        "BOT_SECRET": settings.secret,
        "CUSTOMER_IDENTITY_SECRET": settings.customer_identity_secret,
        "DATABASE_URL": settings.database_url,
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
        # every benchmark conversation comes from this one address: the per-address limits,
        # there against abuse, would stop it after 30 conversations or 120 messages
        "RATE_STARTS_PER_ADDRESS": "1000000",
        "RATE_MESSAGES_PER_ADDRESS": "1000000",
    }
    services = launcher.services(settings, model)
    started = time.monotonic()
    try:
        launcher.start(services, settings, timeout=300, env_overrides=env, logs=var / "log")
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        post(url, {"sender": "bench-warmup", "message": "hi"})
        cold_start = time.monotonic() - started
        texts = held_out_texts()
        latencies = []
        for i in range(args.messages):
            t0 = time.perf_counter()
            # a new conversation every 5 messages, as many customers ask a few things each
            post(url, {"sender": f"bench-{i // 5}", "message": texts[i % len(texts)]})
            latencies.append((time.perf_counter() - t0) * 1000)
        service = asyncio.run(
            through_service(settings.port, [texts[i % len(texts)] for i in range(args.messages)])
        )
    finally:
        launcher.stop(services)
    print(f"model                {model.name}")
    print(
        f"cold start           {cold_start:.1f} s (processes started -> model loaded and answering)"
    )
    for name, values in (("straight to Rasa", latencies), ("through the service", service)):
        print(
            f"{name:20} median {statistics.median(values):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms, p99 {percentile(values, 0.99):.1f} ms "
            f"({len(values)} messages)"
        )
    ratio = statistics.median(service) / statistics.median(latencies)
    print(f"service overhead     {ratio:.2f}x the median straight to Rasa")


if __name__ == "__main__":
    main()
