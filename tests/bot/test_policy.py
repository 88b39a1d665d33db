"""The service's part of policy.yml: validated at start-up, errors naming file, key, expectation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.policy import PolicyError, load_service_policy
from bot.settings import ROOT


def write(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load((ROOT / "policy.yml").read_text())
    change(data)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_shipped_policy_loads() -> None:
    policy = load_service_policy(ROOT / "policy.yml")
    assert policy.authority["agent"]["credit"].per_conversation > 0
    assert "resolved" in policy.desk.wrap_ups and policy.desk.canned_replies


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["desk"]["hours"].update(timezone="Mars/Olympus"),
         "'desk.hours.timezone': expected an IANA time zone"),
        (lambda d: d["desk"]["hours"]["weekly"].update(mon="9-5"), "'desk.hours.weekly.mon'"),
        (lambda d: d["desk"]["hours"]["weekly"].update(tue="18:00-09:00"),
         "opening before closing"),
        (lambda d: d["desk"]["hours"]["weekly"].pop("sun"), "'desk.hours.weekly': expected each"),
        (lambda d: d["desk"]["hours"].update(closed_dates=["25/12/2026"]), "YYYY-MM-DD"),
        (lambda d: d["desk"].update(teams=[]), "'desk.teams'"),
        (lambda d: d["desk"].update(default_handle_minutes=0), "'desk.default_handle_minutes'"),
        (lambda d: d["desk"]["canned_replies"].append({"id": "looking", "title": "x", "text": "y"}),
         "two replies share an id"),
        (lambda d: d["desk"]["canned_replies"].append({"id": "x", "title": "x"}),
         "'desk.canned_replies[8].text'"),
        (lambda d: d["service_messages"].pop("out_of_hours"), "'service_messages.out_of_hours'"),
        (lambda d: d["authority"]["roles"]["agent"]["credit"].update(per_day=100),
         "per_conversation is more than per_day"),
        (lambda d: d["authority"]["roles"].pop("senior"), "'authority.roles': expected exactly"),
        (lambda d: d["authority"].update(audit_threshold_cents=2.5), "whole number of cents"),
    ],
)  # fmt: skip
def test_a_broken_policy_names_the_file_and_key(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path, change)
    with pytest.raises(PolicyError) as error:
        load_service_policy(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    ("moment", "open_now"),
    [
        (datetime(2026, 12, 2, 12, 0, tzinfo=UTC), True),  # 7:00 in New York: opening time
        (datetime(2026, 12, 2, 11, 59, tzinfo=UTC), False),  # 6:59
        (datetime(2026, 12, 3, 3, 59, tzinfo=UTC), True),  # 22:59
        (datetime(2026, 12, 3, 4, 0, tzinfo=UTC), False),  # 23:00: closed
        (datetime(2026, 12, 25, 17, 0, tzinfo=UTC), False),  # Christmas Day
        (datetime(2026, 7, 1, 11, 30, tzinfo=UTC), True),  # 7:30 summer time (UTC-4)
    ],
)
def test_opening_hours_follow_the_desks_time_zone(moment: datetime, open_now: bool) -> None:
    hours = load_service_policy(ROOT / "policy.yml").desk.hours
    assert hours.open_at(moment) is open_now


def test_a_day_can_run_to_midnight_or_be_closed(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["desk"]["hours"]["weekly"].update(wed="00:00-24:00", thu="closed")

    hours = load_service_policy(write(tmp_path, change)).desk.hours
    assert hours.open_at(datetime(2026, 12, 3, 4, 59, tzinfo=UTC))  # Wed 23:59 in New York
    assert not hours.open_at(datetime(2026, 12, 3, 17, 0, tzinfo=UTC))  # Thursday noon
