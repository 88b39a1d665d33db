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
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from bot.ops import launcher
from tests.bench.common import bench_environment, held_out_texts, percentile
from tests.e2e.conftest import running


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    model = launcher.train_if_changed()
    var = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.monotonic()
    with running(var, bench_environment(var), timeout=300) as settings:
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
