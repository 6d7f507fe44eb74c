"""Real log lines for ``pods/log``: the API server asks an injected :class:`LogSource` whether a
pod's container stands for a component that logs (the kube-system pods of the in-process
scheduler, controller-manager, CSI sidecars...) and serves its lines with the kubelet's options:
``tailLines``, ``sinceSeconds``/``sinceTime``, ``timestamps`` (RFC 3339 with nanoseconds before
each line) and ``follow``. The API layer knows only this protocol, not who logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ...clock import parse_time, rfc3339_micro
from .. import errors

JSON = dict[str, Any]


class LogLineLike(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def time(self) -> float: ...

    @property
    def text(self) -> str: ...


class LogSource(Protocol):
    def component_of(self, pod: JSON, container: str) -> str | None:
        """The component whose log this container shows, or None (the synthetic log then)."""
        ...

    def lines(self, component: str, after: int = 0) -> Sequence[LogLineLike]: ...

    async def wait(self, timeout: float) -> None:
        """Return when new lines may be there (or after ``timeout`` seconds)."""
        ...


def _int_option(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'{name}: Invalid value: "{value}": must be an integer') from None


def select_lines(lines: Sequence[LogLineLike], query: Mapping[str, str], now: float) -> list[LogLineLike]:
    """sinceSeconds/sinceTime first, then tailLines (as the kubelet applies them)."""
    since_seconds = _int_option(query, "sinceSeconds")
    since: float | None = None
    if since_seconds is not None:
        since = now - since_seconds
    elif query.get("sinceTime"):
        since = parse_time(query["sinceTime"])
    picked = [line for line in lines if since is None or line.time >= since]
    tail = _int_option(query, "tailLines")
    if tail is not None and tail >= 0:
        picked = picked[-tail:] if tail > 0 else []
    return picked


def render(lines: Sequence[LogLineLike], query: Mapping[str, str]) -> str:
    stamps = query.get("timestamps", "").lower() in ("true", "1")
    out = []
    for line in lines:
        if stamps:
            out.append(f"{rfc3339_nano(line.time)} {line.text}\n")
        else:
            out.append(line.text + "\n")
    return "".join(out)


def rfc3339_nano(epoch: float) -> str:
    """The CRI log timestamp: RFC 3339 with nanoseconds."""
    micro = rfc3339_micro(epoch)  # 2026-12-04T15:34:05.123456Z
    return micro[:-1] + "000Z" if micro.endswith("Z") else micro
