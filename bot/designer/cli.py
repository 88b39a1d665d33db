"""`python -m bot designer ...`: the designer's loop from the command line.

inbox [--days N]                       messages worth a look, with their reasons
groups [--days N]                      the same, grouped, largest first
label --as USER --group ID (--intent NAME | --out-of-scope |
      --new-topic NAME --answer TEXT --file faq_x.yml [--heldout TEXT ...])
undo --as USER LABEL_ID
retrain --as USER                      validate, train, evaluate; prints the before/after
promote --as USER RUN_ID               the running Rasa server switches to the candidate
insights [--days N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from sqlalchemy import select

from actions.handoff.policy import Policy, load_policy
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import TrainingRun, TrainingStatus, User, utcnow
from bot.designer import figures, insights, labels, loop
from bot.desk.staff import StaffError
from bot.settings import Settings


def add_parser(commands: Any) -> None:
    designer = commands.add_parser("designer", help="review, label, retrain, promote")
    actions = designer.add_subparsers(dest="action", required=True)
    for name in ("inbox", "groups", "insights"):
        actions.add_parser(name).add_argument("--days", type=int, default=7)
    label = actions.add_parser("label")
    label.add_argument("--as", dest="username", required=True)
    label.add_argument("--group", required=True, help="a group id from `groups`")
    label.add_argument("--days", type=int, default=7)
    what = label.add_mutually_exclusive_group(required=True)
    what.add_argument("--intent")
    what.add_argument("--out-of-scope", action="store_true")
    what.add_argument("--new-topic")
    label.add_argument("--answer")
    label.add_argument("--file")
    label.add_argument("--examples", nargs="*", default=[], help="more training phrasings")
    label.add_argument("--heldout", nargs="*", default=[], help="held-out phrasings")
    for name in ("undo", "promote"):
        one = actions.add_parser(name)
        one.add_argument("--as", dest="username", required=True)
        one.add_argument("id", type=int)
    actions.add_parser("retrain").add_argument("--as", dest="username", required=True)


@asynccontextmanager
async def _designer(settings: Settings) -> AsyncIterator[tuple[loop.Designer, Policy]]:
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    policy = load_policy(settings.policy_file)
    try:
        async with aiohttp.ClientSession(settings.rasa_url) as http:
            designer = loop.build(settings, session_factory(engine), http, policy)
            try:
                yield designer, policy
            finally:
                await designer.close()
    finally:
        await engine.dispose()


async def _user(designer: loop.Designer, username: str) -> User:
    async with designer.sessions() as session:
        user = await session.scalar(select(User).filter_by(username=username, active=True))
    if user is None or user.role not in ("designer", "supervisor"):
        raise StaffError(f"{username!r} is not an active designer or supervisor")
    return user


def _print_groups(groups: list[dict[str, Any]]) -> None:
    for group in groups:
        reasons = ", ".join(f"{k} {v}" for k, v in group["reasons"].items())
        print(f"{group['id']}  {group['size']:3} messages  ({reasons})")
        for item in group["items"][:5]:
            print(f"      {item['text'][:90]}")


async def run(settings: Settings, args: argparse.Namespace) -> None:
    async with _designer(settings) as (designer, policy):
        period = figures.last_days(getattr(args, "days", 7), utcnow(), policy.desk.hours.timezone)
        since, until = period.since, period.until
        if args.action == "inbox":
            for item in await loop.items(designer, since, until):
                print(f"{item.at[:16]}  {', '.join(item.reasons):30}  {item.text[:80]}")
        elif args.action == "groups":
            _print_groups(loop.grouped(await loop.items(designer, since, until)))
        elif args.action == "insights":
            items = await loop.items(designer, since, until)
            async with designer.sessions() as session:
                body = await insights.period(session, period, items)
            body["inbox"] = figures.inbox_figures(items, loop.grouped(items))
            print(json.dumps(body, indent=2))
        elif args.action == "label":
            user = await _user(designer, args.username)
            groups = {g["id"]: g for g in loop.grouped(await loop.items(designer, since, until))}
            if args.group not in groups:
                raise StaffError(f"there is no group {args.group!r} in the last {args.days} days")
            chosen = groups[args.group]["items"]
            kind = (
                "new_topic" if args.new_topic else "out_of_scope" if args.out_of_scope else "intent"
            )
            wanted = labels.LabelRequest(
                kind,
                [i["text"] for i in chosen],
                intent=args.intent,
                topic=args.new_topic,
                answer=args.answer,
                file=args.file,
                examples=args.examples,
                heldout=args.heldout,
            )
            made = await loop.label(designer, user, wanted, [i["key"] for i in chosen])
            record = made.record
            print(
                f"Label {made.id}: {len(record['training'])} to {record['train_file']}, "
                f"{len(record['heldout'])} held out, {len(record['skipped'])} already known."
            )
        elif args.action == "undo":
            await _user(designer, args.username)
            await loop.undo(designer, args.id)
            print(f"Label {args.id} undone.")
        elif args.action == "retrain":
            await _retrain(designer, await _user(designer, args.username))
        elif args.action == "promote":
            run = await designer.trainer.promote(args.id, await _user(designer, args.username))
            print(f"Run {run.id} promoted: Rasa now answers with {run.candidate}.")


async def _retrain(designer: loop.Designer, user: User) -> None:
    started = await designer.trainer.start(user)
    step = ""
    while True:
        await asyncio.sleep(0.5)
        async with designer.sessions() as session:
            run = await session.get(TrainingRun, started.id)
        assert run is not None
        if run.step != step:
            step = run.step
            print(f"[{run.progress:3}%] {step}", flush=True)
        if run.status != TrainingStatus.RUNNING:
            break
    if run.status == TrainingStatus.FAILED:
        raise StaffError(f"run {run.id} failed: {run.error}")
    comparison = (run.report or {})["comparison"]
    print(f"\nRun {run.id}: the candidate is {comparison['verdict'].upper()} than {run.current}")
    for row in comparison["headline"]:
        print(f"  {row['measure']:26} {row['current']:8.3f} -> {row['candidate']:8.3f}")
    for line in comparison["worse"] + comparison["better"]:
        print(f"  - {line}")
    print(f"Promote with: python -m bot designer promote --as {user.username} {run.id}")
