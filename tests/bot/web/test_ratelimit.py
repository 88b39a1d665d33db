from __future__ import annotations

from bot.web.ratelimit import OpenSockets, RateLimiter


def test_limit_per_key_per_window() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # other keys are counted apart
    now[0] = 30
    assert not limiter.allow("a") and limiter.retry_after("a") == 31
    now[0] = 60
    assert limiter.allow("a")  # a new window


def test_old_keys_are_forgotten() -> None:
    now = [0.0]
    limiter = RateLimiter(1, 10, clock=lambda: now[0])
    for i in range(10_001):
        limiter.allow(f"k{i}")
    now[0] = 20
    limiter.allow("fresh")
    assert len(limiter._counts) < 10


def test_open_sockets_are_counted_within_the_cap_and_freed_on_leaving() -> None:
    sockets = OpenSockets(2)
    assert [sockets.enter("a") for _ in range(3)] == [True, True, False]
    assert sockets.enter("b")  # other keys are counted apart
    sockets.leave("a")
    assert sockets.enter("a") and not sockets.enter("a")
    for _ in range(2):
        sockets.leave("a")
    sockets.leave("b")
    assert not sockets._open  # nothing kept for keys with no socket open
