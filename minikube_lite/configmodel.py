"""What every configuration model shares, the cluster file's (config/) and the mock cloud's
(cloud/config.py): unknown keys are errors, durations are Go-style strings or seconds, and a
validation error names the field path.

A leaf module (it imports nothing of the project) so the mock cloud can describe its own
configuration without depending on the cluster's, which embeds the cloud's.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

__all__ = ["StrictModel", "Duration", "parse_duration", "format_validation_error"]


class StrictModel(BaseModel):
    # Unknown keys are errors: a misspelt key silently ignored is the worst kind of config bug.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a Go-style duration (``"500ms"``, ``"2s"``, ``"1m30s"``)."""
    if isinstance(value, bool):
        raise ValueError(f'invalid duration "{value}"')
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f'invalid duration "{value}": must not be negative')
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f'invalid duration "{value}"')
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pos, seconds = 0, 0.0
        units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        for m in _DURATION_RE.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * units[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(f'invalid duration "{text}"') from None
    if seconds < 0:
        raise ValueError(f'invalid duration "{text}": must not be negative')
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

_FIELD_PREFIX = re.compile(r"^[A-Za-z][\w.\-/]*: ")


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic errors as ``path.to.field: why`` lines, in words a Kubernetes user reads."""
    lines: list[str] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        kind = err.get("type")
        if kind == "extra_forbidden":
            msg = "unknown field"
        elif kind == "missing":
            msg = "field required"
        elif kind == "literal_error":
            msg = f'unsupported value "{err.get("input")}": {msg}'
        if not loc:
            # Cross-field checks already name their fields ("nodes.2.zone: ...").
            lines.extend(part for part in msg.split("; "))
        elif _FIELD_PREFIX.match(msg):
            # A model-level check naming a sub-field ("zones: must not be empty").
            lines.extend(f"{loc}.{part}" for part in msg.split("; "))
        else:
            lines.append(f"{loc}: {msg}")
    return "; ".join(lines)
