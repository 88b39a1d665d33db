"""The designer's units of work, shared by the API (views.py) and the command line (cli.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actions.handoff.policy import Policy
from bot.db.models import Label, LabelledMessage, LabelStatus, User
from bot.designer import groups as grouping
from bot.designer import inbox, labels
from bot.designer.nlu_files import LabelConflict, Project
from bot.designer.training import Trainer
from bot.errors import Conflict
from bot.settings import Settings


@dataclass
class Designer:
    project: Project
    trainer: Trainer
    tracker: AsyncEngine | None
    sessions: async_sessionmaker[AsyncSession]
    policy: Policy  # the inbox shows what fell below the gate's understanding thresholds
    # one label (or undo) at a time reads, writes and commits, so two cannot both start from the
    # same files and the second write lose the first one's lines
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def close(self) -> None:
        await self.trainer.drain()
        if self.tracker is not None:
            await self.tracker.dispose()


def build(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    policy: Policy,
    notify: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> Designer:
    """The designer of the service (app.py) and of the command line (cli.py); close() it."""
    return Designer(
        project=Project(settings.designer_project),
        trainer=Trainer(
            sessions,
            http,
            settings.rasa_jwt_secret,
            settings.designer_project,
            settings.rasa_venv / "bin",
            notify=notify,
        ),
        tracker=inbox.tracker_engine(settings.rasa_tracker_store_url),
        sessions=sessions,
        policy=policy,
    )


async def items(designer: Designer, since: datetime, until: datetime) -> list[inbox.Item]:
    async with designer.sessions() as session:
        return await inbox.collect(session, designer.tracker, designer.policy, since, until)


def _one_language_per_message(found: list[inbox.Item]) -> None:
    """The same message (`duplicate_key`) told apart as two languages (the detector's guess in
    one conversation, the conversation's language in another) is one message: all its copies
    take the language most of them have (a tie: the first one's)."""
    seen: dict[str, Counter[str]] = {}
    for item in found:
        seen.setdefault(grouping.duplicate_key(item.text), Counter())[item.language] += 1
    for item in found:
        item.language = seen[grouping.duplicate_key(item.text)].most_common(1)[0][0]


def grouped(found: list[inbox.Item]) -> list[dict[str, Any]]:
    """Groups of similar messages, each within one language (a label writes into one
    language's files), largest first; copies of one message are always in one group."""
    body = []
    _one_language_per_message(found)
    by_language: dict[str, list[inbox.Item]] = {}
    for item in found:
        by_language.setdefault(item.language, []).append(item)
    groups = [
        [items[m] for m in group.members]
        for items in by_language.values()
        for group in grouping.group([i.text for i in items])
    ]
    for members in sorted(groups, key=lambda g: -len(g)):
        intents = Counter(m.intent for m in members if m.intent)
        causes = Counter(m.cause for m in members if m.cause)
        cause, cause_count = causes.most_common(1)[0] if causes else (None, 0)
        body.append(
            {
                "id": grouping.group_id(members[0].text),
                "size": len(members),
                "language": members[0].language,
                "reasons": dict(Counter(r for m in members for r in m.reasons).most_common()),
                "likely_intent": intents.most_common(1)[0][0] if intents else None,
                # what made the bot unsure, for the most of its members that say so
                "why": {"cause": cause, "text": inbox.CAUSES[cause], "messages": cause_count}
                if cause
                else None,
                "items": [m.as_dict() for m in members],
            }
        )
    return body


async def label(
    designer: Designer, user: User, wanted: labels.LabelRequest, keys: list[str]
) -> Label:
    """Write the label into the files and remember it; all of it or (on any error) none.
    A request that is wrong raises LabelError; one that clashes with the data, Conflict."""
    async with designer.writing:
        try:
            planned = labels.plan(designer.project, wanted)
        except LabelConflict as error:
            raise Conflict(str(error)) from None
        record = planned.record(designer.project)
        async with designer.sessions() as session:
            made = Label(author_id=user.id, kind=wanted.kind, intent=planned.intent, record=record)
            session.add(made)
            try:
                await session.flush()
                session.add_all(LabelledMessage(key=key, label_id=made.id) for key in set(keys))
                await session.flush()
            except IntegrityError:
                raise Conflict("some of these messages were labelled already") from None
            # the files only once the rows are in place; all of them or none
            written = labels.apply(designer.project, planned)
            try:
                await session.commit()
            except BaseException:
                written.restore()  # nothing half-done: no row, no lines
                raise
    return made


async def undo(designer: Designer, label_id: int) -> Label:
    """Take the label's lines out and mark it undone; all of it or (on any error) none."""
    async with designer.writing, designer.sessions() as session:
        found = await session.get(Label, label_id, with_for_update=True)
        if found is None or found.status != LabelStatus.WRITTEN:
            raise Conflict("only a label not yet promoted can be undone")
        found.status = LabelStatus.UNDONE
        for row in await session.scalars(select(LabelledMessage).filter_by(label_id=found.id)):
            await session.delete(row)
        await session.flush()
        written = labels.undo(designer.project, found.record)
        try:
            await session.commit()
        except BaseException:
            written.restore()  # the label stays written, and so do its lines
            raise
    return found


async def latest_labels(session: AsyncSession, limit: int = 100) -> list[Label]:
    return list(await session.scalars(select(Label).order_by(Label.id.desc()).limit(limit)))
