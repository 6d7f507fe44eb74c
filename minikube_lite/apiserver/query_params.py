"""The query parameters every verb shares: ``dryRun``, integers such as ``limit``, resourceVersions."""

from __future__ import annotations

from collections.abc import Mapping

from . import errors
from .errors import ApiError

Query = Mapping[str, str]


def dry_run(query: Query) -> bool:
    """``?dryRun=All``: the write is checked in full but nothing is stored (other values are refused)."""
    value = query.get("dryRun")
    if value is None:
        return False
    if value != "All":
        raise ApiError(422, "Invalid", f'DryRun: Unsupported value: "{value}": supported values: "All"', {})
    return True


def int_param(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid value for {name}: {raw!r}") from None


def parse_resource_version(raw: str | None) -> int | None:
    """A resourceVersion parameter or field as a number (None when absent), upstream's 400 otherwise."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{raw}": invalid syntax') from None
    if value < 0:
        raise errors.bad_request(f"invalid resource version: {raw}")
    return value
