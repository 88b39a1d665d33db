"""The wait a queued customer is told (bot/channel/positions.py): from the seats online, the
free ones and recent handling times, not one fixed figure."""

from __future__ import annotations

from bot.channel.positions import estimated_wait

SIX_MINUTES = 360


def test_a_free_seat_means_a_minute_or_two_whatever_the_place() -> None:
    assert estimated_wait(1, seats=3, free=3, handle=SIX_MINUTES) == (0, 60, 180)
    assert estimated_wait(3, seats=3, free=3, handle=SIX_MINUTES) == (0, 60, 180)


def test_past_the_free_seats_the_wait_grows_with_the_place_and_shrinks_with_the_seats() -> None:
    one_seat = estimated_wait(3, seats=1, free=0, handle=SIX_MINUTES)
    three_seats = estimated_wait(3, seats=3, free=0, handle=SIX_MINUTES)
    assert one_seat == (540, 1080, 1620)  # three conversations of six minutes, give or take half
    assert three_seats == (180, 360, 540)
    assert estimated_wait(4, seats=3, free=1, handle=SIX_MINUTES) == three_seats


def test_shorter_handling_lately_gives_a_shorter_wait_and_nobody_online_none() -> None:
    assert estimated_wait(2, seats=1, free=0, handle=120) == (120, 240, 360)
    assert estimated_wait(1, seats=0, free=0, handle=SIX_MINUTES) is None
