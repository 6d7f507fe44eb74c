"""Ages as ``kubectl get`` prints them.

The server computes every Age cell itself (kubectl prints the string it is sent), so the
rounding must be apimachinery's ``HumanDuration`` to the letter: ``5m``, ``2m14s``, ``3d4h``.
Arithmetic is done in integer nanoseconds, as Go's ``time.Duration`` does, so truncation at
every step matches upstream (``apimachinery/pkg/util/duration/duration.go``).
"""

from __future__ import annotations

from minikube_lite.clock import parse_time

UNKNOWN = "<unknown>"
INVALID = "<invalid>"

_NS = 1_000_000_000
_MINUTE = 60 * _NS
_HOUR = 60 * _MINUTE

# Go's zero time.Time serialises as this; metav1.Time.IsZero() treats it as "no timestamp".
_ZERO_TIMES = {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"}


def _go_div(a: int, b: int) -> int:
    """Go integer division truncates toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _to_ns(seconds: float) -> int:
    return int(round(seconds * _NS))


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: a short, precision-losing rendering for Age cells.

    Up to one second in the future still reads ``0s`` (clock skew tolerance); further in the
    future is ``<invalid>``.
    """
    d = _to_ns(seconds)
    secs = _go_div(d, _NS)
    if secs < -1:
        return INVALID
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = d // _MINUTE
    if minutes < 10:
        s = (d // _NS) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(seconds: float) -> str:
    """``duration.ShortHumanDuration``: one unit only (``45s``, ``3m``, ``5h``, ``2d``, ``1y``)."""
    d = _to_ns(seconds)
    secs = _go_div(d, _NS)
    if secs < -1:
        return INVALID
    if secs < 0:
        return "0s"
    if secs < 60:
        return f"{secs}s"
    minutes = d // _MINUTE
    if minutes < 60:
        return f"{minutes}m"
    hours = d // _HOUR
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(value: object) -> float | None:
    """A ``metav1.Time`` string to epoch seconds; None for missing, zero or unreadable values."""
    if not isinstance(value, str) or not value or value in _ZERO_TIMES:
        return None
    return parse_time(value)


def age(creation_timestamp: str | None, now: float) -> str:
    """printers ``translateTimestampSince``: ``<unknown>`` for a zero or missing timestamp."""
    ts = parse_timestamp(creation_timestamp)
    if ts is None:
        return UNKNOWN
    return human_duration(now - ts)
