"""Desk users, their sign-in sessions and login throttling. Data functions take a session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actions.handoff.policy import LANGUAGES
from bot.conversations.lifecycle import Work
from bot.db.models import DeskSession, LoginAttempt, StaffRole, User, utcnow
from bot.desk.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, verify_password
from bot.desk.queue import release_agent

SESSION_LIFETIME = timedelta(hours=12)
# Failed sign-ins are counted per (username, address) pair, so guessing from one address never
# locks the account for its owner elsewhere, nor everyone behind a shared proxy. After
# FREE_FAILURES, each further try from that pair waits twice as long as the one before, up to
# MAX_DELAY; failures older than THROTTLE_WINDOW are forgotten. `python -m bot users unlock`
# forgets them at once.
THROTTLE_WINDOW = timedelta(hours=1)
FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)


class StaffError(ValueError):
    pass


class Throttled(Exception):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"try again in {retry_after}")
        self.retry_after = retry_after


def throttle_delay(failures: int) -> timedelta:
    """How long a (username, address) pair waits after its last failure, given how many failures
    it has in the window: nothing for the first FREE_FAILURES, then 2 s, 4 s, 8 s ... MAX_DELAY."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doubled: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(doubled, MAX_DELAY)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    max_concurrent: int = 3,
    team: str | None = None,
    languages: tuple[str, ...] = ("en",),
) -> User:
    if role not in set(StaffRole):
        raise StaffError(f"role must be one of {', '.join(StaffRole)}, not {role!r}")
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown or not languages:
        raise StaffError(
            f"languages must be one or more of {', '.join(LANGUAGES)}, not {','.join(languages)!r}"
        )
    if len(password) < MIN_LENGTH:
        raise StaffError(f"the password must have at least {MIN_LENGTH} characters")
    if not username.strip() or len(username) > 64:
        raise StaffError("the username must be 1-64 characters")
    if await session.scalar(select(User).filter_by(username=username)):
        raise StaffError(f"the username {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
        max_concurrent=max_concurrent,
        team=team,
        languages=",".join(dict.fromkeys(languages)),
    )
    session.add(user)
    await session.flush()
    return user


async def sign_in(
    session: AsyncSession,
    username: str,
    password: str,
    address: str,
    now: datetime | None = None,
) -> tuple[User, str, DeskSession] | None:
    """A new session (user, cookie token, session row) or None; raises Throttled while this
    (username, address) pair must wait after repeated failures."""
    now = now or utcnow()
    pair = (LoginAttempt.username == username[:64], LoginAttempt.address == address[:64])
    failures, last = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                *pair, LoginAttempt.at >= now - THROTTLE_WINDOW
            )
        )
    ).one()
    if last is not None:
        wait = last + throttle_delay(failures) - now
        if wait > timedelta(0):
            raise Throttled(wait)
    user = await session.scalar(select(User).filter_by(username=username))
    if not verify_password(password, user.password_hash if user else DUMMY_HASH) or not (
        user and user.active
    ):
        session.add(LoginAttempt(username=username[:64], address=address[:64], at=now))
        return None
    token = secrets.token_urlsafe(32)
    desk_session = DeskSession(
        token_hash=_hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + SESSION_LIFETIME,
    )
    session.add(desk_session)
    await session.execute(delete(LoginAttempt).where(*pair))  # others' guesses still count
    await session.flush()
    return user, token, desk_session


async def session_user(
    session: AsyncSession, token: str, now: datetime | None = None
) -> tuple[User, DeskSession] | None:
    found = await session.get(DeskSession, _hash_token(token))
    if found is None or found.expires_at < (now or utcnow()):
        return None
    user = await session.get(User, found.user_id)
    if user is None or not user.active:
        return None
    return user, found


async def sign_out(session: AsyncSession, token: str) -> None:
    await session.execute(delete(DeskSession).where(DeskSession.token_hash == _hash_token(token)))


async def deactivate(session: AsyncSession, username: str, now: datetime) -> tuple[User, list[str]]:
    """Sign the user out everywhere and return their conversations to the queue; the account is
    kept (grants and events name it) but can no longer sign in."""
    user = await session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise StaffError(f"there is no desk user {username!r}")
    user.active = False
    await session.execute(delete(DeskSession).where(DeskSession.user_id == user.id))
    # run from the command line: no live sockets here to tell, so the frames are not sent
    released = await release_agent(Work(session, now), user)
    return user, released


async def unlock(session: AsyncSession, username: str) -> int:
    """Forget the failed sign-ins for `username` from every address; how many were forgotten."""
    result = await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def user_named(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).filter_by(username=username))
