"""Cron schedules as a CronJob's ``spec.schedule`` reads them (robfig/cron v3 ``ParseStandard``).

Five fields (minute, hour, day of month, month, day of week) with ``*``, ``?``, lists, ranges,
steps and month/day names, the ``@yearly``/``@annually``/``@monthly``/``@weekly``/``@daily``/
``@midnight``/``@hourly`` descriptors and ``@every <duration>``. Parse errors carry robfig's
text, because the API server puts it unchanged into the 422 for a bad schedule. A pure module:
the API validates with it and the CronJob controller schedules with it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["CronError", "CronSchedule", "EverySchedule", "Schedule", "parse_schedule"]

MONTH_NAMES = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
DOW_NAMES = {name: n for n, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
#: How far ahead ``next_after`` looks before giving up (robfig: five years).
SEARCH_YEARS = 5


class CronError(ValueError):
    """A schedule robfig/cron refuses; ``str()`` is its error text."""


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


MINUTES = _Bounds(0, 59)
HOURS = _Bounds(0, 23)
DOM = _Bounds(1, 31)
MONTHS = _Bounds(1, 12, MONTH_NAMES)
DOW = _Bounds(0, 6, DOW_NAMES)


@dataclass(frozen=True)
class CronSchedule:
    """A five-field schedule: the allowed values of each field, and whether day-of-month or
    day-of-week was a star (robfig: when either is a star both must match, else either may)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    dom_star: bool
    dow_star: bool

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        """The first activation strictly after ``when`` (an aware datetime), in its time zone."""
        tz = when.tzinfo
        start = when.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = start.date()
        last = day.replace(year=day.year + SEARCH_YEARS) if not (day.month == 2 and day.day == 29) \
            else day + dt.timedelta(days=365 * SEARCH_YEARS)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        while day <= last:
            if self.day_matches(day):
                for hour in hours:
                    for minute in minutes:
                        candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                        if candidate >= start:
                            return candidate
            day += dt.timedelta(days=1)
        return None


@dataclass(frozen=True)
class EverySchedule:
    """``@every <duration>``: a constant delay (at least one second, whole seconds)."""

    seconds: int

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        return when.replace(microsecond=0) + dt.timedelta(seconds=self.seconds)


Schedule = CronSchedule | EverySchedule


def parse_schedule(spec: str) -> Schedule:
    """robfig/cron ``ParseStandard``: raise CronError with robfig's message when invalid.

    A leading ``TZ=``/``CRON_TZ=`` zone is accepted here (the API refuses it separately, with its
    own message, pointing at ``spec.timeZone``).
    """
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        zone, _, spec = spec.partition(" ")
        _load_zone(zone.split("=", 1)[1])
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            try:
                seconds = go_duration_seconds(spec[len("@every "):])
            except ValueError as exc:
                raise CronError(f"failed to parse duration {spec}: {exc}") from None
            return EverySchedule(max(1, int(seconds)))
        if spec not in DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    minutes, _ = _field(fields[0], MINUTES)
    hours, _ = _field(fields[1], HOURS)
    days, dom_star = _field(fields[2], DOM)
    months, _ = _field(fields[3], MONTHS)
    weekdays, dow_star = _field(fields[4], DOW)
    return CronSchedule(minutes, hours, days, months, weekdays, dom_star, dow_star)


_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float:
    """Go's ``time.ParseDuration`` (``1h30m``, ``90s``, ``1.5h``), in seconds."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _GO_DURATION_PART.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return -total if text.startswith("-") else total


def _load_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"provided bad location {name}: unknown time zone {name}") from None


def _field(text: str, bounds: _Bounds) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        got, is_star = _range(expr, bounds)
        values |= got
        star = star or is_star
    return frozenset(values), star


def _range(expr: str, bounds: _Bounds) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    single = len(low_high) == 1
    star = False
    if low_high[0] in ("*", "?"):
        start, end, star = bounds.low, bounds.high, True
    else:
        start = _int_or_name(low_high[0], bounds.names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], bounds.names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if single:
            end = bounds.high  # "N/step" means "N-max/step"
        if step <= 0:
            raise CronError(f"step of range should be a positive number: {expr}")
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise CronError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise CronError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    return set(range(start, end + 1, step)), star


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _int(expr)


def _int(expr: str) -> int:
    text = expr[1:] if expr[:1] in "+-" else expr
    if not text.isdigit() or not text.isascii():
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    num = int(expr)
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num
