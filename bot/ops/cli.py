"""`python -m bot`: serve. Also: `migrate`, `seed-demo`, `users create ...`, `users deactivate ...`,
`users unlock ...`,
`customer-token CUSTOMER_ID` (what the shop's site signs for a signed-in customer)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from actions.handoff.policy import PolicyError
from bot.app import create_app
from bot.channel import identity
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import utcnow
from bot.designer import cli as designer_cli
from bot.designer.nlu_files import LabelError
from bot.desk.staff import StaffError, create_user, deactivate, unlock, user_named
from bot.errors import ServiceError
from bot.ops import logs
from bot.ops.demo import seed
from bot.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on an up-to-date schema."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


async def _nothing(session: AsyncSession) -> None:
    return None


def _create_user(settings: Settings, args: argparse.Namespace, password: str) -> None:
    user = asyncio.run(
        _in_transaction(
            settings,
            lambda session: create_user(
                session,
                username=args.username,
                display_name=args.name or args.username,
                role=args.role,
                password=password,
                max_concurrent=args.max_concurrent,
                team=args.team,
                languages=tuple(code.strip() for code in args.languages.split(",")),
            ),
        )
    )
    print(f"Created {user.role} {user.username!r} ({user.display_name}).")


def _deactivate(settings: Settings, username: str) -> None:
    user, released = asyncio.run(
        _in_transaction(settings, lambda session: deactivate(session, username, utcnow()))
    )
    print(
        f"Deactivated {user.username!r}: signed out everywhere; "
        f"{len(released)} conversation(s) returned to the queue."
    )


async def _unlock(session: AsyncSession, username: str) -> int:
    if await user_named(session, username) is None:
        raise StaffError(f"there is no desk user {username!r}")
    return await unlock(session, username)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (12+ characters): ")
    if first != getpass.getpass("Again: "):
        raise StaffError("the two passwords differ")
    return first


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("seed-demo", help="add demo customers, orders and Autoships if none exist")
    users = commands.add_parser("users", help="desk accounts").add_subparsers(dest="action")
    create = users.add_parser("create", help="create a desk account")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--role", required=True, choices=["agent", "senior", "supervisor", "designer"]
    )
    create.add_argument("--name", help="the name customers and colleagues see")
    create.add_argument("--max-concurrent", type=int, default=3)
    create.add_argument("--team", help="a team from policy.yml desk.teams, for transfers")
    create.add_argument(
        "--languages",
        default="en",
        help="the languages they speak with customers, e.g. en,vi (en, vi, id, zh)",
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    gone = users.add_parser(
        "deactivate", help="sign a desk user out everywhere; their conversations are requeued"
    )
    gone.add_argument("--username", required=True)
    unlocked = users.add_parser(
        "unlock", help="forget a desk user's failed sign-ins, so they may try again at once"
    )
    unlocked.add_argument("--username", required=True)
    token = commands.add_parser(
        "customer-token", help="sign a customer id as the shop's site would (for testing)"
    )
    token.add_argument("customer_id")
    designer_cli.add_parser(commands)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format=logs.TEXT_FORMAT)  # until settings say
    try:
        settings = load_settings()
        logs.configure(settings)
        if args.command == "migrate":
            asyncio.run(_in_transaction(settings, _nothing))  # upgrading the schema is the work
            print("Database schema is up to date.")
        elif args.command == "seed-demo":
            added = asyncio.run(_in_transaction(settings, seed))
            print("Added demo customers." if added else "Customers exist already: nothing added.")
        elif args.command == "users" and args.action == "create":
            _create_user(settings, args, _password(args.password_stdin))
        elif args.command == "users" and args.action == "deactivate":
            _deactivate(settings, args.username)
        elif args.command == "users" and args.action == "unlock":
            forgotten = asyncio.run(
                _in_transaction(settings, lambda session: _unlock(session, args.username))
            )
            print(f"Unlocked {args.username!r}: {forgotten} failed sign-in(s) forgotten.")
        elif args.command == "designer":
            asyncio.run(designer_cli.run(settings, args))
        elif args.command == "customer-token":
            print(identity.sign(settings.customer_identity_secret, args.customer_id))
        elif args.command is None:
            web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
        else:
            parser.print_help()
            return 2
    except (
        SettingsError,
        PolicyError,
        StaffError,
        ServiceError,
        LabelError,
        identity.InvalidIdentity,
    ) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    return 0
