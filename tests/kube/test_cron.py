"""The cron parser: robfig/cron v3 ParseStandard's accepted forms, error texts and next times."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikube_lite.kube.cron import CronError, CronSchedule, EverySchedule, parse_schedule

UTC = dt.UTC


@pytest.mark.parametrize(("spec", "error"), [
    ("", "empty spec string"),
    ("foo", "expected exactly 5 fields, found 1: [foo]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* 24 * * *", "end of range (24) above maximum (23): 24"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("* * * * 7", "end of range (7) above maximum (6): 7"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("1/2/3 * * * *", "too many slashes: 1/2/3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
])
def test_invalid_schedules_carry_robfigs_message(spec: str, error: str) -> None:
    with pytest.raises(CronError) as info:
        parse_schedule(spec)
    assert str(info.value) == error


@pytest.mark.parametrize(("spec", "after", "expected"), [
    ("*/1 * * * *", "2026-01-01T10:00:30", "2026-01-01T10:01:00"),
    ("@hourly", "2026-01-01T10:00:00", "2026-01-01T11:00:00"),
    ("@daily", "2026-01-01T10:00:00", "2026-01-02T00:00:00"),
    ("@weekly", "2026-01-01T10:00:00", "2026-01-04T00:00:00"),  # a Sunday
    ("@monthly", "2026-01-31T10:00:00", "2026-02-01T00:00:00"),
    ("@yearly", "2026-01-01T10:00:00", "2027-01-01T00:00:00"),
    ("30 9 * * mon-fri", "2026-01-02T10:00:00", "2026-01-05T09:30:00"),  # Friday after 9:30 -> Monday
    ("0 0 13 * 5", "2026-01-01T00:00:00", "2026-01-02T00:00:00"),  # dom OR dow when neither is a star
    ("0 0 29 feb *", "2026-01-01T00:00:00", "2028-02-29T00:00:00"),
    ("15 */6 * jan,JUL ?", "2026-01-01T00:20:00", "2026-01-01T06:15:00"),
])
def test_next_activation(spec: str, after: str, expected: str) -> None:
    schedule = parse_schedule(spec)
    start = dt.datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert schedule.next_after(start) == dt.datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_every_descriptor() -> None:
    schedule = parse_schedule("@every 1h30m")
    assert schedule == EverySchedule(5400)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert schedule.next_after(start) == start + dt.timedelta(minutes=90)


fields = st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(1, 28), st.integers(1, 12),
                   st.integers(0, 6))


@given(fields, st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1)))
def test_next_after_is_the_first_matching_minute(values: tuple[int, int, int, int, int], when: dt.datetime) -> None:
    minute, hour, dom, month, _ = values
    schedule = parse_schedule(f"{minute} {hour} {dom} {month} *")
    assert isinstance(schedule, CronSchedule)
    start = when.replace(tzinfo=UTC)
    got = schedule.next_after(start)
    assert got is not None and got > start
    assert (got.minute, got.hour, got.day, got.month) == (minute, hour, dom, month)
    assert got - start <= dt.timedelta(days=366)


@given(st.integers(1, 59), st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1)))
def test_steps_match_every_multiple(step: int, when: dt.datetime) -> None:
    schedule = parse_schedule(f"*/{step} * * * *")
    start = when.replace(tzinfo=UTC)
    got = schedule.next_after(start)
    assert got is not None and got.minute % step == 0 and got > start
    assert got - start <= dt.timedelta(minutes=61)
