"""Rasa-side speed on loopback: `python -m tests.bench.rasa_latency [--messages N]`.

Starts the action server and the Rasa server with the current model on free ports, and prints:
how long until the model is loaded and answering (cold start, model already trained), and the
answer latency of N customer messages sent one after another to the REST channel (median, p95,
p99). The messages are the held-out NLU texts, so they exercise NLU, rules and the gate action.
"""

from __future__ import annotations

import argparse
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
            "RASA_TRACKER_STORE_URL": f"sqlite:///{var}/tracker.db",
        }
    )
    services = [s for s in launcher.services(settings, model) if s.name != "bot"]
    started = time.monotonic()
    try:
        launcher.start(services, settings, timeout=300, logs=var / "log")
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
    finally:
        launcher.stop(services)
    print(f"model                {model.name}")
    print(
        f"cold start           {cold_start:.1f} s (processes started -> model loaded and answering)"
    )
    print(f"messages             {len(latencies)} sequential, REST channel, loopback")
    print(
        f"answer latency       median {statistics.median(latencies):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
