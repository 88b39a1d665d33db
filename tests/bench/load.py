"""Latency and load: `python -m tests.bench.load` (or `make bench-load`).

Starts the real action server, Rasa server and bot service with the current model on free
loopback ports (fresh SQLite databases in a temporary directory), then measures:

- **Load.** N simulated customers (1, 10, 50, 200) each open a conversation and its websocket,
  send held-out NLU texts (tests/nlu/test_nlu.yml), wait for the answer (the bot's message, or
  the handoff's mode frame), think 0.5-1.5 s (seeded) and send the next; a conversation ends
  after a handoff or 3-8 messages, and the customer starts a new one. Each level runs for a
  fixed time; then the same customers, texts and think times go straight to Rasa's REST channel
  (no service), so the service's overhead shows as a ratio. Per level: median, p95 and p99
  answer latency, answered messages per second, errors by kind (no answer in time, bot_unavailable
  handoffs, error frames, HTTP failures), and peak RSS and CPU of every process.
- **Handoff latency.** A desk user signed in with the desk websocket open; a customer writes
  "I want to speak to a person"; time from sending to the desk's {"type":"queue"} frame, and to
  the ticket listed by GET /desk/api/queue.
- **Cold start.** `python -m bot.ops.launcher run` (the real run command) from a temporary copy of
  the checkout, settings in the environment, model already trained: time to the first answer
  through the service. Every process it started is stopped afterwards.

Every simulated customer comes from 127.0.0.1, so the per-address flood limits are raised for
the bench (they are per minute and per address; real customers come from many addresses).
Prints a table, writes results/bench_load.json and its own section of docs/benchmarks.md, with
plots in docs/benchmarks/ (drawn with the Rasa environment's matplotlib). A benchmark, not a
test: it prints figures and always passes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.common import ROOT, bench_environment, held_out_texts, percentile

RESULTS = ROOT / "results" / "bench_load.json"
DOCS = ROOT / "docs" / "benchmarks.md"
PLOTS = ROOT / "docs" / "benchmarks"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
BEGIN = "<!-- bench-load: written by `make bench-load` (tests/bench/load.py); do not edit -->"
END = "<!-- /bench-load -->"

LEVELS = (1, 10, 50, 200)
PRODUCTION_LEVELS = (50, 200)  # the production set-up, where the single worker was the limit
PRODUCTION_WORKERS = 2  # Rasa's Sanic workers there (SANIC_WORKERS; needs the Redis lock store)
THINK = (0.5, 1.5)  # seconds between an answer and the customer's next message
PER_CONVERSATION = (3, 8)  # messages before a customer leaves, unless handed over sooner
RASA_TIMEOUT = 10.0  # the service's RASA_TIMEOUT_SECONDS (its default); also the direct timeout
ANSWER_TIMEOUT = 15.0  # through the service: no frame at all by then counts as a timeout
HANDOFF_TEXT = "I want to speak to a person"
DESK_USER, DESK_PASSWORD = "bench-agent", "bench-password-" + "x" * 12
PROCESSES = ("actions", "rasa", "bot")
ROUTES = ("service", "direct")
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# a copy of the checkout for the cold start: what `make run` needs, not what it makes
NOT_COPIED = {".git", "models", "results", "var", "docs", "tests", ".rasa", ".env"}


# --- measuring processes --------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _machine_busy() -> float:
    """CPU seconds all processes on the machine have used (/proc/stat, every core)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """The process and everything below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents.setdefault(stat[0], []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


class Sampler:
    """Peak RSS (process tree) and CPU share of each named process while a phase runs."""

    def __init__(
        self, pids: dict[str, int], alone: dict[str, int] | None = None, interval: float = 0.5
    ) -> None:
        """`pids` count with their children; `alone` without (the load generator's children
        are the services themselves)."""
        self.trees = {name: descendants(pid) for name, pid in pids.items()}
        self.trees |= {name: [pid] for name, pid in (alone or {}).items()}
        self.interval = interval
        self.peak: dict[str, float] = dict.fromkeys(self.trees, 0.0)
        self._cpu0: dict[str, float] = {}
        self._t0 = 0.0
        self._task: asyncio.Task[None] | None = None

    def _cpu(self) -> dict[str, float]:
        ours = {
            name: sum(s[1] for p in tree if (s := _stat(p)) is not None)
            for name, tree in self.trees.items()
        }
        # what the rest of the machine used meanwhile (other people's work on a shared box)
        return ours | {"other": _machine_busy() - sum(ours.values())}

    def _sample(self) -> None:
        for name, tree in self.trees.items():
            self.peak[name] = max(self.peak[name], sum(_rss_mb(p) for p in tree))

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._cpu0, self._t0 = self._cpu(), time.monotonic()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._sample()
        wall = time.monotonic() - self._t0
        cpu = self._cpu()
        return {
            "sampled_s": round(wall, 2),
            "rss_mb": {name: round(mb, 1) for name, mb in self.peak.items()},
            "cpu_pct": {
                name: round(100 * (cpu[name] - self._cpu0[name]) / wall, 1) for name in cpu
            },
        }


async def wait_until_idle(rasa_pid: int, limit: float = 90) -> float:
    """Until Rasa has worked off what timed-out clients left behind (under 10% of a core)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = _stat(rasa_pid)
        await asyncio.sleep(1)
        after = _stat(rasa_pid)
        if before is None or after is None or after[1] - before[1] < 0.10:
            break
    return time.monotonic() - started


# --- simulated customers --------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms, answered messages
    acks: list[float] = field(default_factory=list)  # ms, stored and acknowledged (service)
    sent: int = 0
    handoffs: int = 0
    conversations: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def answered(self, ms: float, handoff: bool) -> None:
        self.latencies.append(ms)
        self.handoffs += handoff


@dataclass
class Turn:
    """What became of one message: outcome "bot", "handoff", "bot_unavailable", "timeout",
    "closed" or "error:<code>"; when the answer and the acknowledgement came (ms)."""

    outcome: str = ""
    answer_ms: float | None = None
    ack_ms: float | None = None


async def _turn(frames: asyncio.Queue[Any], client_msg_id: str, t0: float, think: float) -> Turn:
    """Waits for the answer, then for the rest of the think time watches for the mode frame
    that ends the bot's part of the conversation (a handoff's text comes before it)."""
    turn, answered_at, deadline = Turn(), 0.0, t0 + ANSWER_TIMEOUT
    while True:
        now = time.perf_counter()
        until = (answered_at + think) if turn.outcome else deadline
        try:
            frame = await asyncio.wait_for(frames.get(), timeout=max(0.0, until - now))
        except TimeoutError:
            turn.outcome = turn.outcome or "timeout"
            return turn
        if frame is None:
            turn.outcome = turn.outcome or "closed"
            return turn
        kind, role = frame.get("type"), frame.get("role")
        elapsed = (time.perf_counter() - t0) * 1000
        if kind == "ack" and frame.get("client_msg_id") == client_msg_id:
            turn.ack_ms = elapsed
        elif kind == "error":
            turn.outcome = turn.outcome or f"error:{frame.get('error')}"
            return turn
        elif kind == "mode" and frame.get("mode") != "bot":
            if turn.answer_ms is None:
                turn.answer_ms = elapsed
            unavailable = frame.get("reason") == "bot_unavailable"
            turn.outcome = "bot_unavailable" if unavailable else "handoff"
            return turn
        elif kind == "message" and role in ("bot", "system") and not turn.outcome:
            # a system message first, in bot mode, is the service saying the bot is unavailable
            turn.answer_ms, answered_at = elapsed, now
            turn.outcome = "bot" if role == "bot" else "bot_unavailable"


async def service_customer(
    http: Any, port: int, rng: random.Random, texts: list[str], deadline: float, tally: Tally
) -> None:
    import aiohttp

    base = f"http://127.0.0.1:{port}/api/conversations"
    await asyncio.sleep(rng.uniform(0, THINK[1]))  # customers arrive spread out, not at once
    while time.monotonic() < deadline:
        try:
            async with http.post(base, json={"language": "en"}) as response:
                if response.status != 201:
                    tally.errors[f"http {response.status} (start)"] += 1
                    await asyncio.sleep(1)
                    continue
                started = await response.json()
            ws = await http.ws_connect(f"{base}/{started['conversation_id']}/ws", heartbeat=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            tally.errors[f"http {type(error).__name__}"] += 1
            await asyncio.sleep(1)
            continue
        tally.conversations += 1
        frames: asyncio.Queue[Any] = asyncio.Queue()

        async def read(ws: Any = ws, frames: asyncio.Queue[Any] = frames) -> None:
            with contextlib.suppress(Exception):
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        frames.put_nowait(json.loads(message.data))
            frames.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            await ws.send_json({"type": "hello", "token": started["token"]})
            for i in range(rng.randint(*PER_CONVERSATION)):
                if time.monotonic() >= deadline:
                    break
                client_msg_id = f"m{i}"
                t0 = time.perf_counter()
                await ws.send_json(
                    {"type": "message", "client_msg_id": client_msg_id, "text": rng.choice(texts)}
                )
                tally.sent += 1
                turn = await _turn(frames, client_msg_id, t0, rng.uniform(*THINK))
                if turn.ack_ms is not None:
                    tally.acks.append(turn.ack_ms)
                if turn.outcome in ("bot", "handoff") and turn.answer_ms is not None:
                    tally.answered(turn.answer_ms, turn.outcome == "handoff")
                    if turn.outcome == "handoff":
                        break  # a person takes over: this customer's next question is a new chat
                    continue
                tally.errors[turn.outcome] += 1
                break
        except (aiohttp.ClientError, OSError, ConnectionError) as error:
            tally.errors[f"http {type(error).__name__}"] += 1
        finally:
            await ws.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def direct_customer(
    http: Any, rasa_url: str, rng: random.Random, texts: list[str], deadline: float, tally: Tally
) -> None:
    """The same customer, straight to Rasa's REST channel (what the service itself sends)."""
    import aiohttp

    url = f"{rasa_url}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=RASA_TIMEOUT)
    await asyncio.sleep(rng.uniform(0, THINK[1]))
    while time.monotonic() < deadline:
        sender = f"bench-direct-{uuid.uuid4()}"
        tally.conversations += 1
        for _ in range(rng.randint(*PER_CONVERSATION)):
            if time.monotonic() >= deadline:
                break
            body = {
                "sender": sender,
                "message": rng.choice(texts),
                "metadata": {"language": "en", "customer_id": None},
            }
            t0 = time.perf_counter()
            tally.sent += 1
            try:
                async with http.post(url, json=body, timeout=timeout) as response:
                    answers = await response.json() if response.status == 200 else None
                    status = response.status
            except TimeoutError:
                tally.errors["timeout"] += 1
                break
            except (aiohttp.ClientError, OSError, ValueError) as error:
                tally.errors[f"http {type(error).__name__}"] += 1
                break
            if answers is None:
                tally.errors[f"http {status}"] += 1
                break
            if not answers:  # what the service counts as the bot failing (bot_unavailable)
                tally.errors["empty answer"] += 1
                break
            handoff = any((a.get("custom") or {}).get("handoff") for a in answers)
            tally.answered((time.perf_counter() - t0) * 1000, handoff)
            if handoff:
                break
            await asyncio.sleep(rng.uniform(*THINK))


async def run_level(
    route: str,
    customers: int,
    seconds: float,
    settings: Any,
    pids: dict[str, int],
    texts: list[str],
    seed: int,
    bot_log: Path | None = None,
) -> dict[str, Any]:
    import aiohttp

    tally = Tally()
    log_start = _size(bot_log)
    sampler = Sampler(pids, alone={"load generator": os.getpid()})
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        sampler.start()
        started = time.monotonic()
        deadline = started + seconds
        if route == "service":
            work = [
                service_customer(
                    http, settings.port, random.Random(seed * 1000 + i), texts, deadline, tally
                )
                for i in range(customers)
            ]
        else:
            work = [
                direct_customer(
                    http, settings.rasa_url, random.Random(seed * 1000 + i), texts, deadline, tally
                )
                for i in range(customers)
            ]
        await asyncio.gather(*work)
        wall = time.monotonic() - started
        usage = await sampler.stop()
    idle = await wait_until_idle(pids["rasa"])
    result = summarise(tally, seconds) | usage
    # CPU per answered message: what a message costs each process, whatever else ran meanwhile
    result["cpu_ms_per_msg"] = {
        name: round(10 * usage["cpu_pct"][name] * usage["sampled_s"] / len(tally.latencies), 1)
        for name in PROCESSES
        if tally.latencies
    }
    result |= {"route": route, "customers": customers, "wall_s": round(wall, 1)}
    result["settle_s"] = round(idle, 1)
    if bot_log is not None and route == "service":
        result["unavailable_causes"] = unavailable_causes(bot_log, log_start)
    return result


def _size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


def unavailable_causes(bot_log: Path, start: int) -> dict[str, int]:
    """Why the service handed customers over as bot_unavailable, from its log
    (bot/channel/chat.py)."""
    causes: Counter[str] = Counter()
    with bot_log.open("rb") as log:
        log.seek(start)
        for raw in log:
            line = raw.decode(errors="replace")
            if " bot unavailable for " in line:
                cause = line.split(": ", 1)[1] if ": " in line else line
                causes[cause.split(":", 1)[0].strip()[:60]] += 1
    return dict(causes)


def summarise(tally: Tally, seconds: float) -> dict[str, Any]:
    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "sent": tally.sent,
        "answered": len(tally.latencies),
        "handoffs": tally.handoffs,
        "conversations": tally.conversations,
        "msgs_per_s": round(len(tally.latencies) / seconds, 2),
        "median_ms": r(statistics.median(tally.latencies) if tally.latencies else None),
        "p95_ms": r(percentile(tally.latencies, 0.95)),
        "p99_ms": r(percentile(tally.latencies, 0.99)),
        "ack_median_ms": r(statistics.median(tally.acks) if tally.acks else None),
        "errors": dict(tally.errors),
    }


# --- handoff latency ------------------------------------------------------------------------


def create_desk_user(env: dict[str, str]) -> None:
    command = ["-m", "bot", "users", "create", "--username", DESK_USER, "--role", "agent"]
    subprocess.run(
        [str(BOT_PY), *command, "--name", "Bench Agent", "--password-stdin"],
        input=DESK_PASSWORD + "\n",
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


async def handoff_latency(port: int, repeats: int) -> dict[str, Any]:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    to_frame, to_listed, to_customer = [], [], []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = {"username": DESK_USER, "password": DESK_PASSWORD}
        async with http.post(f"{base}/desk/api/login", json=login) as response:
            assert response.status == 200, await response.text()
        async with http.ws_connect(f"{base}/desk/ws") as desk:

            async def next_queue_frame() -> None:
                while True:
                    frame = await desk.receive_json(timeout=30)
                    if frame.get("type") == "queue":
                        return

            await asyncio.sleep(0.5)
            for _ in range(repeats):
                while True:  # drop what came before (the desk's own arrival, earlier handoffs)
                    try:
                        await desk.receive(timeout=0.05)
                    except TimeoutError:
                        break
                async with http.post(f"{base}/api/conversations", json={}) as response:
                    started = await response.json()
                conversation_id = started["conversation_id"]
                async with http.ws_connect(f"{base}/api/conversations/{conversation_id}/ws") as ws:
                    await ws.send_json({"type": "hello", "token": started["token"]})
                    await ws.receive_json(timeout=10)  # the mode
                    t0 = time.perf_counter()
                    await ws.send_json(
                        {"type": "message", "client_msg_id": "h1", "text": HANDOFF_TEXT}
                    )

                    async def customer_sees_mode(ws: Any = ws, t0: float = t0) -> float:
                        while True:
                            frame = await ws.receive_json(timeout=30)
                            if frame.get("type") == "mode" and frame.get("mode") == "queued":
                                return (time.perf_counter() - t0) * 1000

                    seen = asyncio.create_task(customer_sees_mode())
                    await next_queue_frame()
                    to_frame.append((time.perf_counter() - t0) * 1000)
                    while True:  # what the desk page does on a queue frame: reload the queue
                        async with http.get(f"{base}/desk/api/queue") as response:
                            waiting = (await response.json())["waiting"]
                        if any(t["conversation_id"] == conversation_id for t in waiting):
                            to_listed.append((time.perf_counter() - t0) * 1000)
                            break
                        await asyncio.sleep(0.01)
                    to_customer.append(await seen)
                await asyncio.sleep(0.3)

    def stats(values: list[float]) -> dict[str, float | None]:
        p95 = percentile(values, 0.95)
        return {
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": None if p95 is None else round(p95, 1),
        }

    return {
        "repeats": repeats,
        "desk_frame": stats(to_frame),
        "desk_listed": stats(to_listed),
        "customer_mode": stats(to_customer),
    }


# --- the stack ------------------------------------------------------------------------------


async def first_answer(
    port: int, limit: float, started: float | None = None
) -> tuple[float, float]:
    """(seconds until /readyz says Rasa is ready, seconds until the bot's first answer), both
    from `started` (a time.monotonic(); default now)."""
    import aiohttp

    started = time.monotonic() if started is None else started
    base = f"http://127.0.0.1:{port}"
    healthy = None
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < limit:
            try:
                if healthy is None:
                    async with http.get(f"{base}/readyz") as response:
                        if response.status != 200:
                            raise ConnectionError
                    healthy = time.monotonic() - started
                async with http.post(f"{base}/api/conversations", json={}) as response:
                    conversation = await response.json()
                url = f"{base}/api/conversations/{conversation['conversation_id']}/ws"
                async with http.ws_connect(url) as ws:
                    await ws.send_json({"type": "hello", "token": conversation["token"]})
                    await ws.send_json({"type": "message", "client_msg_id": "c1", "text": "hi"})
                    while True:
                        frame = await ws.receive_json(timeout=30)
                        if frame.get("role") == "bot":
                            return healthy, time.monotonic() - started
                        if frame.get("role") == "system" or frame.get("type") == "error":
                            break  # not ready after all: try again
            except (aiohttp.ClientError, OSError, ConnectionError, TimeoutError, KeyError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no answer through the service after {limit:.0f} s")


def copy_checkout(model: Path, into: Path) -> Path:
    """What a fresh clone with `make setup` done holds: the code and data, the two venvs
    (linked), and the trained model (linked); the run command writes .env and var/ there."""
    tree = into / "checkout"
    tree.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in NOT_COPIED or entry.name.endswith("_cache"):
            continue
        if entry.name.startswith(".venv-"):
            (tree / entry.name).symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, tree / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, tree / entry.name)
    (tree / "models").mkdir()
    (tree / "models" / model.name).symlink_to(model)
    return tree


def cold_start(model: Path, runs: int) -> list[dict[str, Any]]:
    """From launching the run command to the bot's first answer through the service."""
    from bot.ops import launcher

    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    results = []
    try:
        tree = copy_checkout(model, work)
        if not launcher.model_path(tree).exists():  # someone changed the data meanwhile
            print("  (training data changed meanwhile: training the copy's model first, untimed)")
            subprocess.run(
                [str(tree / ".venv-bot" / "bin" / "python"), "-m", "bot.ops.launcher", "train"],
                cwd=tree,
                env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                check=True,
                capture_output=True,
            )
        for run in range(runs):
            var = work / f"var{run}"
            var.mkdir()
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
            env |= bench_environment(var) | {"RASA_TELEMETRY_ENABLED": "false"}
            log = (work / f"run{run}.log").open("wb")
            started = time.monotonic()
            process = subprocess.Popen(
                [str(tree / ".venv-bot" / "bin" / "python"), "-m", "bot.ops.launcher", "run"],
                cwd=tree,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            family: set[int] = set()
            try:
                healthy, answered = asyncio.run(first_answer(int(env["BOT_PORT"]), 180, started))
                family = set(descendants(process.pid))
                results.append(
                    {
                        "run": run + 1,
                        "healthy_s": round(healthy, 1),
                        "first_answer_s": round(answered, 1),
                    }
                )
                print(f"  cold start {run + 1}: first answer after {answered:.1f} s")
            finally:
                family |= set(descendants(process.pid))
                stop_tree(process, family)
                log.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def stop_tree(process: subprocess.Popen[bytes], family: set[int]) -> None:
    """SIGTERM to the launcher (it stops its three services), then kill whatever is left."""
    groups = set()
    for pid in family:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            groups.add(os.getpgid(pid))
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    for group in groups:  # the launcher's own group and each service's (new sessions)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    left = [pid for pid in family if _stat(pid) is not None and not _zombie(pid)]
    if left:
        print(f"  warning: processes still running after the cold start: {left}")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


# --- report ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _errors(errors: dict[str, int], causes: dict[str, int] | None = None) -> str:
    """Errors by kind; bot_unavailable with its causes from the service's log."""
    shown = []
    for kind, n in sorted(errors.items()):
        why = ", ".join(f"{c} {k}" for c, k in sorted((causes or {}).items(), key=lambda i: -i[1]))
        shown.append(f"{kind} {n} ({why})" if kind == "bot_unavailable" and why else f"{kind} {n}")
    return ", ".join(shown) or "0"


def level_table(part: dict[str, Any]) -> list[str]:
    """One set-up's levels: a row per level and route, then the service/direct ratios."""
    out = [
        "| conversations | route | answered | msgs/s | median | p95 | p99 | errors "
        "| RSS MB actions / rasa / bot | CPU % actions / rasa / bot / load / other "
        "| Rasa CPU per message |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    idle = part.get("idle")
    if idle:
        rss = idle["rss_mb"]
        out.append(
            f"| 0 (idle) | | | | | | | | {rss['actions']:.0f} / {rss['rasa']:.0f} / "
            f"{rss['bot']:.0f} | | |"
        )
    for level in part["levels"]:
        for row in (level["service"], level["direct"]):
            rss, cpu = row["rss_mb"], row["cpu_pct"]
            bot_rss = f"{rss['bot']:.0f}" if row["route"] == "service" else "(idle)"
            out.append(
                f"| {row['customers']} | {row['route']} | {row['answered']} of {row['sent']} "
                f"| {row['msgs_per_s']:.1f} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} "
                f"| {_ms(row['p99_ms'])} | {_errors(row['errors'], row.get('unavailable_causes'))} "
                f"| {rss['actions']:.0f} / {rss['rasa']:.0f} / {bot_rss} "
                f"| {cpu['actions']:.0f} / {cpu['rasa']:.0f} / {cpu['bot']:.0f} "
                f"/ {cpu['load generator']:.0f} / {cpu['other']:.0f} "
                f"| {_ms(row['cpu_ms_per_msg'].get('rasa'))} |"
            )
    out += [
        "",
        "Through the service over straight to Rasa (the service's overhead; below 1 where the "
        "service's queue in front of Rasa does better than Rasa alone):",
        "",
        "| conversations | median | p95 | p99 | msgs/s | service: message stored and acknowledged "
        "(median) |",
        "|---|---|---|---|---|---|",
    ]
    for level in part["levels"]:
        s, d = level["service"], level["direct"]

        def ratio(key: str, s: dict[str, Any] = s, d: dict[str, Any] = d) -> str:
            return f"{s[key] / d[key]:.2f}x" if s[key] and d[key] else "-"

        out.append(
            f"| {s['customers']} | {ratio('median_ms')} | {ratio('p95_ms')} | {ratio('p99_ms')} "
            f"| {ratio('msgs_per_s')} | {_ms(s['ack_median_ms'])} |"
        )
    return out


def tables(report: dict[str, Any]) -> str:
    out = level_table(report)
    production = report.get("production")
    if production:
        out += [
            "",
            f"**The production set-up**: the service on PostgreSQL, Rasa's tracker store on "
            f"PostgreSQL, the Redis lock store, and {PRODUCTION_WORKERS} Rasa (Sanic) workers, "
            "which the Redis lock store allows (RASA_MAX_IN_FLIGHT as before: 32 did worse, the "
            "two workers sharing the two cores with everything else); "
            "RSS of Rasa is all its workers together; `other` CPU includes PostgreSQL and Redis.",
            "",
            *level_table(production),
        ]
    h = report.get("handoff")
    if h:
        out += [
            "",
            f"Handoff latency ({h['repeats']} handoffs, idle system, one agent's desk open): "
            f"from the customer's message to",
            "",
            "| | median | p95 |",
            "|---|---|---|",
        ]
        for key, label in (
            ("customer_mode", "the customer's handoff frame"),
            ("desk_frame", 'the desk\'s {"type":"queue"} frame'),
            ("desk_listed", "the ticket listed by GET /desk/api/queue"),
        ):
            out.append(f"| {label} | {_ms(h[key]['median_ms'])} | {_ms(h[key]['p95_ms'])} |")
    cold = report.get("cold_start")
    if cold:
        answers = ", ".join(f"{c['first_answer_s']:.1f}" for c in cold)
        healthy = ", ".join(f"{c['healthy_s']:.1f}" for c in cold)
        out += [
            "",
            f"Cold start, `python -m bot.ops.launcher run` to the first answer through the service "
            f"({len(cold)} runs, model trained, fresh database): {answers} s "
            f"(service and Rasa ready by /readyz: {healthy} s).",
        ]
    return "\n".join(out)


def plot(report: dict[str, Any]) -> list[Path]:
    """Runs in the Rasa environment, which has matplotlib (`--plot results/bench_load.json`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    levels = report["levels"]
    x = [level["service"]["customers"] for level in levels]
    colours = {"service": "tab:blue", "direct": "tab:orange"}
    labels = {"service": "through the bot service (websocket)", "direct": "straight to Rasa"}
    written = []

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for route in ("service", "direct"):
        for key, style in (("median_ms", "-o"), ("p95_ms", "--s"), ("p99_ms", ":^")):
            ys = [level[route][key] for level in levels]
            ax.plot(x, ys, style, color=colours[route],
                    label=f"{labels[route]}, {key.split('_')[0]}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(x, [str(v) for v in x])
    ax.set_xlabel("concurrent conversations")
    ax.set_ylabel("answer latency, ms")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    ax.set_title("Answer latency under load (loopback, 2 cores)")
    fig.tight_layout()
    written.append(PLOTS / "load_latency.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.38
    positions = range(len(x))
    for offset, route in ((-width / 2, "service"), (width / 2, "direct")):
        rates = [level[route]["msgs_per_s"] for level in levels]
        errors = [sum(level[route]["errors"].values()) for level in levels]
        bars = ax.bar([p + offset for p in positions], rates, width, color=colours[route],
                      label=labels[route])  # fmt: skip
        for bar, n in zip(bars, errors, strict=True):
            if n:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{n} err",
                        ha="center", va="bottom", fontsize=7, color="tab:red")  # fmt: skip
    ax.set_xticks(list(positions), [str(v) for v in x])
    ax.set_xlabel("concurrent conversations (think time 0.5-1.5 s)")
    ax.set_ylabel("answered messages per second")
    ax.legend(fontsize=8)
    ax.set_title("Throughput (red: errors in the level)")
    fig.tight_layout()
    written.append(PLOTS / "load_throughput.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, colour in (("rasa", "tab:purple"), ("actions", "tab:green"), ("bot", "tab:blue")):
        ax.plot(x, [level["service"]["rss_mb"][name] for level in levels], "-o", color=colour,
                label=f"{name} (service runs)")  # fmt: skip
        if name != "bot":
            ax.plot(x, [level["direct"]["rss_mb"][name] for level in levels], "--", color=colour,
                    label=f"{name} (direct runs)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(x, [str(v) for v in x])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("concurrent conversations")
    ax.set_ylabel("peak RSS, MB")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Memory of each process during each level")
    fig.tight_layout()
    written.append(PLOTS / "load_memory.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written


def analysis(report: dict[str, Any]) -> str:
    """What limits the figures, from the figures."""
    levels = report["levels"]
    rows = [level[route] for level in levels for route in ("service", "direct")]
    direct_cap = max(levels, key=lambda level: level["direct"]["msgs_per_s"])["direct"]
    service_cap = max(levels, key=lambda level: level["service"]["msgs_per_s"])["service"]
    loaded = [r["cpu_ms_per_msg"]["rasa"] for r in rows if r["customers"] >= 10]
    rasa_lo, rasa_hi = min(loaded), max(loaded)
    bot_ms = statistics.median(
        level["service"]["cpu_ms_per_msg"]["bot"]
        for level in levels
        if level["service"]["cpu_ms_per_msg"]
    )
    other = statistics.mean(r["cpu_pct"]["other"] for r in rows)
    top = levels[-1]["service"]
    idle = report["idle"]["rss_mb"]
    unavailable = top["errors"].get("bot_unavailable", 0)
    handed_over = f"{unavailable} customers were" if unavailable else "no customer was"
    text = [
        "**What limits it.** Rasa answers on one Sanic worker: one Python event loop that runs "
        "the NLU, the policies, the tracker store (SQLite, synchronous, inside that loop) and "
        f"waits for each custom action. That is {rasa_lo:.0f}-{rasa_hi:.0f} ms of CPU per message "
        f"here (less through the service, which hands Rasa fewer at once), so one worker answers "
        f"at most some {1000 / rasa_hi:.0f}-{1000 / rasa_lo:.0f} messages a second; measured, "
        f"{direct_cap['msgs_per_s']:.1f}/s straight to Rasa ({direct_cap['customers']} "
        f"conversations) and {service_cap['msgs_per_s']:.1f}/s through the service "
        f"({service_cap['customers']}). With about 1 s of thinking per customer that is reached "
        "near as many conversations as messages per second; past it, answers queue. At "
        f"{top['customers']} conversations an answer through the service took "
        f"{_ms(top['median_ms'])} (median), and {handed_over} handed to a person because the "
        "bot could not answer within RASA_TIMEOUT_SECONDS (`bot_unavailable`: by design, rather "
        "than leave them waiting). "
        "The service queues customer messages in front of Rasa (RASA_MAX_IN_FLIGHT), so Rasa "
        "works at its full rate and not on messages the service gave up on. The in-memory lock "
        "store allows only that one worker (Rasa refuses more without the Redis lock store).",
        "",
        f"The service itself costs about {bot_ms:.0f} ms of CPU per message (the message and the "
        "answer stored with two durable SQLite commits, about a dozen SQL statements, most of the "
        "time in SQLAlchemy's ORM), on the same 2 cores as Rasa, the action server and the load "
        "generator: at low load that is the gap between the two routes. Memory stays flat: "
        f"Rasa {idle['rasa']:.0f} MB idle (the model), the action server {idle['actions']:.0f} "
        f"MB, the service {idle['bot']:.0f} MB idle and {top['rss_mb']['bot']:.0f} MB with "
        f"{top['customers']} conversations' sockets.",
    ]
    direct_top = levels[-1]["direct"]
    lost = {r: 1 - levels[-1][r]["answered"] / max(1, levels[-1][r]["sent"]) for r in ROUTES}
    if lost["direct"] > 0.02:
        text += [
            "",
            f"The percentiles are over answered messages. At {direct_top['customers']} "
            f"conversations straight to Rasa {100 * lost['direct']:.0f}% of the messages got no "
            "answer within 10 s: Rasa serves concurrent requests unevenly, some fast, some never, "
            "and the unanswered ones, the slowest, are not in its percentiles; through the service "
            + (f"{100 * lost['service']:.0f}% were not answered" if lost["service"] else "all were")
            + ", and everyone waits alike, first come first served. Compare the two there by "
            "messages answered per second.",
        ]
    production = report.get("production")
    if production:
        p_levels = production["levels"]
        p_direct = max(p_levels, key=lambda level: level["direct"]["msgs_per_s"])["direct"]
        p_service = max(p_levels, key=lambda level: level["service"]["msgs_per_s"])["service"]
        p_other = statistics.mean(
            level[route]["cpu_pct"]["other"] for level in p_levels for route in ROUTES
        )
        text += [
            "",
            f"With {PRODUCTION_WORKERS} Rasa workers (the Redis lock store; PostgreSQL for the "
            f"service and the tracker store) Rasa alone answered up to "
            f"{p_direct['msgs_per_s']:.1f}/s ({p_direct['customers']} conversations; one worker: "
            f"{direct_cap['msgs_per_s']:.1f}/s) and the service up to "
            f"{p_service['msgs_per_s']:.1f}/s ({p_service['customers']}), the service then using "
            f"{p_service['cpu_pct']['bot']:.0f}% of a core of the two that everything shares "
            f"(other work: {p_other:.0f}% of a core during these levels). "
            f"Each worker holds its own model: {production['idle']['rss_mb']['rasa']:.0f} MB for "
            "Rasa in all.",
        ]
    if other > 20:
        text += [
            "",
            f"Other work on this shared machine used {other:.0f}% of a core on average during "
            "the levels (the `other` CPU column), which slows every figure here; on a quiet "
            "machine latencies are lower and the capacity higher.",
        ]
    return "\n".join(text)


def write_docs(report: dict[str, Any], plots: list[Path], notes: str) -> None:
    levels = ", ".join(str(level["service"]["customers"]) for level in report["levels"])
    body = [
        BEGIN,
        "## Latency and load",
        "",
        f"`make bench-load`, {time.strftime('%Y-%m-%d')}, {report['seconds']:.0f} s in all on "
        f"{os.cpu_count()} cores, model `{report['model']}`. The real action server, Rasa server "
        f"and bot service on loopback (SQLite for the service and Rasa's tracker store, Rasa's "
        f"in-memory lock store, as `make run` starts them), and the load generator, all on the "
        f"same machine. {levels} simulated customers for {report['level_seconds']:.0f} s each: "
        "held-out NLU texts, think time 0.5-1.5 s after each answer, a new conversation after a "
        "handoff or 3-8 messages; then the same straight to Rasa's REST channel. Latency is from "
        "sending to the answer (the bot's message, or the handoff), over answered messages; "
        "errors are not in it. RSS is the peak during the level, CPU the share of one core "
        f"(200% is both). Errors: no answer within {ANSWER_TIMEOUT:.0f} s (service) or "
        f"{RASA_TIMEOUT:.0f} s (direct, the service's own Rasa timeout) is `timeout`; "
        "`bot_unavailable` is the service handing the customer to a person because Rasa did not "
        f"answer within {RASA_TIMEOUT:.0f} s.",
        "",
        tables(report),
        "",
    ]
    body += [f"![{p.stem}](benchmarks/{p.name})" for p in plots]
    if notes:
        body += ["", notes]
    body += ["", END]
    section = "\n".join(body)
    text = (
        DOCS.read_text()
        if DOCS.exists()
        else (
            "# Benchmarks\n\nFigures measured on this project's 2-core machine by `make bench`; "
            "each section is rewritten by the target that measures it. Benchmarks print figures; "
            "they do not pass or fail.\n"
        )
    )
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


# --- main -----------------------------------------------------------------------------------


async def measure(
    settings: Any,
    pids: dict[str, int],
    args: argparse.Namespace,
    env: dict[str, str],
    bot_log: Path,
    levels: list[int],
    handoffs: int,
) -> dict[str, Any]:
    texts = held_out_texts()
    report: dict[str, Any] = {}
    sampler = Sampler(pids)
    sampler.start()
    await asyncio.sleep(1)
    report["idle"] = await sampler.stop()
    if handoffs:
        create_desk_user(env)
        report["handoff"] = await handoff_latency(settings.port, handoffs)
        h = report["handoff"]
        print(
            f"  handoff: desk frame median {_ms(h['desk_frame']['median_ms'])}, "
            f"listed median {_ms(h['desk_listed']['median_ms'])}"
        )
    report["levels"] = []
    for n, customers in enumerate(levels):
        level = {}
        for route in ("service", "direct"):
            result = await run_level(
                route, customers, args.seconds, settings, pids, texts, args.seed + n, bot_log
            )
            level[route] = result
            print(
                f"  {customers:4} {route:8} {result['answered']:5} answered, "
                f"{result['msgs_per_s']:6.1f}/s, median {_ms(result['median_ms'])}, "
                f"p95 {_ms(result['p95_ms'])}, p99 {_ms(result['p99_ms'])}, "
                f"errors {_errors(result['errors'])}",
                flush=True,
            )
        report["levels"].append(level)
    return report


def run_stack(
    model: Path,
    args: argparse.Namespace,
    levels: list[int],
    handoffs: int,
    production: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start the three processes on free ports, measure, stop them."""
    from bot.ops import launcher
    from bot.settings import load_settings

    var = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = bench_environment(var) | (production or {})
    settings = load_settings(env, dotenv=False)
    services = launcher.services(settings, model)
    if args.stock_rasa:
        rasa = next(s for s in services if s.name == "rasa")
        rasa.command = [str(launcher.RASA_BIN / "rasa"), *rasa.command[rasa.command.index("run") :]]
    what = "PostgreSQL, Redis lock store, 2 Rasa workers" if production else "SQLite"
    print(f"Starting the action server, the Rasa server and the bot service ({what}) ...")
    try:
        launcher.start(services, settings, timeout=300, env_overrides=env, logs=var / "log")
        pids = {s.name: s.process.pid for s in services if s.process is not None}
        asyncio.run(first_answer(settings.port, 60))  # warm: the first parse loads lazily
        bot_log = var / "log" / "bot.log"
        return asyncio.run(measure(settings, pids, args, env, bot_log, levels, handoffs))
    finally:
        launcher.stop(services)
        shutil.rmtree(var, ignore_errors=True)


def production_stores() -> tuple[dict[str, str], Any] | None:
    """Fresh PostgreSQL databases (the service's, Rasa's tracker store), the Redis lock store
    and two Rasa workers, as in production; None when TEST_POSTGRES_URL or TEST_REDIS_URL is
    not set or not reachable (as for the end-to-end tests). Returns the settings and a function
    that drops the databases."""
    from urllib.parse import urlsplit, urlunsplit

    postgres, redis = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not postgres or not redis:
        print("TEST_POSTGRES_URL or TEST_REDIS_URL not set: the production set-up is skipped")
        return None
    import asyncpg

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(postgres, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    names = (f"{name}_service", f"{name}_tracker")
    try:
        for database in names:
            asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    except (OSError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL at TEST_POSTGRES_URL unavailable ({error}): production set-up skipped")
        return None

    def url(database: str, scheme: str) -> str:
        return urlunsplit(urlsplit(postgres)._replace(scheme=scheme, path=f"/{database}"))

    def drop() -> None:
        for database in names:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))

    redis_parts = urlsplit(redis)
    env = {
        "DATABASE_URL": url(names[0], "postgresql+asyncpg"),
        "RASA_TRACKER_STORE_URL": url(names[1], "postgresql"),
        "RASA_LOCK_STORE_TYPE": "redis",
        "RASA_LOCK_STORE_REDIS_HOST": redis_parts.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_REDIS_PORT": str(redis_parts.port or 6379),
        "SANIC_WORKERS": str(PRODUCTION_WORKERS),
    }
    return env, drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--seconds", type=float, default=30, help="per level and route")
    parser.add_argument("--handoffs", type=int, default=20, help="handoff latency repeats")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument(
        "--stock-rasa",
        action="store_true",
        help="start Rasa with plain `rasa run`, without actions/nlu/rasa_run.py's fix (to compare)",
    )
    parser.add_argument(
        "--production-levels",
        type=int,
        nargs="*",
        default=list(PRODUCTION_LEVELS),
        help="levels for the production set-up (PostgreSQL, Redis, 2 Rasa workers; none: skip)",
    )
    parser.add_argument("--plot", type=Path, help=argparse.SUPPRESS)  # the Rasa venv draws
    args = parser.parse_args()
    if args.plot:
        for path in plot(json.loads(args.plot.read_text())):
            print(f"wrote {path.relative_to(ROOT)}")
        return

    from bot.ops import launcher

    began = time.monotonic()
    model = launcher.train_if_changed()
    report: dict[str, Any] = {"model": model.name, "level_seconds": args.seconds}
    if args.cold_starts:
        print(f"Cold start, {args.cold_starts} runs of `python -m bot.ops.launcher run` ...")
        report["cold_start"] = cold_start(model, args.cold_starts)
    report["stock_rasa"] = args.stock_rasa
    report |= run_stack(model, args, args.levels, args.handoffs)
    if args.production_levels and (stores := production_stores()) is not None:
        env, drop = stores
        try:
            report["production"] = run_stack(model, args, args.production_levels, 0, env)
        finally:
            drop()
    report["seconds"] = time.monotonic() - began
    print()
    print(tables(report))
    print(f"({report['seconds']:.0f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    if not args.no_docs:
        drawn = subprocess.run(
            [str(RASA_PY), "-m", "tests.bench.load", "--plot", str(RESULTS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        plots = [ROOT / line.removeprefix("wrote ") for line in drawn.stdout.splitlines()]
        if drawn.returncode:
            print(f"plots failed:\n{drawn.stderr[-2000:]}", file=sys.stderr)
            plots = []
        write_docs(report, plots, analysis(report))
        print(f"wrote {DOCS.relative_to(ROOT)} and its plots in {PLOTS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
