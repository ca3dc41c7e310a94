from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.notify.categories import Category
from smartcity.kernel.notify.preferences import Preferences, QuietHours

NIGHT = QuietHours.parse("22:00-07:00")  # Asia/Shanghai, UTC+8


def shanghai(hour: int, minute: int = 0, day: int = 21) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_quiet_hours_cross_midnight_in_local_time() -> None:
    assert NIGHT.contains(shanghai(23))
    assert NIGHT.contains(shanghai(3))
    assert NIGHT.contains(shanghai(22))
    assert not NIGHT.contains(shanghai(7))
    assert not NIGHT.contains(shanghai(12))
    assert str(NIGHT) == "22:00-07:00"


def test_a_message_in_quiet_hours_waits_until_they_end() -> None:
    assert NIGHT.release_time(shanghai(23, 30)) == shanghai(7, day=22)
    assert NIGHT.release_time(shanghai(3)) == shanghai(7)
    assert NIGHT.release_time(shanghai(12)) == shanghai(12)


def test_alerts_ignore_quiet_hours() -> None:
    preferences = Preferences(account_id=1, quiet_hours=NIGHT)
    now = shanghai(23)
    assert preferences.release_time(Category.ALERT, now) == now
    assert preferences.release_time(Category.BILL, now) == shanghai(7, day=22)


@pytest.mark.parametrize(
    "text", ["22:00", "25:00-07:00", "22:00-07:60", "7:00-8:00", "08:00-08:00", "x-y"]
)
def test_bad_quiet_hours_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        QuietHours.parse(text)


def test_unknown_time_zone_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        QuietHours.parse("22:00-07:00", "Mars/Olympus")


@given(
    st.integers(0, 1439),
    st.integers(0, 1439),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_release_time_is_outside_the_window_and_within_a_day(
    start: int, end: int, instant: datetime
) -> None:
    if start == end:
        return
    window = QuietHours(start, end)
    released = window.release_time(instant)
    assert instant <= released < instant + timedelta(days=1)
    assert not window.contains(released)
