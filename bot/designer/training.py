"""Retrain in the background: validate, train a candidate, evaluate it beside the serving model,
and promote it only when the designer says so.

Every step runs Rasa's own tools in the Rasa environment as a separate process (the service
never imports Rasa). One run at a time across all replicas (a unique index decides). A failed
validation or training ends the run with the reason; the serving model is untouched until a
promotion, which Rasa performs by loading the new model beside the old one and then switching
(`PUT /model`), so customers keep being answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Label, LabelStatus, TrainingRun, TrainingStatus, User, utcnow
from bot.designer.compare import compare
from bot.errors import Conflict
from bot.ops.launcher import model_path
from bot.rasa import client as rasa_client

log = logging.getLogger(__name__)
OUTPUT_TAIL = 4000
TIMEOUTS = {"validate": 600, "train": 1800, "report": 1800}


class StepFailed(Exception):
    pass


@dataclass
class Trainer:
    sessions: async_sessionmaker[AsyncSession]
    rasa: aiohttp.ClientSession
    rasa_jwt_secret: str
    project: Path
    rasa_bin: Path
    # told about every change of a run (the desk feed, so designer pages update live)
    notify: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def models(self) -> Path:
        return self.project / "models"

    @property
    def candidates(self) -> Path:
        return self.models / "candidates"

    async def start(self, user: User) -> TrainingRun:
        try:
            async with self.sessions.begin() as session:
                run = TrainingRun(started_by=user.id, active=True)
                session.add(run)
                await session.flush()
        except IntegrityError:
            raise Conflict("a training run is in progress; wait for it to finish") from None
        task = asyncio.create_task(self._run(run.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    async def _update(self, run_id: int, **values: Any) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(TrainingRun).where(TrainingRun.id == run_id).values(**values)
            )
        if self.notify:
            await self.notify({"type": "training", "run": run_id, **_jsonable(values)})

    async def _command(self, step: str, *args: str) -> str:
        """Run a Rasa-environment command in the project; StepFailed with its output if it fails."""
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(self.project),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=self.project,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=TIMEOUTS[step])
        except TimeoutError:
            process.kill()
            raise StepFailed(f"{step} took longer than {TIMEOUTS[step]} s") from None
        text = output.decode(errors="replace")
        if process.returncode != 0:
            raise StepFailed(f"{step} failed:\n{text[-OUTPUT_TAIL:]}")
        return text

    async def serving_model(self) -> Path:
        """The model the Rasa server is answering with now."""
        try:
            name = (await rasa_client.status(self.rasa, self.rasa_jwt_secret, 10)).get("model_file")
        except rasa_client.RasaUnavailable:
            name = None
        if not name:
            raise StepFailed("the Rasa server is not answering, so the serving model is unknown")
        for folder in (self.models, self.candidates):
            if (folder / Path(name).name).exists():
                return folder / Path(name).name
        raise StepFailed(f"the serving model {name} is not in {self.models}")

    async def _report(self, model: Path) -> dict[str, Any]:
        """The model's report card, computed once per model file."""
        cache = self.project / "var" / "designer" / f"{model.name}.report.json"
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            await self._command(
                "report",
                str(self.rasa_bin / "python"),
                "-m",
                "tests.model_report",
                "--model",
                str(model),
                "--out",
                str(cache),
            )
        report: dict[str, Any] = json.loads(cache.read_text())
        return report

    async def _run(self, run_id: int) -> None:
        try:
            await self._update(run_id, step="validating the training data", progress=2)
            await self._command(
                "validate", str(self.rasa_bin / "rasa"), "data", "validate", "--fail-on-warnings"
            )
            current = await self.serving_model()
            # the name `make model` would give it, in a folder of its own until promoted
            candidate = self.candidates / model_path(self.project).name
            name = candidate.name.removesuffix(".tar.gz")
            await self._update(
                run_id,
                step="training the candidate",
                progress=10,
                current=current.name,
                candidate=str(candidate),
            )
            if not candidate.exists():
                await self._command(
                    "train",
                    str(self.rasa_bin / "rasa"),
                    "train",
                    "--fixed-model-name",
                    name,
                    "--out",
                    str(candidate.parent),
                )
            await self._update(run_id, step="evaluating the serving model", progress=55)
            before = await self._report(current)
            await self._update(run_id, step="evaluating the candidate", progress=78)
            after = await self._report(candidate)
            report = {"current": before, "candidate": after, "comparison": compare(before, after)}
            await self._update(
                run_id,
                status=TrainingStatus.READY,
                step="ready to review",
                progress=100,
                report=report,
                finished_at=utcnow(),
                active=None,
            )
        except Exception as error:  # the run must end, whatever went wrong, and say why
            if not isinstance(error, StepFailed):
                log.exception("training run %s failed", run_id)
            await self._update(
                run_id,
                status=TrainingStatus.FAILED,
                step="failed",
                error=str(error)[-8000:],
                finished_at=utcnow(),
                active=None,
            )

    async def promote(self, run_id: int, user: User) -> TrainingRun:
        """Serve the candidate: copy it beside the other models, and have Rasa load it."""
        async with self.sessions() as session:
            run = await session.get(TrainingRun, run_id)
        if run is None or run.status != TrainingStatus.READY or not run.candidate:
            raise Conflict("only a finished run that is ready to review can be promoted")
        candidate = Path(run.candidate)
        served = self.models / candidate.name
        if not served.exists():
            temporary = served.with_name(f".{served.name}.tmp")
            shutil.copyfile(candidate, temporary)
            os.replace(temporary, served)  # `make run` finds it there as the current model
        try:
            await rasa_client.load_model(self.rasa, self.rasa_jwt_secret, str(served), 300)
        except rasa_client.RasaUnavailable as error:
            raise Conflict(f"the Rasa server did not load the model: {error}") from None
        async with self.sessions.begin() as session:
            await session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == run_id)
                .values(status=TrainingStatus.PROMOTED, promoted_at=utcnow())
            )
            await session.execute(
                update(Label)
                .where(Label.status == LabelStatus.WRITTEN)
                .values(status=LabelStatus.PROMOTED)
            )
            promoted = await session.get(TrainingRun, run_id, populate_existing=True)
        assert promoted is not None
        log.info("%s promoted model %s", user.username, served.name)
        return promoted

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)


async def recent_runs(session: AsyncSession, limit: int = 20) -> list[TrainingRun]:
    return list(
        await session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit))
    )


async def run_of(session: AsyncSession, run_id: int) -> TrainingRun | None:
    return await session.get(TrainingRun, run_id)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | type(None))}
